"""Settings from the environment, read in one place.

| variable | default | meaning |
| --- | --- | --- |
| DATABASE_URL | sqlite file in the user data dir | SQLAlchemy URL; ``postgresql+psycopg://...`` for PostgreSQL |
| HOST / PORT | 127.0.0.1 / 8080 | where the API listens |
| LOG_LEVEL | INFO | stdlib logging level |
| PROVISIO_DATA_DIR | see ``default_data_dir`` | where the embedded database and simulator state live |
| PROVISIO_DISPATCH_INTERVAL | 0.5 | seconds between event-dispatcher polls when idle |
| PROVISIO_DELIVERY_MAX_ATTEMPTS | 10 | event delivery attempts before a delivery goes to the dead letters |
| PROVISIO_DELIVERY_RETRY_BASE / _MAX | 1.0 / 300 | seconds: first retry delay (doubles each attempt, jittered) / cap |
| PROVISIO_EVENT_RETENTION | 604800 | seconds a delivered event is kept before the purge; 0 keeps everything |
| PROVISIO_PURGE_INTERVAL | 3600 | seconds between purge rounds (one process at a time on PostgreSQL) |
| PROVISIO_API_DISPATCH | 1 | the API process delivers events and runs steps; 0 leaves both to ``provisio worker`` |
| PROVISIO_STEP_LEASE | 60 | seconds a runner leases a step or sweeper (renewed while it runs; then taken over) |
| PROVISIO_STEP_MAX_ATTEMPTS | 10 | failed attempts before a durable step is dead (unless its kind sets its own) |
| PROVISIO_STEP_RETRY_BASE / _MAX | 1.0 / 300 | seconds: a failed step's first retry delay (doubling, jittered) / cap |
| PROVISIO_STEP_CONCURRENCY | 4 | durable steps one process runs at the same time |
| PROVISIO_MAX_BODY_BYTES | 1048576 | a larger request body is refused with 413 |
| PROVISIO_CREDENTIALS_FILE | <data dir>/credentials.json | device credentials (never logged) |
| PROVISIO_REQUIRE_IF_MATCH | false | true: a PATCH/DELETE of a versioned entity without If-Match is a 428 |
| PROVISIO_AUTH, PROVISIO_SECRET_KEY, PROVISIO_JWKS, ... | see ``server/auth/settings.py`` | authentication |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from server.auth.settings import AuthSettings

# The code runs from a source checkout (``make venv`` installs it editable) when these sit beside ``server/``.
SOURCE_ROOT = Path(__file__).resolve().parent.parent
_CHECKOUT_MARKERS = ("pyproject.toml", "Makefile")


def checkout_data_dir(root: Path | None = None) -> Path | None:
    """``<checkout>/.data`` when the running code (or ``root``) is a source checkout, else None (an
    installed wheel: site-packages has no pyproject.toml beside the packages)."""
    root = root or SOURCE_ROOT
    if all((root / marker).is_file() for marker in _CHECKOUT_MARKERS):
        return root / ".data"
    return None


def default_data_dir() -> Path:
    """One rule, whoever starts the command (``make`` or a shell, from any directory):

    1. ``PROVISIO_DATA_DIR`` when set (the container image sets it);
    2. else ``.data/`` of the checkout the code runs from, the directory ``make run`` uses;
    3. else (an installed package) the user data dir, ``~/.local/share/provisio`` on Linux.
    """
    configured = os.environ.get("PROVISIO_DATA_DIR")
    if configured:
        return Path(configured)
    return checkout_data_dir() or Path(platformdirs.user_data_dir("provisio"))


@dataclass(frozen=True)
class Settings:
    database_url: str
    host: str = "127.0.0.1"
    port: int = 8080
    log_level: str = "INFO"
    data_dir: Path = field(default_factory=default_data_dir)
    dispatch_interval: float = 0.5
    credentials_file: Path | None = None
    delivery_max_attempts: int = 10
    delivery_retry_base: float = 1.0
    delivery_retry_max: float = 300.0
    max_body_bytes: int = 1024 * 1024
    require_if_match: bool = False
    event_retention: float = 7 * 24 * 3600.0
    purge_interval: float = 3600.0
    api_dispatch: bool = True
    step_lease: float = 60.0
    step_max_attempts: int = 10
    step_retry_base: float = 1.0
    step_retry_max: float = 300.0
    step_concurrency: int = 4
    auth: AuthSettings = field(default_factory=AuthSettings)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = default_data_dir()
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'provisio.db'}"
        credentials = os.environ.get("PROVISIO_CREDENTIALS_FILE")
        return cls(
            database_url=url,
            host=os.environ.get("HOST", "127.0.0.1"),
            port=int(os.environ.get("PORT", "8080")),
            log_level=os.environ.get("LOG_LEVEL", "INFO").upper(),
            data_dir=data_dir,
            dispatch_interval=float(os.environ.get("PROVISIO_DISPATCH_INTERVAL", "0.5")),
            credentials_file=Path(credentials) if credentials else data_dir / "credentials.json",
            delivery_max_attempts=int(os.environ.get("PROVISIO_DELIVERY_MAX_ATTEMPTS", "10")),
            delivery_retry_base=float(os.environ.get("PROVISIO_DELIVERY_RETRY_BASE", "1.0")),
            delivery_retry_max=float(os.environ.get("PROVISIO_DELIVERY_RETRY_MAX", "300")),
            max_body_bytes=int(os.environ.get("PROVISIO_MAX_BODY_BYTES", str(1024 * 1024))),
            require_if_match=_flag("PROVISIO_REQUIRE_IF_MATCH"),
            event_retention=float(os.environ.get("PROVISIO_EVENT_RETENTION", str(7 * 24 * 3600))),
            purge_interval=float(os.environ.get("PROVISIO_PURGE_INTERVAL", "3600")),
            api_dispatch=_flag("PROVISIO_API_DISPATCH", default=True),
            step_lease=float(os.environ.get("PROVISIO_STEP_LEASE", "60")),
            step_max_attempts=int(os.environ.get("PROVISIO_STEP_MAX_ATTEMPTS", "10")),
            step_retry_base=float(os.environ.get("PROVISIO_STEP_RETRY_BASE", "1.0")),
            step_retry_max=float(os.environ.get("PROVISIO_STEP_RETRY_MAX", "300")),
            step_concurrency=int(os.environ.get("PROVISIO_STEP_CONCURRENCY", "4")),
            auth=AuthSettings.from_env(),
        )


def _flag(name: str, *, default: bool = False) -> bool:
    """A boolean variable: 1/true/yes/on or 0/false/no/off (any case); unset or empty is the default."""
    value = os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value in ("0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{name}={value!r}: use true or false")
