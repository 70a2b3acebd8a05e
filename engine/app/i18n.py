"""Every string a user sees, from one catalog per language (locale/<lang>.yaml); numbers and dates in
the language's own digits and month names."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path

import yaml
from babel.dates import format_date
from babel.numbers import format_decimal

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGE_NAMES = {"km": "ខ្មែរ", "en": "English"}
KHMER_DIGITS = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")


def _flatten(data: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = str(value)
    return flat


@cache
def catalog(lang: str) -> dict[str, str]:
    with open(LOCALE_DIR / f"{lang}.yaml", encoding="utf-8") as handle:
        return _flatten(yaml.safe_load(handle))


def t(lang: str, key: str, **values: object) -> str:
    """The text of `key` in `lang`. A missing key is a bug the catalog test catches; here it shows the key."""
    text = catalog(lang).get(key, key)
    return text.format(**values) if values else text


def digits(lang: str, text: str) -> str:
    return text.translate(KHMER_DIGITS) if lang == "km" else text


def number(lang: str, value: float, decimals: int = 0) -> str:
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return digits(lang, format_decimal(value, format=pattern, locale="km" if lang == "km" else "en"))


def day(lang: str, value: date | datetime | None) -> str:
    if value is None:
        return t(lang, "common.none")
    return digits(lang, format_date(value, format="long", locale="km" if lang == "km" else "en_GB"))
