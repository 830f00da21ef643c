"""Settings: ``secops.toml`` under SECOPS_HOME, overridden by the environment, overridden by flags."""

from __future__ import annotations

import getpass
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secops.errors import ConfigError
from secops.timeutil import DEFAULT_TZ

LANGS = ("vi", "en")


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one invocation. ``raw`` keeps the whole config file for feature sections."""

    home: Path
    db_url: str
    lang: str = "vi"
    actor: str = "unknown"
    tz: str = DEFAULT_TZ
    catalogs: tuple[Path, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any]:
        """A table of the config file (``[organization]``, ``[notify]`` …), empty when absent."""
        value = self.raw.get(name, {})
        return value if isinstance(value, dict) else {}


def default_home() -> Path:
    return Path(os.environ.get("SECOPS_HOME") or Path.home() / ".local" / "share" / "secops")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return os.environ.get("USER", "unknown")


def read_config_file(path: Path) -> dict[str, Any]:
    """Read ``secops.toml``; a syntax error names the file and line."""
    if not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def load_settings(
    *,
    home: str | Path | None = None,
    db_url: str | None = None,
    lang: str | None = None,
    actor: str | None = None,
    catalogs: tuple[str, ...] = (),
) -> Settings:
    """Merge file < env < flags into one ``Settings``."""
    home_path = Path(home).expanduser() if home else default_home()
    raw = read_config_file(home_path / "secops.toml")
    db_cfg = raw.get("database", {}) if isinstance(raw.get("database"), dict) else {}
    disp = raw.get("display", {}) if isinstance(raw.get("display"), dict) else {}
    url = (
        db_url
        or os.environ.get("SECOPS_DB_URL")
        or db_cfg.get("url")
        or f"sqlite:///{home_path / 'secops.db'}"
    )
    language = lang or os.environ.get("SECOPS_LANG") or disp.get("lang") or "vi"
    if language not in LANGS:
        raise ConfigError(f"unsupported language {language!r}; use one of: {', '.join(LANGS)}")
    extra = [Path(p).expanduser() for p in raw.get("catalogs", [])] if isinstance(raw.get("catalogs"), list) else []
    extra += [Path(p).expanduser() for p in catalogs]
    return Settings(
        home=home_path,
        db_url=str(url),
        lang=language,
        actor=actor or os.environ.get("SECOPS_ACTOR") or _os_user(),
        tz=str(disp.get("timezone") or DEFAULT_TZ),
        catalogs=tuple(extra),
        raw=raw,
    )
