"""Paths the app tests share; the fixtures (demo_env, app) live in tests/conftest.py."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAIN = str(REPO / "engine" / "app" / "main.py")
SAMPLE = REPO / "tests" / "fixtures" / "sample"
