"""The architecture holds: the engine computes without Streamlit; only engine/app renders."""

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "engine"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_nothing_outside_engine_app_imports_streamlit():
    offenders = []
    for path in sorted(ENGINE.rglob("*.py")):
        if (ENGINE / "app") in path.parents:
            continue
        if any(name == "streamlit" or name.startswith("streamlit.") for name in imported_modules(path)):
            offenders.append(str(path.relative_to(ENGINE.parent)))
    assert offenders == []


def test_the_check_sees_an_import_when_there_is_one(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("def f():\n    from streamlit import session_state\n")
    assert "streamlit" in imported_modules(sample)


def test_engine_app_is_the_only_renderer():
    app_files = list((ENGINE / "app").rglob("*.py"))
    assert any("streamlit" in imported_modules(p) for p in app_files)
