"""key-option: every key names options the item has. A single item has 2 or more options and one key
among them; a multiple item a non-empty list of them; a true_false item the key true or false and no
options; a short_text item neither options nor key.

Passing:
    t01: {type: single, options: [a, b, c, d], key: c}
Failing:
    t01: {type: single, options: [a, b, c, d], key: e}   # key 'e' names no option of t01 (a, b, c, d)
"""

from engine.content.walk import Report, ids_in, module_decls

ID = "key-option"


def check_item(report: Report, path: str, item_id: str, item) -> None:
    kind = item.get("type")
    options = [o for o, _ in ids_in(item.get("options"))]
    key = item.get("key")
    where = item.at("key") if "key" in item else item.pos
    if kind in ("single", "multiple"):
        if len(options) < 2:
            report(path, item.at("options"), f"item {item_id}: a {kind} item needs 2 or more options")
        if len(set(options)) != len(options):
            report(path, item.at("options"), f"item {item_id}: an option id is listed twice")
        keys = [key] if kind == "single" else key
        if key is None:
            report(path, where, f"item {item_id}: missing key: which option is right?")
        elif kind == "single" and not isinstance(key, str):
            report(path, where, f"item {item_id}: a single item's key is one option id, got {key!r}")
        elif kind == "multiple" and (not isinstance(key, list) or not key):
            report(path, where, f"item {item_id}: a multiple item's key is a non-empty list of option ids")
        else:
            for k in keys:
                if k not in options:
                    report(path, where, f"item {item_id}: key {k!r} names no option of {item_id} "
                           f"({', '.join(options)})")
    elif kind == "true_false":
        if not isinstance(key, bool):
            report(path, where, f"item {item_id}: a true_false item's key is true or false, got {key!r}")
        if "options" in item:
            report(path, item.at("options"), f"item {item_id}: a true_false item has no options list")
    elif kind == "short_text":
        for field in ("options", "key"):
            if field in item:
                report(path, item.at(field), f"item {item_id}: a short_text item has no {field}")


def check(tree):
    report = Report(ID)
    for decl in module_decls(tree):
        for item_id, item in decl.items.items():
            if isinstance(item, dict):
                check_item(report, decl.file.path, item_id, item)
        for item_id, where, _, pos in decl.uses():
            kind = (decl.items.get(item_id) or {}).get("type") if isinstance(decl.items.get(item_id), dict) \
                else None
            if kind == "short_text" and where != "exercise items":
                report(decl.file.path, pos, f"{where} use {item_id!r}, a short_text item, which cannot be scored")
            elif kind in ("single", "multiple", "true_false") and where == "exercise items":
                report(decl.file.path, pos, f"exercise items must be short_text; {item_id!r} is {kind}")
    return report.problems
