"""front-matter: every Markdown file starts with YAML front matter between two '---' lines.

Passing:
    ---
    id: why-engage
    title: Why engage citizens?
    ---
    The lesson...
Failing: a file that starts with the lesson text, a front matter with no closing '---', or a front
matter that is a list or a plain string rather than a mapping.
"""

from engine.content.rules._reading import reading

ID = "front-matter"


def check(tree):
    return reading(tree, ID)
