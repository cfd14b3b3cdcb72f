"""The publish's work folders (issue 11 §5): a publish swept every `cunxin-publish-*`
folder of the temporary directory, so a PostgreSQL publish removed the folder of a SQLite
publish running beside it, which then failed. Now a folder carries its database's key and
a lock file its publish holds (flock): a sweep removes only this database's folders that
no running publish holds."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import test_publish
from cunxin.pool import publish as P
from test_publish import PAUSING_PUBLISH, _cli, _db_env

small_pool = test_publish.small_pool  # the session's small built pool (a fixture)

DAY = 86_400


def folder(root: Path, name: str, *, lock: bool = True, age: float = 0) -> Path:
    path = root / name
    path.mkdir()
    (path / "rows.csv").write_text("pool data", encoding="utf-8")
    if lock:
        (path / P.WORK_LOCK).touch()
    if age:
        os.utime(path, (time.time() - age, time.time() - age))
    return path


@pytest.fixture
def tmpdir_of_the_machine(tmp_path, monkeypatch):
    """The temporary directory the publish sweeps, here a test folder."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


@pytest.mark.django_db
def test_the_sweep_removes_only_this_databases_folders_that_no_publish_holds(tmpdir_of_the_machine):  # fmt: skip
    root, mine = tmpdir_of_the_machine, P._work_prefix()
    other = P.WORK_PREFIX + "0123456789ab-"  # another database's publishes
    assert mine.startswith(P.WORK_PREFIX) and mine != other
    dead = folder(root, f"{mine}killed", age=2 * DAY)
    dead_new = folder(root, f"{mine}killed-today")
    running = folder(root, f"{mine}running", age=2 * DAY)
    starting = folder(root, f"{mine}starting", lock=False)  # its lock file not made yet
    stale = folder(root, f"{mine}stale", lock=False, age=2 * DAY)
    theirs_running = folder(root, f"{other}running", age=2 * DAY)
    theirs_dead = folder(root, f"{other}killed", age=2 * DAY)
    with open(running / P.WORK_LOCK, "a") as held, open(theirs_running / P.WORK_LOCK, "a") as theirs:  # fmt: skip
        fcntl.flock(held, fcntl.LOCK_EX)
        fcntl.flock(theirs, fcntl.LOCK_EX)

        P._sweep_work_dirs()

        remaining = {p.name for p in root.iterdir()}
    assert not dead.exists() and not dead_new.exists() and not stale.exists()
    assert remaining == {running.name, starting.name, theirs_running.name, theirs_dead.name}
    assert (theirs_running / "rows.csv").read_text(encoding="utf-8") == "pool data"


@pytest.mark.django_db
def test_the_work_folder_is_private_and_locked_while_the_publish_runs(tmpdir_of_the_machine):
    with P._work_dir() as tmp:
        work = Path(tmp)
        assert work.name.startswith(P._work_prefix())
        assert oct(work.stat().st_mode & 0o777) == "0o700"
        assert [p.name for p in work.iterdir()] == [P.WORK_LOCK]
        with open(work / P.WORK_LOCK, "a") as probe, pytest.raises(BlockingIOError):
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        P._sweep_work_dirs()
        assert work.exists()
    assert not work.exists()


def test_a_publish_beside_another_installations_publish_leaves_its_folder(committed, small_pool, tmp_path):  # fmt: skip
    """GIVEN a SQLite installation whose publish is running (paused inside it), WHEN this
    database (SQLite, or PostgreSQL with DATABASE_URL) publishes, THEN the other's work
    folder is still there; once that publish is killed, its own next publish removes it."""
    env = _db_env(tmp_path / "other", "sqlite")
    env["TMPDIR"] = tempfile.gettempdir()
    (tmp_path / "other").mkdir()
    other = P.work_prefix("sqlite", {"NAME": str(tmp_path / "other" / "cunxin.sqlite3")})
    _cli(env, "manage", "migrate", "-v0")
    marker = tmp_path / "paused"
    proc = subprocess.Popen(
        [sys.executable, "-c", PAUSING_PUBLISH, str(small_pool), str(marker)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        for _ in range(600):
            if marker.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert marker.exists(), proc.stderr.read().decode() if proc.poll() is not None else ""
        theirs = list(Path(tempfile.gettempdir()).glob(f"{other}*"))
        assert len(theirs) == 1, "the other publish's work folder"
        assert other != P._work_prefix()

        run = P.publish(small_pool, by="test")

        assert run.status == "succeeded"
        assert all(p.exists() for p in theirs)
        assert proc.poll() is None  # still running, undisturbed
    finally:
        proc.kill()
        proc.wait()
    _cli(env, "pool", "publish", "--pool", str(small_pool))
    assert not any(p.exists() for p in theirs)  # dead now: its own installation swept it
