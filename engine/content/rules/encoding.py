"""encoding: every file is UTF-8 text, without NUL bytes, at most 2 MB.

Passing: a file saved as UTF-8 (Khmer included): `title: ការចូលរួម`
Failing: the same file saved as UTF-16 or Windows-1252, a file with a NUL byte, a 50 MB file:
    content/km/01-engagement/items.yaml:1:1: [error] not UTF-8: byte 0xff cannot be decoded; save the
    file as UTF-8 (encoding)
A UTF-8 byte order mark is a warning: the file is read, but editors should not add it.
"""

from engine.content.rules._reading import reading

ID = "encoding"


def check(tree):
    return reading(tree, ID)
