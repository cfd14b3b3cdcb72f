"""Generate a whole synthetic county: geography, people, every raw source, ground truth.

The order matters only where one source depends on another (loans need customer
numbers, farmer credit files and black lists look at loans); each step draws from its
own random stream, so the output is a pure function of (scale, seed).
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

from .bank import build_blackgrey, build_ebank, build_grid, build_payroll, build_sunshine
from .common import Progress, stage_rng
from .context import Context
from .geography import build_geography, write_geojson
from .ods import build_customers, build_deposits, build_farmer_credit
from .output import Truth
from .population import build_population
from .risk import build_loans
from .third_party import build_enterprise, build_real_estate, build_social_security
from .truth import write_truth

SOURCE_STEPS = (
    ("customer", lambda ctx, scale: build_customers(ctx, scale)),
    ("deposit", lambda ctx, scale: build_deposits(ctx)),
    ("loan", lambda ctx, scale: build_loans(ctx)),
    ("farmer_credit", lambda ctx, scale: build_farmer_credit(ctx)),
    ("ebank", lambda ctx, scale: build_ebank(ctx)),
    ("payroll", lambda ctx, scale: build_payroll(ctx)),
    ("grid", lambda ctx, scale: build_grid(ctx)),
    ("sunshine2017", lambda ctx, scale: build_sunshine(ctx)),
    ("blackgrey", lambda ctx, scale: build_blackgrey(ctx)),
    ("social_security", lambda ctx, scale: build_social_security(ctx)),
    ("real_estate", lambda ctx, scale: build_real_estate(ctx)),
    ("enterprise", lambda ctx, scale: build_enterprise(ctx)),
)


def _no_progress(step: str, done: int, total: int) -> None:
    return None


def generate(
    out_dir: Path,
    scale: float = 0.01,
    seed: int = 42,
    progress: Progress | None = None,
) -> dict:
    """Write a synthetic county under out_dir (the RAW/ layout of cunxin.datapool.sources).

    Returns a summary: rows per source, households, persons, elapsed seconds.
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    # millions of live strings in lists make the cyclic collector's full passes slow;
    # nothing here builds reference cycles worth collecting
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _generate(Path(out_dir), scale, seed, progress or _no_progress)
    finally:
        if collecting:
            gc.enable()


def _generate(out_dir: Path, scale: float, seed: int, tick: Progress) -> dict:
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    n_steps = len(SOURCE_STEPS) + 3

    tick("geography", 0, n_steps)
    geo = build_geography(stage_rng(seed, "geography"), scale)
    tick("population", 1, n_steps)
    pop = build_population(stage_rng(seed, "population"), geo)
    ctx = Context(seed=seed, raw=out_dir, geo=geo, pop=pop, truth=Truth(), progress=tick)
    tick("geojson", 2, n_steps)
    write_geojson(out_dir / "geo", geo, pop.hh_no, pop.hh_group, pop.hh_lon, pop.hh_lat)

    for k, (name, step) in enumerate(SOURCE_STEPS, start=3):
        tick(name, k, n_steps)
        step(ctx, scale)

    summary = {
        "scale": scale,
        "seed": seed,
        "townships": len(geo.townships),
        "villages": len(geo.village_code),
        "groups": len(geo.group_code),
        "households": pop.hh_count,
        "persons": pop.n,
        "rows": {name: ctx.row_counts[name] for name, _ in SOURCE_STEPS},
        "loans_bad_rate": _bad_rate(ctx),
    }
    tick("truth", n_steps - 1, n_steps)
    write_truth(ctx, summary)
    tick("done", n_steps, n_steps)
    return summary | {"elapsed_seconds": round(time.perf_counter() - started, 2)}


def _bad_rate(ctx: Context) -> float:
    loans = ctx.loans
    if loans is None or not loans.outcome:
        return 0.0
    bad = sum(1 for o in loans.outcome if o in ("overdue", "default"))
    return round(bad / len(loans.outcome), 4)
