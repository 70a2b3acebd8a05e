"""glossary-unused (warning): a module's glossary terms appear in that module's content, so the
glossary and the lessons use the same words. `course/glossary/NN-slug.yaml` belongs to module
NN-slug; terms in `00-core.yaml` belong to the whole course and are not checked.

Passing: glossary term `en: problem tree`, `km: ដើមឈើបញ្ហា`, and both words in the module's lessons.
Failing:
    course/glossary/04-problem-solving.yaml:5:9: [warning] term 'problem tree' (km) does not appear in
    content/km/04-problem-solving/ (glossary-unused)
"""

from engine.content.problems import WARNING
from engine.content.walk import Report, as_map, maps_in

ID = "glossary-unused"


def strings(data):
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from strings(value)


def module_words(text) -> str:
    parts = []
    for file in [text.module_md, text.exercise_md, text.items, *text.sections.values(), *text.notes.values()]:
        if file is not None:
            parts.append(file.body)
            parts.extend(strings(file.data))
    return "\n".join(parts).lower()


def check(tree):
    report = Report(ID, WARNING)
    for name, file in sorted(tree.glossaries.items()):
        if name not in tree.modules:
            continue
        for lang in ("en", "km"):
            text = tree.text.get(lang, {}).get(name)
            if text is None:
                continue
            words = module_words(text)
            for term in maps_in((as_map(file.data) or {}).get("terms")):
                word = term.get(lang)
                if isinstance(word, str) and word.strip() and word.lower() not in words:
                    report(file.path, term.at(lang), f"term {word!r} ({lang}) does not appear in {text.folder}/")
    return report.problems
