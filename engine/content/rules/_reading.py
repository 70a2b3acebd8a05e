"""Shared by the rules whose problems are found while reading files."""

from engine.content.source import Tree


def reading(tree: Tree, rule_id: str):
    return [p for p in tree.reading_problems if p.rule == rule_id]
