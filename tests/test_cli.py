"""The console command: user mistakes give one line, not a traceback."""

import subprocess
import sys


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "cunxin.cli", *args], capture_output=True, text=True
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


def test_the_demo_synthesises_builds_and_says_where_the_outputs_are(tmp_path):
    out = run("demo", "--dir", str(tmp_path / "demo"), "--scale", "0.002")
    assert out.returncode == 0, out.stderr
    assert "pool built in" in out.stdout
    assert "quality report:" in out.stdout
    assert (tmp_path / "demo" / "pool" / "person.parquet").exists()
    assert (
        (tmp_path / "demo" / "pool" / "quality_report.md")
        .read_text(encoding="utf-8")
        .startswith("# Data-quality report")
    )
