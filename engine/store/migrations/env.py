"""Alembic's entry point. engine.store.db.migrate() hands it an open connection in
config.attributes["connection"]; without one (the `alembic` command, for writing a new revision)
it connects to SALA_DATABASE_URL."""

from alembic import context

from engine.store.models import Base


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    if context.is_offline_mode():
        raise SystemExit("Sala's migrations run against a database; offline (--sql) mode is not supported")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    from engine.settings import load_settings
    from engine.store.db import make_engine

    engine = make_engine(load_settings())
    try:
        with engine.begin() as connection:
            run(connection)
    finally:
        engine.dispose()


main()
