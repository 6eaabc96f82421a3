"""Locating the SQLite file that ``wrangler dev`` persists for the project's D1 binding.

Miniflare names a D1 database file after an HMAC chain over the binding's id, so the Python side
can open the very file the local collector writes, with no configuration at all.
"""

from __future__ import annotations

import hashlib
import hmac
import tomllib
from pathlib import Path
from typing import Any

from .exceptions import ConfigError, LocalD1NotFound

__all__ = ["local_d1_path"]

# Miniflare's unique key for D1 database objects; the file name is derived from it.
_OBJECT_KEY = b"miniflare-D1DatabaseObject"
# wrangler's default --persist-to folder, and the D1 objects' folder inside any persist folder.
_DEFAULT_STATE_DIR = Path(".wrangler/state")
_D1_DIR = Path("v3/d1/miniflare-D1DatabaseObject")


def _durable_object_file_name(name: str) -> str:
    """Return Miniflare's deterministic file stem for a Durable Object named ``name``."""
    key = hashlib.sha256(_OBJECT_KEY).digest()
    a = hmac.new(key, name.encode(), hashlib.sha256).digest()[:16]
    b = hmac.new(key, a, hashlib.sha256).digest()[:16]
    return (a + b).hex()


def _binding_name(config: dict[str, Any], *, binding: str, config_path: Path) -> str:
    for entry in config.get("d1_databases", []):
        if entry.get("binding") == binding:
            # Same precedence as wrangler: the preview id wins locally, then the real id.
            return str(entry.get("preview_database_id") or entry.get("database_id") or binding)
    raise ConfigError(f"{config_path} has no [[d1_databases]] entry with binding = {binding!r}")


def local_d1_path(
    *,
    project_dir: Path,
    state_dir: Path | None = None,
    binding: str = "DB",
    must_exist: bool = True,
) -> Path:
    """Return the path of wrangler's local D1 SQLite file for ``binding`` in ``project_dir``.

    ``state_dir`` is wrangler's ``--persist-to`` folder (default ``<project>/.wrangler/state``).

    Raises ``ConfigError`` when ``wrangler.toml`` is missing or has no such binding, and
    ``LocalD1NotFound`` when ``must_exist`` and the file has not been created yet.
    """
    config_path = project_dir / "wrangler.toml"
    try:
        config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"no wrangler.toml in {project_dir}: set ANALYTICS_941_PROJECT_DIR to the project "
            "folder, or ANALYTICS_941_SQLITE_PATH to a SQLite file"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path} is not valid TOML: {exc}") from None
    name = _binding_name(config, binding=binding, config_path=config_path)
    state = state_dir if state_dir is not None else project_dir / _DEFAULT_STATE_DIR
    path = state / _D1_DIR / f"{_durable_object_file_name(name)}.sqlite"
    if must_exist and not path.is_file():
        raise LocalD1NotFound(
            f"the local D1 database {path} does not exist yet: run `make demo` or "
            f"`npx wrangler d1 migrations apply {binding} --local` first"
        )
    return path
