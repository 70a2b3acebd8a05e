"""missing-translation: whatever one language has, every language has: course and module titles,
objectives, the wording of every item and of every option, glossary terms and definitions.

Passing: item `t01` with options a-d has a stem and options a-d (text + feedback) in
content/km/.../items.yaml and in content/en/.../items.yaml.
Failing:
    content/km/01-engagement/items.yaml:40:3: [error] item 't01' in km has no wording for option 'd'
    (missing-translation)
Missing whole files are the missing-file rule's problems.
"""

from engine.content.walk import Report, as_map, course_languages, course_map, ids_in, maps_in, module_decls

ID = "missing-translation"


def check_texts(report: Report, path: str, owner, key: str, languages: list[str], what: str) -> None:
    texts = as_map(owner.get(key))
    if texts is None:
        return
    for lang in languages:
        if lang not in texts:
            report(path, owner.at(key), f"{what} has no {lang} text")


def check_module(report: Report, decl, lang: str, text) -> None:
    if text.module_md is not None and as_map(text.module_md.data) is not None:
        objectives = as_map(text.module_md.data.get("objectives")) or {}
        for objective, _ in ids_in(decl.data.get("objectives")):
            if objective not in objectives:
                report(text.module_md.path, text.module_md.data.at("objectives"),
                       f"objective {objective!r} has no {lang} wording")
    wording = as_map(text.items.data) if text.items else None
    if wording is None:
        return
    for item_id, item in decl.items.items():
        item = as_map(item)
        if item is None:
            continue
        if item_id not in wording:
            report(text.items.path, (1, 1), f"item {item_id!r} has no {lang} wording")
            continue
        options = as_map((as_map(wording[item_id]) or {}).get("options"))
        wanted = [o for o, _ in ids_in(item.get("options"))]
        if item.get("type") == "true_false":
            wanted = ["true", "false"]
        if wanted and options is None:
            report(text.items.path, wording.key_at(item_id), f"item {item_id!r} in {lang} has no options")
            continue
        for option in wanted:
            if option not in options:
                report(text.items.path, wording.key_at(item_id),
                       f"item {item_id!r} in {lang} has no wording for option {option!r}")


def check(tree):
    report = Report(ID)
    languages = course_languages(tree)
    course = course_map(tree)
    if course is not None:
        for key in ("title", "issuer"):
            check_texts(report, tree.course.path, course, key, languages, f"course {key}")
        for entry in maps_in(course.get("modules")):
            check_texts(report, tree.course.path, entry, "title", languages, f"module {entry.get('id')!r} title")
    for decl in module_decls(tree):
        for lang in languages:
            text = tree.text.get(lang, {}).get(decl.id)
            if text is not None:
                check_module(report, decl, lang, text)
    for file in tree.glossaries.values():
        for term in maps_in((as_map(file.data) or {}).get("terms")):
            for lang in languages:
                if lang in ("km", "en") and lang not in term:
                    report(file.path, term.pos, f"glossary term {term.get('id')!r} has no {lang} term")
            check_texts(report, file.path, term, "definition", languages, f"glossary term {term.get('id')!r}")
    return report.problems
