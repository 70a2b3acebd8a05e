"""empty-text: no title, stem, option, feedback, guidance, objective, definition or lesson is empty.

Passing: `feedback: Right: the council decides, after hearing the villages.`
Failing:
    b:
      text: Ask the district governor.
      feedback: ""                      # item 't01' option 'b': feedback is empty
A Markdown file with front matter and no body is empty too.
"""

from engine.content.walk import Report, as_map, maps_in

ID = "empty-text"


def blank(value: object) -> bool:
    return isinstance(value, str) and not value.strip()


def walk_strings(report: Report, path: str, data, what: str) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            if blank(value):
                report(path, data.at(key), f"{what}: {key} is empty")
            elif isinstance(value, (dict, list)):
                walk_strings(report, path, value, f"{what} {key}" if what else str(key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            if blank(value):
                report(path, data.at(i), f"{what}: entry {i + 1} is empty")
            elif isinstance(value, (dict, list)):
                walk_strings(report, path, value, what)


def check(tree):
    report = Report(ID)
    if tree.course is not None and as_map(tree.course.data) is not None:
        walk_strings(report, tree.course.path, tree.course.data, "course")
    for file in tree.glossaries.values():
        for term in maps_in((as_map(file.data) or {}).get("terms")):
            walk_strings(report, file.path, term, f"glossary term {term.get('id')!r}")
    for by_module in tree.text.values():
        for text in by_module.values():
            if text.items is not None and as_map(text.items.data) is not None:
                for item_id, entry in text.items.data.items():
                    walk_strings(report, text.items.path, entry, f"item {item_id!r}")
            markdown = [text.module_md, text.exercise_md, *text.sections.values(), *text.notes.values()]
            for file in markdown:
                if file is None or not file.readable:
                    continue
                walk_strings(report, file.path, file.data, "front matter")
                if file is not text.module_md and not file.body.strip():
                    report(file.path, (file.body_line, 1), "the text after the front matter is empty")
    return report.problems
