"""One typed settings object, read from the environment when asked for, never at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("km", "en")


@dataclass(frozen=True)
class Settings:
    database_url: str
    """SALA_DATABASE_URL: where the store lives. Default: SQLite file var/sala.db under the content root."""
    content_root: Path
    """SALA_CONTENT_ROOT: the folder holding course/, modules/ and content/. Default: the repository."""
    default_language: str = "km"
    """SALA_DEFAULT_LANGUAGE: the language a new visitor sees; Khmer unless set."""
    session_days: int = 14
    """SALA_SESSION_DAYS: how long a sign-in lasts across reloads."""

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read the settings from `env` (default: the process environment) and check them."""
    env = dict(os.environ if env is None else env)
    root = Path(env.get("SALA_CONTENT_ROOT") or REPO_ROOT).expanduser().resolve()
    url = env.get("SALA_DATABASE_URL") or f"sqlite:///{REPO_ROOT / 'var' / 'sala.db'}"
    lang = env.get("SALA_DEFAULT_LANGUAGE") or "km"
    if lang not in LANGUAGES:
        raise ConfigError(f"SALA_DEFAULT_LANGUAGE: expected one of {', '.join(LANGUAGES)}, got {lang!r}")
    days = env.get("SALA_SESSION_DAYS") or "14"
    if not days.isdigit() or int(days) < 1:
        raise ConfigError(f"SALA_SESSION_DAYS: expected a whole number of days >= 1, got {days!r}")
    return Settings(database_url=url, content_root=root, default_language=lang, session_days=int(days))
