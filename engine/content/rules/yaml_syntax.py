"""yaml-syntax: every YAML file and every front matter parses, with no duplicate keys.

Passing:
    stem: >-
      A question: with a colon, inside a block scalar.
Failing:
    stem: A question: with a colon       # "mapping values are not allowed here"
    a: 1
    a: 2                                 # "duplicate key 'a' (first on line 1)"
    terms: &t [a, b]
    more: *t                             # "YAML aliases (*name) are not allowed in course files"
Aliases are refused (an alias bomb expands 400 bytes into gigabytes; an alias inside its own anchor
never ends), and so is nesting deeper than 50 levels; a control character is named at its place.
The problem points at the line and column where the parser stopped (at the opening quote or bracket
when the file ended inside one); the file is then left out of the other rules, so one typo gives one
problem, not dozens.
"""

from engine.content.rules._reading import reading

ID = "yaml-syntax"


def check(tree):
    return reading(tree, ID)
