"""Locating wrangler's local D1 file from wrangler.toml."""

from __future__ import annotations

from pathlib import Path

import pytest
from seeding import ROOT

from analytics_941 import ConfigError, LocalD1NotFound, local_d1_path

D1_DIR = Path(".wrangler/state/v3/d1/miniflare-D1DatabaseObject")


def toml(tmp_path: Path, entry: str) -> Path:
    (tmp_path / "wrangler.toml").write_text(f'name = "x"\n[[d1_databases]]\n{entry}\n')
    return tmp_path


def test_project_wrangler_toml_gives_a_pinned_file_name() -> None:
    path = local_d1_path(project_dir=ROOT, must_exist=False)
    # The name `wrangler d1 migrations apply DB --local` (4.164) created for this wrangler.toml.
    assert path == ROOT / D1_DIR / (
        "9ba2b04bf514d9facfd57ed57d849e77241a7adc99d1c1545d06688b43d84248.sqlite"
    )


def test_name_precedence_preview_then_database_id_then_binding(tmp_path: Path) -> None:
    preview = local_d1_path(
        project_dir=toml(tmp_path, 'binding = "DB"\ndatabase_id = "a"\npreview_database_id = "p"'),
        must_exist=False,
    )
    only_id = local_d1_path(
        project_dir=toml(tmp_path, 'binding = "DB"\ndatabase_id = "p"'), must_exist=False
    )
    bare = local_d1_path(project_dir=toml(tmp_path, 'binding = "DB"'), must_exist=False)
    named_db = local_d1_path(
        project_dir=toml(tmp_path, 'binding = "DB"\ndatabase_id = "DB"'), must_exist=False
    )
    assert preview == only_id  # both named "p"
    assert bare == named_db  # both named "DB"
    assert preview != bare
    assert len(bare.stem) == 64


def test_state_dir_is_wranglers_persist_to_folder(tmp_path: Path) -> None:
    project = toml(tmp_path, 'binding = "DB"')
    default = local_d1_path(project_dir=project, must_exist=False)
    custom = local_d1_path(project_dir=project, state_dir=tmp_path / "s", must_exist=False)
    assert custom == tmp_path / "s" / "v3/d1/miniflare-D1DatabaseObject" / default.name


def test_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no wrangler\.toml"):
        local_d1_path(project_dir=tmp_path)
    with pytest.raises(ConfigError, match="binding = 'DB'"):
        local_d1_path(project_dir=toml(tmp_path, 'binding = "OTHER"'))
    with pytest.raises(LocalD1NotFound, match="wrangler d1 migrations apply DB --local"):
        local_d1_path(project_dir=toml(tmp_path, 'binding = "DB"'))
