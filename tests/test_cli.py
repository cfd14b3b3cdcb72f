"""The console command: user mistakes give one line, not a traceback."""

import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest


def demo_env() -> dict:
    """The demo runs on its embedded defaults (SQLite), whatever the test database is."""
    return {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CUNXIN_DATA_DIR")}


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "cunxin.cli", *args], capture_output=True, text=True, env=demo_env()
    )


def test_it_reports_a_missing_raw_folder_in_one_line(tmp_path):
    out = run("pool", "build", "--raw", str(tmp_path / "nope"), "--pool", str(tmp_path / "p"))
    assert out.returncode != 0
    assert "raw folder not found" in out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_it_reports_a_folder_without_sources(tmp_path):
    out = run("pool", "build", "--raw", str(tmp_path), "--pool", str(tmp_path / "p"))
    assert out.returncode != 0
    assert "none of the expected source folders" in out.stderr
    assert "Traceback" not in out.stderr


def test_it_refuses_an_unknown_engine(tmp_path):
    out = run(
        "pool", "build", "--raw", str(tmp_path), "--pool", str(tmp_path), "--engine", "oracle"
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr


def test_the_demo_synthesises_builds_publishes_and_prints_users(tmp_path):
    # scale 0.01: two villages in the demo branch (one under review, one signed off)
    out = run("demo", "--dir", str(tmp_path / "demo"), "--scale", "0.01", "--no-serve")
    assert out.returncode == 0, out.stderr
    assert "pool built in" in out.stdout
    assert "published pool run" in out.stdout
    for user in ("hq-admin", "hq-analyst", "bm", "cm", "evaluator", "customer"):
        assert any(line.split()[:1] == [user] for line in out.stdout.splitlines()), user
    assert "SIMULATORS" in out.stdout
    # one village under review, one signed off with visit tasks from a simulated panel
    evaluation = [line for line in out.stdout.splitlines() if "evaluation demo:" in line]
    assert len(evaluation) == 2, out.stdout
    # the tasks of cm's grid, and those of the grids nobody holds waiting with cm
    assert any(re.search(r"visit tasks \(SIMULATED panel reviews\): [1-9]\d* on cm's grid, \d+ waiting", line) for line in evaluation), evaluation  # fmt: skip
    assert (tmp_path / "demo" / "cunxin.sqlite3").exists()
    # the passwords are kept for the next run over this folder, readable by its owner only
    kept = json.loads((tmp_path / "demo" / "demo-passwords.json").read_text())
    assert f"  cm          {kept['cm']}" in out.stdout
    assert stat.S_IMODE((tmp_path / "demo" / "demo-passwords.json").stat().st_mode) == 0o600
    assert "quality report:" in out.stdout
    assert (tmp_path / "demo" / "pool" / "person.parquet").exists()
    assert (
        (tmp_path / "demo" / "pool" / "quality_report.md")
        .read_text(encoding="utf-8")
        .startswith("# Data-quality report")
    )


def test_the_demo_serves_the_app_and_users_can_sign_in(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "cunxin.cli", "demo", "--dir", str(tmp_path / "d"),
         "--scale", "0.002", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=demo_env(),
    )  # fmt: skip
    try:
        body = ""
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as r:
                    body = r.read().decode()
                    break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.5)
        assert 'name="password"' in body, proc.stdout.read() if proc.poll() is not None else ""
        # as production: static files without DEBUG (WhiteNoise), the app's Chinese 404
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/cunxin/app.css") as r:
            assert r.status == 200 and "nav.main" in r.read().decode()
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/no/such/page/")
        page = missing.value.read().decode()
        assert missing.value.code == 404 and "未找到" in page and "URLconf" not in page
    finally:
        proc.kill()
        proc.wait()


def test_a_pool_build_outside_the_demo_needs_a_pool_secret(tmp_path):
    env = {k: v for k, v in demo_env().items() if not k.startswith("CUNXIN_")}
    raw = tmp_path / "raw"
    subprocess.run(
        [sys.executable, "-m", "cunxin.cli", "synth", "--out", str(raw), "--scale", "0.001"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-m", "cunxin.cli", "pool", "build", "--raw", str(raw), "--pool", str(tmp_path / "p")],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode != 0
    assert "CUNXIN_POOL_SECRET" in out.stderr
    assert "Traceback" not in out.stderr
