"""unknown-id: every id names something that exists, and every declared thing is used.

Checks: a module file's `id` equals its file name and is listed in course.yaml; a content folder
belongs to a declared module; a front matter `id` equals its file name; a lesson, notes file,
objective or item wording names a declared section, exercise, objective or item; every item used in
checks, exercise or tests is declared under `items`, and every declared item is used.

Passing: `checks: [why-engage-1]` with `items: {why-engage-1: {...}}`.
Failing:
    modules/01-engagement.yaml:9:15: [error] checks of section 'why-engage' use item 'why-engage-3',
    which is not declared under items (unknown-id)
"""

from engine.content.schema import ITEM_TYPES
from engine.content.walk import Report, as_map, course_map, ids_in, maps_in, module_decls

ID = "unknown-id"


def check_course(report: Report, tree) -> set[str]:
    course = course_map(tree)
    listed = set()
    for entry in maps_in(course.get("modules")) if course else []:
        if isinstance(entry.get("id"), str):
            listed.add(entry["id"])
    for module_id, file in sorted(tree.modules.items()):
        data = as_map(file.data)
        if data is not None and isinstance(data.get("id"), str) and data["id"] != module_id:
            report(file.path, data.at("id"), f"module id {data['id']!r} differs from the file name {module_id!r}")
        if course is not None and module_id not in listed:
            report(file.path, (1, 1), f"module {module_id!r} is not listed in course/course.yaml modules")
    return listed


def check_uses(report: Report, decl) -> None:
    declared = decl.items
    sections = set(decl.section_ids())
    for item_id, item in declared.items():
        if isinstance(item, dict) and isinstance(item.get("section"), str) and item["section"] not in sections:
            report(decl.file.path, item.at("section"),
                   f"item {item_id!r} names section {item['section']!r}, which the module does not have")
    used = set()
    for item_id, where, _, pos in decl.uses():
        used.add(item_id)
        if item_id not in declared:
            report(decl.file.path, pos, f"{where} use item {item_id!r}, which is not declared under items")
    for item_id in declared:
        if item_id not in used:
            report(decl.file.path, declared.key_at(item_id),
                   f"item {item_id!r} is declared but used in no section, exercise or test")


def check_front_ids(report: Report, files: dict, known: set[str], kind: str) -> None:
    for name, file in sorted(files.items()):
        data = as_map(file.data)
        if data is not None and isinstance(data.get("id"), str) and data["id"] != name:
            report(file.path, data.at("id"), f"front matter id {data['id']!r} differs from the file name {name!r}")
        if name not in known:
            report(file.path, (1, 1), f"{kind} {name!r} is not declared in the module's modules/ file")


def check_wording(report: Report, decl, text) -> None:
    check_front_ids(report, text.sections, set(decl.section_ids()), "section")
    exercise = decl.exercise()
    note_ids = set(decl.section_ids()) | ({exercise["id"]} if exercise else set())
    check_front_ids(report, text.notes, note_ids, "section or exercise")
    for file, expected in ((text.module_md, decl.id), (text.exercise_md, exercise["id"] if exercise else None)):
        data = as_map(file.data) if file else None
        if data is not None and expected and isinstance(data.get("id"), str) and data["id"] != expected:
            report(file.path, data.at("id"), f"id {data['id']!r}: expected {expected!r}")
    objectives = {o for o, _ in ids_in(decl.data.get("objectives"))}
    front = as_map(text.module_md.data) if text.module_md else None
    for objective in as_map(front.get("objectives")) or {} if front else {}:
        if objective not in objectives:
            report(text.module_md.path, front["objectives"].key_at(objective),
                   f"objective {objective!r} is not declared in modules/{decl.id}.yaml objectives")
    wording = as_map(text.items.data) if text.items else None
    for item_id in wording or {}:
        if item_id not in decl.items:
            report(text.items.path, wording.key_at(item_id),
                   f"item {item_id!r} is not declared in modules/{decl.id}.yaml items")
            continue
        if as_map(decl.items[item_id]) is None or decl.items[item_id].get("type") not in ITEM_TYPES:
            continue  # the schema rule reports the item itself
        declared_options = {o for o, _ in ids_in(as_map(decl.items[item_id]).get("options"))} \
            if as_map(decl.items[item_id]) else set()
        if as_map(decl.items[item_id]) and decl.items[item_id].get("type") == "true_false":
            declared_options = {"true", "false"}
        options = as_map(as_map(wording[item_id]).get("options")) if as_map(wording[item_id]) else None
        for option_id in options or {}:
            if option_id not in declared_options:
                report(text.items.path, options.key_at(option_id),
                       f"item {item_id!r}: option {option_id!r} is not declared in modules/{decl.id}.yaml")


def check(tree):
    report = Report(ID)
    listed = check_course(report, tree)
    decls = {d.id: d for d in module_decls(tree)}
    for decl in decls.values():
        check_uses(report, decl)
    for _lang, by_module in sorted(tree.text.items()):
        for folder, text in sorted(by_module.items()):
            if folder not in tree.modules and folder not in listed:
                report(text.folder + "/", (1, 1), f"content folder {folder!r} belongs to no module in modules/")
            elif folder in decls:
                check_wording(report, decls[folder], text)
    return report.problems
