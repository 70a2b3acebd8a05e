"""The validation rules, one module each, in an explicit registry.

Each rule module has `ID` and `check(tree) -> list[Problem]`; its docstring is its documentation,
with a passing and a failing example. `engine.content.validate` runs them all.
"""

from engine.content.rules import (
    broken_link,
    duplicate_id,
    empty_text,
    encoding,
    front_matter,
    glossary_unused,
    key_option,
    missing_file,
    missing_translation,
    schema,
    unicode_nfc,
    unknown_id,
    yaml_syntax,
)

REGISTRY = (
    encoding,
    yaml_syntax,
    front_matter,
    missing_file,
    schema,
    unknown_id,
    duplicate_id,
    key_option,
    missing_translation,
    empty_text,
    broken_link,
    unicode_nfc,
    glossary_unused,
)
