"""missing-file: every module the course lists has its modules/ file, and in every language its
folder, module.md, exercise.md, items.yaml, a lesson per section and facilitator notes per section
and for the exercise. Where a file is expected, a folder or a symbolic link that leads nowhere (a
loop) is reported at its own path, and a file that cannot be read names the reason.

Passing: modules/01-engagement.yaml declares section `why-engage`, and both
content/km/01-engagement/sections/why-engage.md and content/en/01-engagement/sections/why-engage.md
exist, with notes/why-engage.md beside them.
Failing: the Khmer lesson is missing:
    modules/01-engagement.yaml:5:9: [error] section 'why-engage' has no lesson in km: expected
    content/km/01-engagement/sections/why-engage.md (missing-file)
"""

from engine.content.rules._reading import reading
from engine.content.walk import Report, course_languages, course_map, ids_in, maps_in, module_decls

ID = "missing-file"


def check(tree):
    report = Report(ID)
    report.problems.extend(reading(tree, ID))
    course = course_map(tree)
    if course is not None:
        for entry in maps_in(course.get("modules")):
            module_id = entry.get("id")
            if isinstance(module_id, str) and module_id not in tree.modules:
                report(tree.course.path, entry.at("id"),
                       f"module {module_id!r} has no declaration: expected modules/{module_id}.yaml")
    languages = course_languages(tree)
    for decl in module_decls(tree):
        path = decl.file.path
        for lang in languages:
            folder = f"content/{lang}/{decl.id}"
            text = tree.text.get(lang, {}).get(decl.id)
            if text is None:
                report(path, decl.data.at("id"), f"module {decl.id!r} has no {lang} wording: expected {folder}/")
                continue
            for name, present in (("module.md", text.module_md), ("exercise.md", text.exercise_md),
                                  ("items.yaml", text.items)):
                if present is None:
                    report(path, decl.data.at("id"), f"module {decl.id!r} in {lang}: expected {folder}/{name}")
            for section in decl.sections():
                sid = section["id"]
                if sid not in text.sections:
                    report(path, section.at("id"),
                           f"section {sid!r} has no lesson in {lang}: expected {folder}/sections/{sid}.md")
                if sid not in text.notes:
                    report(path, section.at("id"), f"section {sid!r} has no facilitator notes in {lang}: "
                           f"expected {folder}/notes/{sid}.md")
            exercise = decl.exercise()
            if exercise is not None and exercise["id"] not in text.notes:
                report(path, exercise.at("id"), f"exercise {exercise['id']!r} has no facilitator notes in "
                       f"{lang}: expected {folder}/notes/{exercise['id']}.md")
    return report.problems


__all__ = ["check", "ID", "ids_in"]
