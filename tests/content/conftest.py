import shutil
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "sample"


@pytest.fixture
def sample(tmp_path) -> Path:
    """A fresh copy of the sample course (module 1, two sections, both languages) to break."""
    root = tmp_path / "course-root"
    shutil.copytree(SAMPLE, root)
    return root
