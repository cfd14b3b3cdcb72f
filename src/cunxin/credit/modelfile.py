"""The scorecard model file: its format, reading it back and checking it.

A model is JSON (`scorecard.train` writes it, `scoring` applies it, the app publishes its
scores): a base, one table of bins → points per feature, and the grade cut-offs. It is
data that may have been edited, so every name, edge and category that scoring writes
into SQL is checked here first. No Django, no engine: the bottom of `cunxin.credit`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from cunxin.datapool.errors import PoolInputError

FORMAT = "cunxin.scorecard"
VERSION = 1


class ModelInputError(PoolInputError):
    """A problem with the data or the model file the user gave; shown in one line."""


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON: {type(value).__name__}")


def dumps(model: dict) -> str:
    return json.dumps(model, ensure_ascii=False, indent=1, default=_json_default) + "\n"


def load_model(path: Path) -> dict:
    """Read and check a model file; a wrong file is a `ModelInputError`, never a crash
    deep inside the SQL."""
    path = Path(path)
    if not path.is_file():
        raise ModelInputError(f"model file not found: {path}")
    try:
        model = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelInputError(f"{path} is not a scorecard model (not JSON: {e})") from None
    return check_model(model, str(path))


def check_model(model: Any, where: str = "the model") -> dict:
    """Validate a model dict: format and version, and every name, edge and category that
    will be written into SQL (a model file is data and may have been edited)."""
    if not isinstance(model, dict) or model.get("format") != FORMAT:
        raise ModelInputError(f"{where} is not a cunxin scorecard model (format {FORMAT!r})")
    if model.get("version") != VERSION:
        raise ModelInputError(
            f"{where} is a scorecard of format version {model.get('version')!r}; this cunxin "
            f"reads version {VERSION}: train it again with `cunxin model train`"
        )
    try:
        _check_structure(model)
    except (KeyError, TypeError, ValueError) as e:
        raise ModelInputError(f"{where} is damaged: {e}") from None
    return model


def _check_structure(model: dict) -> None:
    if not isinstance(model["base_points"], int):
        raise ValueError("base_points is not an integer")
    if not model["variables"]:
        raise ValueError("no variables")
    for v in model["variables"]:
        _identifier(v["name"])
        if v["kind"] not in ("numeric", "boolean", "categorical"):
            raise ValueError(f"{v['name']}: unknown kind {v['kind']!r}")
        if not isinstance(v["missing"]["points"], int):
            raise ValueError(f"{v['name']}: missing points not an integer")
        for b in v["bins"]:
            if not isinstance(b["points"], int):
                raise ValueError(f"{v['name']}: points not an integer")
        if v["kind"] == "categorical":
            for b in v["bins"]:
                for c in b["categories"]:
                    if not isinstance(c, str) or "'" in c or "\\" in c:
                        raise ValueError(f"{v['name']}: unusable category {c!r}")
        else:
            edges = [b["upper"] for b in v["bins"][:-1]]
            if any(not isinstance(e, int) for e in edges) or edges != sorted(set(edges)):
                raise ValueError(f"{v['name']}: bin edges are not increasing integers")
            if v["bins"][-1]["upper"] is not None:
                raise ValueError(f"{v['name']}: the last bin must be open-ended")
    cutoffs = [g["min_score"] for g in model["grades"][:-1]]
    if not model["grades"] or model["grades"][-1]["min_score"] is not None:
        raise ValueError("the last grade must take every remaining score")
    if any(not isinstance(c, int) for c in cutoffs) or cutoffs != sorted(
        set(cutoffs), reverse=True
    ):
        raise ValueError("grade cut-offs are not decreasing integers")
    for g in model["grades"]:
        _identifier(g["grade"])
    if not isinstance(model["model_id"], str) or not model["model_id"].replace("-", "").isalnum():
        raise ValueError("model_id")


def _identifier(name: Any) -> str:
    if not (isinstance(name, str) and name.isascii() and name.isidentifier() and name.islower()):
        raise ValueError(f"unusable name {name!r}")
    return name
