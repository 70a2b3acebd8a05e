"""broken-link: every relative link and image in a lesson, exercise or note points at a file that
exists inside the course. Web addresses (http, https, mailto) and in-page anchors (#...) are not
checked: the app must work offline, so lessons should not depend on them. A link that leaves the
course folder (`/etc/hosts`, `../../../../secret.txt`) is broken even when the file exists: it exists
only on this machine, and the course must not point at files outside itself.

Passing: `![The stakeholder grid](../images/grid.png)` with content/en/01-engagement/images/grid.png.
Failing:
    content/en/01-engagement/sections/map.md:12:3: [error] image '../images/grid.png' points at no
    file (broken-link)
"""

import os
import re
from pathlib import PurePosixPath

from engine.content.walk import Report

ID = "broken-link"
LINK = re.compile(r"(!?)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = re.compile(r"^([a-z][a-z0-9+.-]*:|#|//)", re.IGNORECASE)


def check(tree):
    report = Report(ID)
    for by_module in tree.text.values():
        for text in by_module.values():
            for file in [text.module_md, text.exercise_md, *text.sections.values(), *text.notes.values()]:
                if file is None:
                    continue
                base = PurePosixPath(file.path).parent
                for offset, line in enumerate(file.body.split("\n")):
                    for match in LINK.finditer(line):
                        target = match.group(2)
                        if EXTERNAL.match(target):
                            continue
                        kind = "image" if match.group(1) else "link"
                        place = (file.body_line + offset, match.start() + 1)
                        inside = os.path.normpath(base / target.split("#")[0])
                        if target.startswith("/") or inside == ".." or inside.startswith("../"):
                            report(file.path, place, f"{kind} {target!r} points outside the course")
                        elif not (tree.root / inside).exists():
                            report(file.path, place, f"{kind} {target!r} points at no file")
    return report.problems
