"""Every validation rule: a change to the valid sample -> the exact problem, with its place and rule."""

import pytest

from engine.content import validate
from engine.content.rules import REGISTRY

pytestmark = pytest.mark.content

M = "modules/01-engagement.yaml"
EN = "content/en/01-engagement"
KM = "content/km/01-engagement"


def replace(path, old, new):
    def change(root):
        file = root / path
        text = file.read_text(encoding="utf-8")
        assert old in text, f"test setup: {old!r} not in {path}"
        file.write_text(text.replace(old, new, 1), encoding="utf-8")
    return change


def write_bytes(path, data):
    def change(root):
        (root / path).write_bytes(data)
    return change


def delete(path):
    def change(root):
        (root / path).unlink()
    return change


CASES = [
    # encoding
    ("utf16", write_bytes(f"{EN}/items.yaml", "t01:\n  stem: x\n".encode("utf-16")),
     f"{EN}/items.yaml:1:1: [error] the file is UTF-16; save it as UTF-8 (encoding)"),
    ("cp1252", write_bytes(f"{EN}/notes/dialogue.md", "---\nid: dialogue\n---\ncaf\u00e9\n".encode("cp1252")),
     f"{EN}/notes/dialogue.md:4:4: [error] not UTF-8: byte 0xe9 cannot be decoded; save the file as UTF-8 "
     "(encoding)"),
    ("nul", write_bytes(f"{EN}/notes/dialogue.md", b"---\nid: dialogue\n---\nab\x00c\n"),
     f"{EN}/notes/dialogue.md:4:3: [error] NUL byte: the file is binary or corrupted (encoding)"),
    ("huge", write_bytes(f"{EN}/notes/dialogue.md", b"---\nid: dialogue\n---\n" + b"x" * (3 * 1024 * 1024)),
     f"{EN}/notes/dialogue.md:1:1: [error] file is 3.0 MB; the limit is 2 MB (encoding)"),
    # yaml-syntax
    ("colon in plain scalar", replace(f"{EN}/items.yaml", "stem: What can visitors", "stem: Note: what can"),
     f"{EN}/items.yaml:2:13: [error] YAML syntax: mapping values are not allowed in this context (yaml-syntax)"),
    ("duplicate key", replace(M, "    minutes: 20\n", "    minutes: 20\n    minutes: 25\n"),
     f"{M}:6:5: [error] duplicate key 'minutes' (first on line 5) (yaml-syntax)"),
    ("front matter syntax", replace(f"{KM}/sections/why-engage.md", "id: why-engage", "id: [why-engage"),
     f"{KM}/sections/why-engage.md:3:6: [error] YAML syntax: did not find expected ',' or ']' "
     "(while parsing a flow sequence) (yaml-syntax)"),
    # front-matter
    ("no front matter", replace(f"{EN}/exercise.md", "---\nid: dialogue\n", "id: dialogue\n"),
     f"{EN}/exercise.md:1:1: [error] missing front matter: the file must start with a line '---', then YAML "
     "(id, title), then '---' (front-matter)"),
    ("unclosed", write_bytes(f"{EN}/notes/dialogue.md", b"---\nid: dialogue\nSixty minutes.\n"),
     f"{EN}/notes/dialogue.md:1:1: [error] front matter is not closed: no second '---' line (front-matter)"),
    # missing-file
    ("missing lesson", delete(f"{KM}/sections/stakeholder-map.md"),
     f"{M}:7:9: [error] section 'stakeholder-map' has no lesson in km: expected "
     f"{KM}/sections/stakeholder-map.md (missing-file)"),
    ("missing exercise notes", delete(f"{EN}/notes/dialogue.md"),
     f"{M}:11:7: [error] exercise 'dialogue' has no facilitator notes in en: expected {EN}/notes/dialogue.md "
     "(missing-file)"),
    ("module not declared", replace("course/course.yaml", "  - id: 01-engagement", "  - id: 02-data"),
     "course/course.yaml:12:9: [error] module '02-data' has no declaration: expected modules/02-data.yaml "
     "(missing-file)"),
    # schema
    ("wrong type", replace(M, "minutes: 20", "minutes: twenty"),
     f"{M}:5:14: [error] section: field 'minutes': expected a whole number, got text 'twenty' (schema)"),
    ("unknown field", replace(M, "    checks: [why-engage-1", "    chekcs: [why-engage-1"),
     f"{M}:6:5: [error] section: unknown field 'chekcs' (expected one of: checks, id, minutes) (schema)"),
    ("missing field", replace(f"{EN}/sections/why-engage.md", "title: Why listen to citizens?\n", ""),
     f"{EN}/sections/why-engage.md:2:1: [error] front matter: missing field 'title': The section title. (schema)"),
    ("unknown item type", replace(M, "    type: true_false\n    key: false", "    type: yes_no\n    key: false"),
     f"{M}:23:11: [error] item why-engage-2: type: expected one of single, multiple, true_false, short_text, "
     "got 'yes_no' (schema)"),
    ("pass mark range", replace("course/course.yaml", "pass_mark: 70", "pass_mark: 170"),
     "course/course.yaml:9:12: [error] course: pass_mark must be between 0 and 100, got 170 (schema)"),
    # unknown-id
    ("undeclared item", replace(M, "checks: [why-engage-1, why-engage-2]", "checks: [why-engage-1, why-engage-3]"),
     f"{M}:6:28: [error] checks of section 'why-engage' use item 'why-engage-3', which is not declared under "
     "items (unknown-id)"),
    ("front matter id", replace(f"{EN}/sections/why-engage.md", "id: why-engage", "id: why-listen"),
     f"{EN}/sections/why-engage.md:2:5: [error] front matter id 'why-listen' differs from the file name "
     "'why-engage' (unknown-id)"),
    ("wording for unknown option", replace(f"{KM}/items.yaml", "    c:\n      text: តម្លៃ", "    e:\n      text: តម្លៃ"),
     f"{KM}/items.yaml:10:5: [error] item 'why-engage-1': option 'e' is not declared in "
     "modules/01-engagement.yaml (unknown-id)"),
    ("test item names an unknown section", replace(M, "    section: why-engage", "    section: why-listen"),
     f"{M}:39:14: [error] item 't01' names section 'why-listen', which the module does not have (unknown-id)"),
    # duplicate-id
    ("duplicate section", replace(M, "  - id: stakeholder-map", "  - id: why-engage"),
     f"{M}:7:9: [error] section id 'why-engage' is used twice (first on line 4) (duplicate-id)"),
    ("check reused in test", replace(M, "pre: [t01, t02, t03]", "pre: [t01, t02, why-engage-1]"),
     f"{M}:15:19: [error] item 'why-engage-1' is a knowledge check and also in the pre-test; tests need "
     "their own items (duplicate-id)"),
    # key-option
    ("key names no option", replace(M, "    options: [a, b, c, d]\n    key: c", "    options: [a, b, c, d]\n    key: e"),
     f"{M}:38:10: [error] item t01: key 'e' names no option of t01 (a, b, c, d) (key-option)"),
    ("true_false key", replace(M, "    type: true_false\n    key: true", "    type: true_false\n    key: yes_"),
     f"{M}:42:10: [error] item t02: a true_false item's key is true or false, got 'yes_' (key-option)"),
    # missing-translation
    ("missing option wording", replace(f"{KM}/items.yaml", "    d:\n      text: រង់ចាំ", "    x:\n      text: រង់ចាំ"),
     f"{KM}/items.yaml:47:1: [error] item 't01' in km has no wording for option 'd' (missing-translation)"),
    ("missing objective", replace(f"{KM}/module.md", "  o2: នៅចុងបញ្ចប់ អ្នកអាចគូរ", "  o3: នៅចុងបញ្ចប់ អ្នកអាចគូរ"),
     f"{KM}/module.md:4:3: [error] objective 'o2' has no km wording (missing-translation)"),
    ("missing title language", replace("course/course.yaml", "  en: Sample course\n", ""),
     "course/course.yaml:3:3: [error] course title has no en text (missing-translation)"),
    # empty-text
    ("empty feedback", replace(f"{EN}/items.yaml", "feedback: Right. Start by hearing", 'feedback: ""\n#'),
     f"{EN}/items.yaml:59:17: [error] item 't01' options c: feedback is empty (empty-text)"),
    ("empty lesson", write_bytes(f"{EN}/notes/dialogue.md", b"---\nid: dialogue\n---\n\n"),
     f"{EN}/notes/dialogue.md:4:1: [error] the text after the front matter is empty (empty-text)"),
    # broken-link
    ("broken link", replace(f"{EN}/sections/stakeholder-map.md", "(../module.md)", "(../modul.md)"),
     f"{EN}/sections/stakeholder-map.md:9:9: [error] link '../modul.md' points at no file (broken-link)"),
    ("broken image", replace(f"{KM}/exercise.md", "រដ្ឋបាលខេត្តចង់", "![ផែនទី](images/map.png)\nរដ្ឋបាលខេត្តចង់"),
     f"{KM}/exercise.md:5:1: [error] image 'images/map.png' points at no file (broken-link)"),
    # unicode-nfc
    ("not NFC", replace(f"{EN}/sections/why-engage.md", "A one-window", "A cafe\u0301 one-window"),
     f"{EN}/sections/why-engage.md:5:6: [error] text is not in Unicode NFC (first difference at column 6); "
     "normalise the file (unicode-nfc)"),
    # glossary-unused
    ("glossary term unused", replace("course/glossary/01-engagement.yaml", "en: stakeholder map", "en: power map"),
     "course/glossary/01-engagement.yaml:3:9: [warning] term 'power map' (en) does not appear in "
     f"{EN}/ (glossary-unused)"),
]


def test_sample_is_valid(sample):
    assert validate(sample) == []


@pytest.mark.parametrize("name,change,expected", CASES, ids=[c[0] for c in CASES])
def test_rule_reports_exact_problem(sample, name, change, expected):
    change(sample)
    problems = [str(p) for p in validate(sample)]
    assert expected in problems, "\n".join(problems)


def test_every_rule_has_a_case_and_documentation():
    covered = {case[2].rsplit("(", 1)[1].rstrip(")") for case in CASES}
    for rule in REGISTRY:
        assert rule.ID in covered, f"rule {rule.ID} has no test case"
        doc = rule.__doc__ or ""
        assert doc.startswith(rule.ID) and "Passing" in doc and "Failing" in doc, rule.__name__


def test_problems_are_sorted_and_all_reported(sample):
    replace(M, "minutes: 20", "minutes: twenty")(sample)
    delete(f"{KM}/notes/why-engage.md")(sample)
    replace(f"{EN}/items.yaml", "feedback: Right. Start by hearing", 'feedback: ""\n#')(sample)
    problems = validate(sample)
    assert problems == sorted(problems)
    assert {p.rule for p in problems} >= {"schema", "missing-file", "empty-text"}
