"""The `cunxin` console command.

A user's mistake (a missing folder, an unknown engine) prints one line and exits 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cunxin.datapool.errors import PoolInputError

console = Console(stderr=True)


@contextlib.contextmanager
def progress_bar() -> Iterator:
    """A callback `(label, done, total)` drawing one bar per label."""
    with Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    ) as bar:
        tasks: dict[str, int] = {}

        def update(label: str, done: int, total: int) -> None:
            group = label.split(" ")[0]
            if group not in tasks:
                tasks[group] = bar.add_task(group, total=total)
            bar.update(tasks[group], completed=done, total=total, description=label)

        yield update


class UserErrors(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PoolInputError as e:
            raise click.ClickException(str(e)) from None


@click.group(cls=UserErrors)
@click.version_option(package_name="cunxin")
def main() -> None:
    """村信 cunxin: whole-village credit granting for rural commercial banks."""


@main.command()
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder to write the county into.",
)
@click.option(
    "--scale",
    default=0.01,
    show_default=True,
    type=click.FloatRange(min=0.0001, max=2.0),
    help="1.0 = the reference county bank.",
)
@click.option("--seed", default=42, show_default=True, type=int)
def synth(out_dir: Path, scale: float, seed: int) -> None:
    """Write a synthetic county in the sources' native formats (plus _truth/)."""
    summary = _synth(out_dir, scale, seed)
    click.echo(_synth_summary(out_dir, summary))


def _synth(out_dir: Path, scale: float, seed: int) -> dict:
    from cunxin.synth import generate

    with progress_bar() as update:
        return generate(out_dir, scale=scale, seed=seed, progress=update)


def _synth_summary(out_dir: Path, summary: dict) -> str:
    rows = summary.get("rows", summary.get("row_counts", {}))
    parts = ", ".join(f"{k} {v:,}" for k, v in rows.items()) if isinstance(rows, dict) else ""
    return f"synthetic county written to {out_dir}: {parts}"


@main.group()
def pool() -> None:
    """The data pool."""


@pool.command("build")
@click.option(
    "--raw",
    "raw_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder of raw source files.",
)
@click.option(
    "--pool",
    "pool_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder for the pool's outputs.",
)
@click.option(
    "--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True
)
def pool_build(raw_dir: Path, pool_dir: Path, engine: str) -> None:
    """Land, standardize, link and profile every source into POOL/."""
    result = _build(raw_dir, pool_dir, engine)
    click.echo(_build_summary(pool_dir, result))


def _build(raw_dir: Path, pool_dir: Path, engine: str) -> dict:
    from cunxin.datapool.build import build

    with progress_bar() as update:
        return build(raw_dir, pool_dir, engine, progress=update)


def _build_summary(pool_dir: Path, result: dict) -> str:
    m, q = result["manifest"], result["quality"]
    lines = [
        f"pool built in {m['seconds']:.1f} s on {m['engine']} (run {m['run_id']})",
        "",
        f"{'source':<16}{'in':>10}{'rejected':>10}{'accepted':>10}{'linked':>9}",
    ]
    for name, r in q["sources"].items():
        rejected = r["rows_rejected_landing"] + r["rows_rejected_standardize"]
        rate = "-" if r["match_rate"] is None else f"{r['match_rate']:.1%}"
        lines.append(
            f"{name:<16}{r['rows_in']:>10,}{rejected:>10,}{r['rows_accepted']:>10,}{rate:>9}"
        )
    warnings = q["warnings"] + [f"{n}: {w}" for n, r in q["sources"].items() for w in r["warnings"]]
    if warnings:
        lines += ["", "warnings:"] + [f"  ! {w}" for w in warnings]
    s = q["summary"]
    lines += [
        "",
        f"persons {s['persons']:,} · households {s['households']:,} · tags {s['tags']:,} · "
        f"relationship edges {s['edges']:,} · risk flags {s['flags']:,}",
        f"outputs:        {pool_dir}/*.parquet",
        f"quality report: {pool_dir / 'quality_report.md'}",
        f"manifest:       {pool_dir / 'manifest.json'}",
    ]
    return "\n".join(lines)


@main.command()
@click.option(
    "--dir",
    "data_dir",
    default=Path("demo-data"),
    show_default=True,
    type=click.Path(path_type=Path),
)
@click.option(
    "--scale",
    default=0.01,
    show_default=True,
    type=click.FloatRange(min=0.0001, max=2.0),
    help="1.0 runs the full county.",
)
@click.option("--full", is_flag=True, help="The full county (same as --scale 1.0).")
def demo(data_dir: Path, scale: float, full: bool) -> None:
    """Synthesise a small county and build its data pool."""
    if full:
        scale = 1.0
    raw, pool_dir = data_dir / "raw", data_dir / "pool"
    click.echo(f"1/2 synthesising a county at scale {scale} into {raw}")
    click.echo(_synth_summary(raw, _synth(raw, scale, 42)))
    click.echo(f"2/2 building the data pool into {pool_dir} (DuckDB)")
    result = _build(raw, pool_dir, "duckdb")
    click.echo(_build_summary(pool_dir, result))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
