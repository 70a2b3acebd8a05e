"""`sala`: the command line. Errors reach the user as one clean line, never a traceback."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from engine.errors import SalaError
from engine.settings import load_settings


def cmd_validate(args) -> int:
    from engine.content import ERROR, WARNING, summary, validate

    root = Path(args.root) if args.root else load_settings().content_root
    problems = validate(root)
    for problem in problems:
        print(problem)
    print(summary(problems))
    failing = {ERROR, WARNING} if args.strict else {ERROR}
    return 1 if any(p.level in failing for p in problems) else 0


def cmd_migrate(args) -> int:
    from engine.store.db import make_engine, migrate

    settings = load_settings()
    revision = migrate(make_engine(settings))
    print(f"database at revision {revision}")
    return 0


def cmd_demo(args) -> int:
    from engine.demo import build_demo

    counts = build_demo(load_settings(), seed=args.seed)
    print("demo population ready: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    return 0


def cmd_export_session(args) -> int:
    from engine.bundle import export_session, find_session
    from engine.store.db import make_engine, migrate, session_factory

    engine = make_engine(load_settings())
    migrate(engine)
    with session_factory(engine)() as session:
        found = find_session(session, args.session)
        data = export_session(session, session_id=found.id)
    out = Path(args.output)
    partial = out.with_name(out.name + ".partial")
    try:
        partial.write_bytes(data)
        partial.replace(out)  # never leave half a bundle under the name the facilitator will carry
    except OSError as exc:
        raise SalaError(f"{out}: cannot write the bundle: {exc.strerror}") from exc
    print(f"wrote {out}: classroom session {found.id} (join code {found.join_code}), {len(data):,} bytes")
    if found.state == "open":
        print("note: the session is still open; if it goes on after this export, a later export of it will "
              "conflict with this one on the server: close the session, then export it")
    return 0


def cmd_import_bundle(args) -> int:
    from engine.bundle import import_bundle, report_lines
    from engine.store.db import make_engine, migrate, session_factory, transaction

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SalaError(f"{path}: cannot read the bundle: {exc.strerror}") from exc
    engine = make_engine(load_settings())
    migrate(engine)
    with transaction(session_factory(engine)) as session:
        report = import_bundle(session, data, name=str(path))
    for line in report_lines(report):
        print(line)
    return 0 if report.written else 1


def cmd_backup(args) -> int:
    from engine.backup import backup

    report = backup(load_settings(), Path(args.file) if args.file else None, force=args.force)
    print(f"wrote {report.path}: schema revision {report.revision or '(none: never migrated)'}, "
          f"{report.size:,} bytes, sha256 {report.sha256}")
    return 0


def cmd_restore(args) -> int:
    from engine.backup import restore

    report = restore(load_settings(), Path(args.file), force=args.force)
    print(f"restored {args.file} into {report.target}: schema revision {report.backup_revision}"
          + (f", migrated to {report.revision}" if report.revision != report.backup_revision else ""))
    if report.aside is not None:
        print(f"the database it replaced is kept as {report.aside}")
    return 0


def cmd_bench(args) -> int:
    from engine.bench.run import main

    given = args.bench_args
    return main(given[1:] if given[:1] == ["--"] else given)


def cmd_summaries(args) -> int:
    from engine import summaries
    from engine.store.db import make_engine, migrate, session_factory, transaction

    engine = make_engine(load_settings())
    migrate(engine)
    with transaction(session_factory(engine)) as session:
        written = summaries.refresh(session)
    print(f"rebuilt {written:,} module summaries from the record")
    return 0


def cmd_serve(args) -> int:
    app = Path(__file__).resolve().parent / "app" / "main.py"
    address = "0.0.0.0" if args.lan else "127.0.0.1"
    if args.lan:
        from engine.net import lan_addresses

        for ip in lan_addresses():
            print(f"Participants on this network can join at http://{ip}:{args.port}")
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(args.port),
               "--server.address", address, "--server.headless", "true",
               "--browser.gatherUsageStats", "false"]
    # Streamlit reads .streamlit/config.toml (theme, Khmer font, static files) from the working folder.
    # exec, not a child process: the PID a supervisor or test holds is the server's own.
    os.chdir(app.parent)
    sys.stdout.flush()
    os.execv(sys.executable, command)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sala", description="Sala: NASLA's course delivery engine.")
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check the course and print every problem")
    v.add_argument("--root", help="the content root (default: SALA_CONTENT_ROOT or the repository)")
    v.add_argument("--strict", action="store_true", help="fail on warnings too")
    v.set_defaults(func=cmd_validate)
    sub.add_parser("migrate", help="create or upgrade the database").set_defaults(func=cmd_migrate)
    d = sub.add_parser("demo", help="load the demo population (idempotent)")
    d.add_argument("--seed", type=int, default=2026)
    d.set_defaults(func=cmd_demo)
    e = sub.add_parser("export-session", help="write a classroom session's bundle, to carry to the national server")
    e.add_argument("session", metavar="SESSION_ID_OR_JOIN_CODE")
    e.add_argument("-o", "--output", required=True, metavar="FILE", help="the bundle to write (.zip)")
    e.set_defaults(func=cmd_export_session)
    i = sub.add_parser("import-bundle", help="merge a classroom session's bundle into this database")
    i.add_argument("file", metavar="FILE")
    i.set_defaults(func=cmd_import_bundle)
    b = sub.add_parser("backup", help="copy the database to a file, safely while the app runs (PostgreSQL: pg_dump)")
    b.add_argument("file", nargs="?", metavar="FILE",
                   help="where to write it (default: var/backups/sala-<UTC time>.db beside a SQLite database)")
    b.add_argument("--force", action="store_true", help="replace FILE if it exists")
    b.set_defaults(func=cmd_backup)
    r = sub.add_parser("restore", help="replace the SQLite database with a backup (PostgreSQL: prints the commands)")
    r.add_argument("file", metavar="FILE")
    r.add_argument("--force", action="store_true",
                   help="restore even if the database is in use or at a newer schema than the backup")
    r.set_defaults(func=cmd_restore)
    n = sub.add_parser("bench", help="time Sala on a synthetic country beside raw-SQL lower bounds (see README)",
                       add_help=False)
    n.add_argument("bench_args", nargs=argparse.REMAINDER)
    n.set_defaults(func=cmd_bench)
    m = sub.add_parser("summaries", help="rebuild the per learner and module summaries from the record")
    m.add_argument("--rebuild", action="store_true", required=True)
    m.set_defaults(func=cmd_summaries)
    s = sub.add_parser("serve", help="run the web app")
    s.add_argument("--port", type=int, default=8501)
    s.add_argument("--lan", action="store_true", help="listen on the local network (classroom mode)")
    s.set_defaults(func=cmd_serve)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:  # its own options, parsed by engine.bench.run
        argv = ["bench", "--", *argv[1:]]
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except SalaError as exc:
        print(f"sala: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
