"""Build the typed course from a tree that validated. Validation comes first, always: nothing is
served half-valid."""

from __future__ import annotations

import hashlib
from types import MappingProxyType

from engine.content.model import Course, Exercise, Item, Module, Option, Section, Term
from engine.content.source import Tree
from engine.content.yamlmarks import YMap


def content_version(tree: Tree) -> str:
    digest = hashlib.sha256()
    for rel in sorted(tree.files):
        digest.update(rel.encode())
        digest.update(b"\0")
        digest.update((tree.root / rel).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:12]


def _item(item_id: str, decl: YMap, wording: YMap) -> Item:
    kind = decl["type"]
    if kind == "true_false":
        option_ids = ["true", "false"]
        key = frozenset({"true" if decl["key"] else "false"})
    elif kind == "short_text":
        option_ids, key = [], frozenset()
    else:
        option_ids = list(decl["options"])
        key = frozenset([decl["key"]] if kind == "single" else decl["key"])
    options = tuple(
        Option(o, str(wording["options"][o].get("text", "")).strip(), str(wording["options"][o]["feedback"]).strip())
        for o in option_ids
    )
    return Item(item_id, kind, str(wording["stem"]).strip(), options, key, str(wording.get("guidance", "")).strip(),
                decl.get("section"))


def _module(tree: Tree, number: int, title: str, course_pass: int, module_id: str, lang: str) -> Module:
    decl = tree.modules[module_id].data
    text = tree.text[lang][module_id]
    wording = text.items.data
    items = {i: _item(i, decl["items"][i], wording[i]) for i in decl["items"]}
    sections = tuple(
        Section(s["id"], str(text.sections[s["id"]].data["title"]).strip(), s["minutes"],
                text.sections[s["id"]].body.strip(), tuple(items[c] for c in s["checks"]),
                text.notes[s["id"]].body.strip())
        for s in decl["sections"]
    )
    ex = decl["exercise"]
    exercise = Exercise(ex["id"], str(text.exercise_md.data["title"]).strip(), ex["minutes"],
                        text.exercise_md.body.strip(), tuple(items[i] for i in ex["items"]),
                        text.notes[ex["id"]].body.strip())
    objectives = text.module_md.data["objectives"]
    return Module(
        id=module_id, number=number, title=title,
        pass_mark=decl.get("pass_mark", course_pass),
        objectives=tuple((o, str(objectives[o]).strip()) for o in decl["objectives"]),
        overview=text.module_md.body.strip(), sections=sections, exercise=exercise,
        pre_test=tuple(items[i] for i in decl["tests"]["pre"]),
        post_test=tuple(items[i] for i in decl["tests"]["post"]),
        items=MappingProxyType(items),
    )


def build_course(tree: Tree, lang: str, version: str) -> Course:
    course = tree.course.data
    modules = tuple(
        _module(tree, n, str(m["title"][lang]), course["pass_mark"], m["id"], lang)
        for n, m in enumerate(course["modules"], start=1)
    )
    terms = []
    for name, file in sorted(tree.glossaries.items()):
        for t in file.data["terms"]:
            terms.append(Term(t["id"], t["en"], t["km"], str(t["definition"][lang]),
                              name if name in tree.modules else None))
    return Course(
        id=course["id"], language=lang, languages=tuple(course["languages"]),
        title=course["title"][lang], issuer=course["issuer"][lang],
        pass_mark=course["pass_mark"], post_test_attempts=course["post_test_attempts"],
        modules=modules, glossary=tuple(terms), version=version,
    )
