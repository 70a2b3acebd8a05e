"""schema: every file has the fields its kind declares (engine/content/schema.py), of the right type,
and no others; numbers are in range and item types are known.

Passing (modules/NN.yaml):
    sections:
      - id: why-engage
        minutes: 40
        checks: [why-engage-1, why-engage-2]
Failing:
    sections:
      - id: why-engage
        minutes: forty                   # expected a whole number, got text 'forty'
        chekcs: [why-engage-1]           # unknown field 'chekcs' (expected one of: checks, id, minutes)
                                         # missing field 'checks' (...)
"""

from engine.content import schema as s
from engine.content.walk import Report, as_map, maps_in, module_decls

ID = "schema"


def fields(report: Report, path: str, data: object, spec: dict, what: str, where=(1, 1)) -> dict:
    """Check one mapping against its declaration; return the fields whose values fit."""
    mapping = as_map(data)
    if mapping is None:
        report(path, getattr(data, "pos", where), f"{what}: expected a mapping, got {s.describe(data)}")
        return {}
    good = {}
    for key in mapping:
        if key not in spec:
            report(path, mapping.key_at(key),
                   f"{what}: unknown field {key!r} (expected one of: {', '.join(sorted(spec))})")
    for key, field in spec.items():
        if key not in mapping:
            if field.required:
                report(path, mapping.pos, f"{what}: missing field {key!r}: {field.doc}")
            continue
        value = mapping[key]
        if not s.fits(field.kind, value):
            report(path, mapping.at(key),
                   f"{what}: field {key!r}: expected {s.EXPECTED[field.kind]}, got {s.describe(value)}")
        else:
            good[key] = value
    return good


def number_in(report, path, mapping, key, low, high, what):
    value = mapping.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and not low <= value <= high:
        report(path, mapping.at(key), f"{what}: {key} must be between {low} and {high}, got {value}")


def check_course(report: Report, tree) -> None:
    if tree.course is None or not tree.course.readable:
        return
    path = tree.course.path
    good = fields(report, path, tree.course.data, s.COURSE, "course")
    course = as_map(tree.course.data) or {}
    number_in(report, path, course, "pass_mark", 0, 100, "course")
    number_in(report, path, course, "post_test_attempts", 1, 100, "course")
    for lang in good.get("languages", []):
        if lang not in tree.text and lang not in ("km", "en"):
            report(path, course.at("languages"), f"course: unknown language {lang!r} (expected km or en)")
    for entry in course.get("modules", []) if "modules" in good else []:
        fields(report, path, entry, s.COURSE_MODULE, "course module", course.at("modules"))


def check_module(report: Report, decl) -> None:
    path, data = decl.file.path, decl.data
    good = fields(report, path, data, s.MODULE, f"module {decl.id}")
    number_in(report, path, data, "pass_mark", 0, 100, f"module {decl.id}")
    for section in maps_in(data.get("sections")) if "sections" in good else []:
        fields(report, path, section, s.SECTION, "section")
        number_in(report, path, section, "minutes", 1, 600, "section")
    for entry in data.get("sections", []) if "sections" in good else []:
        if not isinstance(entry, dict):
            fields(report, path, entry, s.SECTION, "section", data.at("sections"))
    if "exercise" in good:
        fields(report, path, data["exercise"], s.EXERCISE, "exercise")
        number_in(report, path, data["exercise"], "minutes", 1, 600, "exercise")
    if "tests" in good:
        fields(report, path, data["tests"], s.TESTS, "tests")
    for item_id, item in (data["items"].items() if "items" in good else []):
        got = fields(report, path, item, s.ITEM, f"item {item_id}", data["items"].at(item_id))
        if "type" in got and got["type"] not in s.ITEM_TYPES:
            report(path, item.at("type"),
                   f"item {item_id}: type: expected one of {', '.join(s.ITEM_TYPES)}, got {got['type']!r}")


def check_markdown(report: Report, tree) -> None:
    for by_module in tree.text.values():
        for text in by_module.values():
            files = [(text.module_md, s.MODULE_MD), (text.exercise_md, s.EXERCISE_MD)]
            files += [(f, s.SECTION_MD) for f in text.sections.values()]
            files += [(f, s.NOTES_MD) for f in text.notes.values()]
            for file, spec in files:
                if file is not None and file.readable:
                    fields(report, file.path, file.data, spec, "front matter")
            items = text.items
            if items is None or not items.readable:
                continue
            wording = as_map(items.data)
            if wording is None:
                report(items.path, (1, 1), f"items: expected a mapping of item id to wording, "
                       f"got {s.describe(items.data)}")
                continue
            for item_id, entry in wording.items():
                got = fields(report, items.path, entry, s.WORDING, f"item {item_id}", wording.at(item_id))
                for option_id, option in (got.get("options") or {}).items():
                    spec = s.OPTION if option_id not in s.TRUE_FALSE_OPTIONS else {
                        **s.OPTION, "text": s.Field("text", False, s.OPTION["text"].doc)}
                    fields(report, items.path, option, spec, f"item {item_id} option {option_id}",
                           got["options"].at(option_id))


def check_glossaries(report: Report, tree) -> None:
    for file in tree.glossaries.values():
        if not file.readable:
            continue
        good = fields(report, file.path, file.data, s.GLOSSARY, "glossary")
        for term in good.get("terms", []):
            fields(report, file.path, term, s.TERM, "glossary term", good["terms"].pos)


def check(tree):
    report = Report(ID)
    check_course(report, tree)
    for decl in module_decls(tree):
        check_module(report, decl)
    for module_id, file in tree.modules.items():
        if file.readable and not isinstance(file.data, dict):
            report(file.path, (1, 1), f"module {module_id}: expected a mapping, got {s.describe(file.data)}")
    check_markdown(report, tree)
    check_glossaries(report, tree)
    return report.problems
