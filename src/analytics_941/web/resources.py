"""Where the templates and built static assets are, and the asset manifest that names them.

Installed from a wheel, both folders live inside the package (``analytics_941/templates``,
``analytics_941/static``); in a source checkout they are the repository's top-level folders.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

__all__ = ["load_manifest", "resource_dir"]

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
_log = logging.getLogger("analytics_941")


def resource_dir(name: str) -> Path:
    """Return the ``templates`` or ``static`` folder, preferring the copy inside the package."""
    installed = _PACKAGE_DIR / name
    if installed.is_dir():
        return installed
    # src layout: src/analytics_941 -> the repository root is two levels up.
    return _PACKAGE_DIR.parent.parent / name


def load_manifest(dist_dir: Path) -> dict[str, str]:
    """Read ``manifest.json`` (logical name -> content-hashed file name) written by the build.

    A missing manifest is logged, not raised: the dashboard still renders (unstyled) and the log
    says how to build the assets.
    """
    path = dist_dir / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        _log.error("analytics_941: %s is missing; build the assets with `make build`", path)
        return {}
    return {str(key): str(value) for key, value in data.items()}
