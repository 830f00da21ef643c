"""Find the shipped data directories (checks/, playbooks/, reports/) in a wheel or a source checkout."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def data_dir(name: str) -> Path:
    """Return the directory of shipped data ``name``: inside the wheel (``secops/_data``) or the checkout."""
    packaged = Path(str(files("secops") / "_data" / name))
    if packaged.is_dir():
        return packaged
    source = _SOURCE_ROOT / name
    if source.is_dir():
        return source
    raise FileNotFoundError(f"shipped data directory {name!r} not found (looked in {packaged} and {source})")


def package_file(*parts: str) -> Path:
    """A file that lives inside the package itself (e.g. demo data, locale catalogs)."""
    return Path(str(files("secops").joinpath(*parts)))
