"""unicode-nfc: text is in Unicode normalization form C, so that the same Khmer word is stored,
searched and compared as the same code points.

Passing: "ការិយាល័យ" typed on a standard Khmer keyboard (NFC).
Failing: a line whose characters change under NFC, such as a Latin "e" followed by a combining acute
accent (U+0065 U+0301) where NFC has "é" (U+00E9):
    content/en/01-engagement/sections/why.md:8:14: [error] text is not in Unicode NFC (first
    difference at column 14); normalise the file (unicode-nfc)
"""

import unicodedata

from engine.content.walk import Report

ID = "unicode-nfc"


def first_difference(line: str) -> int:
    normal = unicodedata.normalize("NFC", line)
    for i, (a, b) in enumerate(zip(line, normal, strict=False)):
        if a != b:
            return i + 1
    return min(len(line), len(normal)) + 1


def check(tree):
    report = Report(ID)
    for rel, text in tree.texts.items():  # files refused while reading are the encoding rule's problems
        for number, line in enumerate(text.split("\n"), start=1):
            if not unicodedata.is_normalized("NFC", line):
                col = first_difference(line)
                report(rel, (number, col), f"text is not in Unicode NFC (first difference at column {col}); "
                       "normalise the file")
    return report.problems
