"""duplicate-id: an id names one thing. No module listed twice in the course, no section, objective
or glossary term id twice, no item in the checks of two sections, no knowledge-check item reused in
a test, no item twice in one list.

Passing: `tests: {pre: [t01, t02], post: [t01, t02]}` (pre and post share items on purpose).
Failing:
    sections:
      - id: why-engage
      - id: why-engage                   # section id 'why-engage' is used twice (first on line 4)
"""

from engine.content.walk import Report, as_map, course_map, ids_in, maps_in, module_decls

ID = "duplicate-id"


def once(report: Report, path: str, entries, what: str) -> None:
    seen: dict[str, tuple] = {}
    for value, pos in entries:
        if value in seen:
            report(path, pos, f"{what} {value!r} is used twice (first on line {seen[value][0]})")
        else:
            seen[value] = pos


def check(tree):
    report = Report(ID)
    course = course_map(tree)
    if course is not None:
        once(report, tree.course.path,
             [(m["id"], m.at("id")) for m in maps_in(course.get("modules")) if isinstance(m.get("id"), str)],
             "module id")
    for decl in module_decls(tree):
        path = decl.file.path
        once(report, path, [(s["id"], s.at("id")) for s in decl.sections()], "section id")
        once(report, path, list(ids_in(decl.data.get("objectives"))), "objective id")
        exercise = decl.exercise()
        if exercise and exercise["id"] in decl.section_ids():
            report(path, exercise.at("id"), f"exercise id {exercise['id']!r} is also a section id")
        once(report, path, [(i, pos) for i, where, _, pos in decl.uses() if where.startswith("checks")
                            or where == "exercise items"], "item (in checks or exercise)")
        tests = as_map(decl.data.get("tests")) or {}
        for kind in ("pre", "post"):
            once(report, path, list(ids_in(tests.get(kind))), f"{kind}-test item")
        checks = {i for i, where, _, _ in decl.uses() if where.startswith("checks")}
        for item_id, where, _, pos in decl.uses():
            if where.endswith("-test") and item_id in checks:
                report(path, pos, f"item {item_id!r} is a knowledge check and also in {where}; "
                       "tests need their own items")
    terms = []
    for _, file in sorted(tree.glossaries.items()):
        for term in maps_in((as_map(file.data) or {}).get("terms")):
            if isinstance(term.get("id"), str):
                terms.append((term["id"], term.at("id"), file.path))
    seen = {}
    for term_id, pos, path in terms:
        if term_id in seen:
            report(path, pos, f"glossary term id {term_id!r} is used twice (first in {seen[term_id]})")
        else:
            seen[term_id] = f"{path}:{pos[0]}"
    return report.problems
