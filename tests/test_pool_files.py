"""The pool folder is C3 personal data (issue 11 §5): its Parquet files held IDs, phones
and birth dates in clear with mode 0644. Both engines now leave folders 0700 and files
0600, whatever the umask (cunxin.datapool.files)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from cunxin.datapool.build import build
from rawkit import RawKit, make_id


@pytest.fixture
def open_umask():
    """A umask that would leave files readable by everyone (0644)."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def raw(root: Path) -> Path:
    kit = RawKit(root / "raw")
    kit.write("ebank", [{"user_id": "E1", "id_number": make_id("320723", "19800101", 1),
                         "name": "王五", "phone": "13900139001"}])  # fmt: skip
    return kit.finish()


def modes(pool: Path) -> tuple[set[str], set[str]]:
    dirs, files = {oct(stat.S_IMODE(pool.stat().st_mode))}, set()
    for folder, names, filenames in os.walk(pool):
        dirs |= {oct(stat.S_IMODE(os.stat(os.path.join(folder, n)).st_mode)) for n in names}
        files |= {oct(stat.S_IMODE(os.stat(os.path.join(folder, n)).st_mode)) for n in filenames}
    return dirs, files


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_the_pool_is_readable_by_its_owner_only(engine, open_umask, tmp_path, request):
    if engine == "spark":
        request.getfixturevalue("spark_ok")
    pool = tmp_path / "pool"

    build(raw(tmp_path), pool, engine)

    assert (pool / "person.parquet").exists() and (pool / "landing").is_dir()
    dirs, files = modes(pool)
    assert dirs == {"0o700"}
    assert files == {"0o600"}


def test_a_table_written_later_is_private_too(open_umask, tmp_path):
    from cunxin.datapool.engine import get_engine

    engine = get_engine("duckdb", tmp_path / "work")
    try:
        engine.create("t", "SELECT 1 AS x")
        engine.write_parquet("t", tmp_path / "t.parquet")
    finally:
        engine.close()
    assert oct(stat.S_IMODE((tmp_path / "t.parquet").stat().st_mode)) == "0o600"
