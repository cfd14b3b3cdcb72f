"""The pool folder holds personal data of class C3 (JR/T 0171-2020): ID numbers, phones
and birth dates in clear, in Parquet. Only the account that builds it may read it: folders
0700, files 0600, whichever engine wrote them (docs/datapool.md, "Protecting the pool")."""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """`path` made (with its parents) and closed to everyone but its owner."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


def lock_down(root: Path) -> None:
    """Every folder under `root` (and itself) 0700, every file 0600: what the engines
    wrote with the process's umask (Spark's JVM keeps the one it started with)."""
    os.chmod(root, DIR_MODE)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(folder, name), DIR_MODE)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, FILE_MODE)
