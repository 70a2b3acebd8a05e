#!/usr/bin/env python3
"""Render `sala bench --json` files as the README's Performance table: one column per run.

    scripts/bench-table.py var/bench/1k.json var/bench/10k.json var/bench/100k.json var/bench/100k-pg.json
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path


def key(name: str) -> str:
    """A figure's name without the counts that change with the scale (rows, attempts, sessions)."""
    return re.sub(r"\s*\([^)]*\d[^)]*\)", "", name).strip()


def cell(figure: dict) -> str:
    if figure["sala"] is None:
        return "reused"
    value = figure["sala"]
    text = f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"
    text += f" {figure['unit']}"
    if figure.get("ratio") is not None and figure["unit"] == "ms":
        text += f" ({figure['ratio']:.2f}×)"
    return text


def main(paths: list[str]) -> None:
    runs = [json.loads(Path(p).read_text(encoding="utf-8")) for p in paths]
    heads = [f"{r['learners']:,} · {r['database'].split(':')[0].split('+')[0]}" for r in runs]
    names: list[str] = []
    targets: dict[str, str] = {}
    for r in runs:
        for f in r["figures"]:
            if key(f["name"]) not in names:
                names.append(key(f["name"]))
                targets[key(f["name"])] = f["target"]
    print("| figure | target | " + " | ".join(heads) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in runs) + " |")
    for name in names:
        cells = []
        for r in runs:
            found = next((f for f in r["figures"] if key(f["name"]) == name), None)
            cells.append("—" if found is None else cell(found))
        print(f"| {name} | {targets[name]} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
