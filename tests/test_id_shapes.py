"""The benches write ids of the Worker's shapes, or their bytes on disk are not the real ones."""

from __future__ import annotations

import re
from pathlib import Path

from bench.datagen import ID_ALPHABET
from bench.storage import REAL_ID_LENGTHS

WORKER = Path(__file__).resolve().parent.parent / "worker" / "src"


def _constant(path: Path, name: str) -> str:
    found = re.search(rf"const {name} = ([^;]+);", path.read_text())
    assert found, f"{name} not found in {path}"
    return found.group(1).strip().strip('"')


def test_the_bench_writes_ids_of_the_workers_alphabet_and_lengths() -> None:
    ids = WORKER / "ids.ts"
    assert _constant(ids, "ALPHABET") == ID_ALPHABET
    id_length = int(_constant(ids, "TIME_CHARS")) + int(_constant(ids, "RANDOM_CHARS"))
    hash_length = int(_constant(WORKER / "site-do" / "visitor-hash.ts", "HASH_CHARS"))
    assert REAL_ID_LENGTHS["id"] == REAL_ID_LENGTHS["session_id"] == id_length
    assert REAL_ID_LENGTHS["visitor_id"] == hash_length
