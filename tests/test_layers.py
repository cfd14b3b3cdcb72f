"""The layers of the code hold (docs/architecture.md, issue 11 §3): lib, the data pool,
the credit model and the synthetic county import no Django; the apps depend in one
direction; no two modules of a package import each other. The contracts are
`[tool.importlinter]` in pyproject.toml, checked by import-linter over the source."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lint(config: Path, cwd: Path, pythonpath: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": pythonpath}
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--config", str(config), "--no-cache"],
        cwd=cwd, env=env, capture_output=True, text=True,
    )  # fmt: skip


def test_the_code_keeps_every_contract():
    out = lint(ROOT / "pyproject.toml", ROOT, str(ROOT / "src"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 kept, 0 broken" in out.stdout


def test_the_contracts_catch_what_they_forbid(tmp_path):
    """The same contracts over a small package that breaks each of them once: lib imports
    Django, the pool imports the credit stage, two modules of a package import each other."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    linter = config["importlinter"]
    pkg = tmp_path / "src" / "fakecx"
    for contract in linter["contracts"]:
        for name in (
            contract.get("layers", [])
            + contract.get("ancestors", [])
            + contract.get("source_modules", [])
        ):
            for part in name.replace(":", "|").split("|"):
                sub = pkg / part.strip().removeprefix("cunxin.")
                sub.mkdir(parents=True, exist_ok=True)
                (sub / "__init__.py").touch()
    (pkg / "__init__.py").touch()
    (pkg / "lib" / "bad.py").write_text("import django\n")
    (pkg / "pool" / "bad.py").write_text("import fakecx.decisions\n")
    (pkg / "evaluation" / "a.py").write_text("import fakecx.evaluation.b\n")
    (pkg / "evaluation" / "b.py").write_text("import fakecx.evaluation.a\n")
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = text[text.index("[tool.importlinter]") :]
    (tmp_path / "pyproject.toml").write_text(section.replace("cunxin", "fakecx"), encoding="utf-8")

    out = lint(tmp_path / "pyproject.toml", tmp_path, str(tmp_path / "src"))

    assert out.returncode == 1
    assert "0 kept, 3 broken" in out.stdout, out.stdout + out.stderr
    assert "fakecx.lib.bad -> django" in out.stdout
    assert "fakecx.pool.bad -> fakecx.decisions" in out.stdout
