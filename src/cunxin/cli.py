"""The `cunxin` console command.

A user's mistake (a missing folder, an unknown engine) prints one line and exits 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import contextlib
import getpass
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


# --pool of the commands that read a built pool
built_pool = click.option(
    "--pool",
    "pool_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="A built pool folder (from `cunxin pool build`).",
)
engine_option = click.option(
    "--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True
)
scorecard_file = click.option(
    "--model",
    "model_path",
    required=True,
    type=click.Path(path_type=Path),
    help="A model file (scorecard.json from `cunxin model train`).",
)


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
@engine_option
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


def django_setup() -> None:
    """Configure Django for commands that use the operational database."""
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cunxin.project.settings")
    django.setup()


def _require_migrated() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise click.ClickException(
            "the database is not up to date: run `cunxin manage migrate` first"
        )


@pool.command("publish")
@built_pool
@click.option(
    "--by", default=None, help="Who publishes (recorded in the run); the OS user by default."
)
@click.option(
    "--queue",
    "queued",
    is_flag=True,
    help="Queue the publish for `cunxin worker` and return at once (its run shows progress).",
)
def pool_publish(pool_dir: Path, by: str | None, queued: bool) -> None:
    """Load a built pool into the operational database (idempotent, atomic)."""
    django_setup()
    _require_migrated()
    if queued:
        from cunxin.pool.actions import do_queue_publish

        run = do_queue_publish(pool_dir, by=by or getpass.getuser())
        click.echo(f"queued publish run {run.pk} of {run.pool_dir} for `cunxin worker`")
        return
    click.echo(_publish(pool_dir, by))


def _publish(pool_dir: Path, by: str | None) -> str:
    from cunxin.jobs.models import WorkerProcess
    from cunxin.jobs.worker import process
    from cunxin.pool.publish import publish

    with progress_bar() as update, process(WorkerProcess.Kind.COMMAND) as me:
        run = publish(pool_dir, by=by, progress=update, worker_id=me.worker_id)
    lines = [
        f"published pool run {run.pool_run_id} in {run.timings['total']:.1f} s (publish run {run.pk})"
    ]
    lines.append(
        f"{'table':<18}{'rows':>10}{'inserted':>10}{'updated':>10}{'unchanged':>10}{'retired':>9}"
    )
    from cunxin.pool.publish import TABLES

    for name in (t.name for t in TABLES):
        c = run.counts[name]
        lines.append(
            f"{name:<18}{c['rows']:>10,}{c['inserted']:>10,}{c['updated']:>10,}"
            f"{c['unchanged']:>10,}{c['retired']:>9,}"
        )
    return "\n".join(lines)


@main.group()
def model() -> None:
    """The scorecard behind the model amount (模型额度)."""


@model.command("train")
@built_pool
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder for scorecard.json (the model) and report.html.",
)
@click.option("--seed", default=42, show_default=True, type=int, help="Seed of the holdout split.")
def model_train(pool_dir: Path, out_dir: Path, seed: int) -> None:
    """Train a scorecard on the pool's past loans; write the model and its report."""
    from cunxin.credit.scorecard import summary, train_pool

    trained, paths = train_pool(pool_dir, out_dir, seed)
    click.echo(summary(trained.model, paths))


@model.command("score")
@built_pool
@scorecard_file
@engine_option
def model_score(pool_dir: Path, model_path: Path, engine: str) -> None:
    """Score every adult of the pool into POOL/model_score.parquet."""
    from cunxin.credit.scoring import score_pool, summary

    click.echo(summary(score_pool(pool_dir, model_path, engine), pool_dir))


@model.command("publish")
@built_pool
@scorecard_file
@click.option("--activate", is_flag=True, help="Make it the active model for new decisions.")
@click.option("--by", default=None, help="Who publishes (default: the OS user).")
def model_publish(pool_dir: Path, model_path: Path, activate: bool, by: str | None) -> None:
    """Register the model in the app and load its scores (replacing earlier ones)."""
    django_setup()
    _require_migrated()
    from cunxin.decisions.scores import publish_model

    version = publish_model(
        pool_dir, model_path, by=by or f"cli:{getpass.getuser()}", activate=activate
    )
    state = "active" if version.active else "not active (activate it on the models page)"
    click.echo(f"published model {version.model_id}: {version.scored_count:,} scores, {state}")


@main.command(
    context_settings={
        "ignore_unknown_options": True,
        "allow_extra_args": True,
        "help_option_names": [],
    }
)
@click.pass_context
def manage(ctx: click.Context) -> None:
    """Django's manage.py (migrate, createsuperuser, runserver …) for this project."""
    django_setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["cunxin manage", *ctx.args])


@main.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
@click.option(
    "--head", "kept", metavar="HASH[:HASH]",
    help="The head an earlier check printed, kept outside the database: the audit trail's "
    "hash, then after a colon the access log's. Each must still be in its chain, which "
    "catches removed last rows with a rewound head, or a rebuilt chain.",
)  # fmt: skip
def audit_verify(kept: str | None) -> None:
    """Walk the hash chains of the audit trail and the access log; exit 1 and name the first
    broken row if either was tampered with. Prints the heads to keep outside the database
    (daily: docs/operations.md)."""
    django_setup()
    from django.utils import translation

    from cunxin.audit.chain import verify
    from cunxin.pool.models import verify_access_log

    audit_head, _, access_head = (kept or "").strip().partition(":")
    checks = [
        ("audit chain", "event", "events", verify(head=audit_head or None)),
        ("access log chain", "entry", "entries", verify_access_log(head=access_head or None)),
    ]
    lines, broken = [], False
    for name, one, many, result in checks:
        if result.ok:
            lines.append(f"{name} intact: {result.checked:,} {many} verified")
            continue
        broken = True
        with translation.override("en"):  # the console speaks English
            message = result.message
        where = f" at {one} {result.first_broken_id}" if result.first_broken_id else ""
        intact = "before it " if result.first_broken_id else ""
        lines.append(
            f"{name} BROKEN{where}: {message} ({result.checked:,} {many} {intact}are intact)"
        )
    if broken:
        click.echo("\n".join(lines), err=True)
        sys.exit(1)
    (_n, _o, _m, trail), (_n2, _o2, _m2, access) = checks
    # Kept outside the database (a ticket, a log server), the heads detect even a removal
    # of the last rows or a rewrite of a whole chain by someone with database access.
    if trail.head_id:
        lines.append(f"chain head: event {trail.head_id} {trail.head_hash}")
    if access.head_id:
        lines.append(f"access log head: entry {access.head_id} {access.head_hash}")
    if trail.head_id or access.head_id:
        lines.append(f"keep outside the database: --head {trail.head_hash}:{access.head_hash}")
    click.echo("\n".join(lines))


@main.group()
def org() -> None:
    """The bank's organisation (most of it is managed in the app)."""


@org.command("create-admin")
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True, help="The person's name, shown in the app.")
@click.password_option(help="Prompted for (twice) when not given.")
def org_create_admin(username: str, display_name: str, password: str) -> None:
    """Create the first HQ admin of a new installation."""

    django_setup()
    _require_migrated()
    from django.core.exceptions import ValidationError

    from cunxin.org.actions import bootstrap_hq_admin

    if len(password) < 12:
        raise click.BadParameter("use at least 12 characters", param_hint="--password")
    try:
        bootstrap_hq_admin(
            username=username, password=password, display_name=display_name, by=getpass.getuser()
        )
    except ValidationError as e:
        raise click.ClickException(" ".join(e.messages)) from None
    click.echo(f"HQ admin {username} created; sign in and create branches and users in the app")


@main.group()
def keys() -> None:
    """Keys for personal data (see docs/operations.md, key rotation)."""


@keys.command("new")
@click.option("--id", "kid", required=True, help="Key id, letters and digits (e.g. k2026a).")
def keys_new(kid: str) -> None:
    """Print a new random key as `id:base64`, to put first in a key ring."""
    from cunxin.lib.crypto import new_key

    if not kid.isalnum():
        raise click.BadParameter("letters and digits only", param_hint="--id")
    click.echo(f"{kid}:{new_key()}")


@keys.command("rotate")
@click.option("--batch", default=5000, show_default=True, type=click.IntRange(min=100))
def keys_rotate(batch: int) -> None:
    """Re-encrypt and re-index every protected value with the current (first) keys."""
    django_setup()
    _require_migrated()

    from cunxin.pool.rotation import rotate

    result = rotate(batch=batch, by=f"cli:{getpass.getuser()}")
    click.echo(
        f"rotated {result['rewritten']:,} of {result['checked']:,} persons to field key "
        f"{result['field_key']} and blind-index key {result['blind_index_key']}"
    )


@main.command()
@click.option(
    "--queue",
    "queues",
    default="default",
    show_default=True,
    help="Queues to take tasks from, comma-separated ('*' for all).",
)
@click.option(
    "--interval",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds between looks at an empty queue.",
)
@click.option(
    "--max-tasks", default=None, type=click.IntRange(min=1), help="Stop after this many tasks."
)
@click.option(
    "--stop-with-parent",
    is_flag=True,
    help="Stop once the process that started the worker ends (how the demo runs it).",
)
def worker(queues: str, interval: float, max_tasks: int | None, stop_with_parent: bool) -> None:
    """Run background work: batch runs, publishes, periodic jobs (SIGTERM stops it after
    the current task)."""
    import logging

    django_setup()
    _require_migrated()
    from cunxin.jobs import worker as jobs_worker

    logging.getLogger("django_tasks_db").setLevel(logging.INFO)
    logging.getLogger("django_tasks").setLevel(logging.INFO)
    jobs_worker.run(
        queues=queues.split(","), interval=interval, max_tasks=max_tasks,
        stop_with_parent=stop_with_parent,
    )  # fmt: skip


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
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare everything, do not start the web app.")
def demo(data_dir: Path, scale: float, full: bool, port: int, no_serve: bool) -> None:
    """Synthesise a county, build and publish its pool, create demo users, serve the app."""
    import os

    if full:
        scale = 1.0
    data_dir = data_dir.resolve()
    os.environ["CUNXIN_DATA_DIR"] = str(data_dir)
    # the demo's built-in keys and pool secret, plain HTTP on 127.0.0.1 (never for real
    # data); no debug pages: errors look as in production
    os.environ["CUNXIN_DEMO"] = "1"
    raw, pool_dir = data_dir / "raw", data_dir / "pool"
    os.environ.setdefault("CUNXIN_POOL_DIR", str(pool_dir))  # HQ may publish it again from a page
    click.echo(f"1/5 synthesising a county at scale {scale} into {raw}")
    click.echo(_synth_summary(raw, _synth(raw, scale, 42)))
    click.echo(f"2/5 building the data pool into {pool_dir} (DuckDB)")
    result = _build(raw, pool_dir, "duckdb")
    click.echo(_build_summary(pool_dir, result))
    django_setup()
    from django.conf import settings
    from django.core.management import call_command

    click.echo(f"3/5 preparing the database {settings.DATABASES['default']['NAME']}")
    call_command("migrate", verbosity=0)
    click.echo("4/5 publishing the pool")
    click.echo(_publish(pool_dir, "demo"))
    from cunxin.org.demo import PASSWORDS_FILE, setup_demo_org

    users = setup_demo_org(data_dir / PASSWORDS_FILE)
    click.echo(f"5/5 demo users (passwords kept in {data_dir / PASSWORDS_FILE}):")
    click.echo(f"  {'user':<12}{'password':<16}{'role':<10} scope")
    for u in users:
        click.echo(f"  {u.username:<12}{u.password:<16}{u.role:<10} {u.scope}")
    from cunxin.evaluation.demo import setup_demo_evaluation

    for line in setup_demo_evaluation():
        click.echo(f"  evaluation demo: {line}")
    from cunxin.decisions.demo import setup_demo_credit

    for line in setup_demo_credit(pool_dir, data_dir):
        click.echo(f"  credit demo: {line}")
    click.echo("identity photos, SMS and core banking are SIMULATORS in the demo")
    if no_serve:
        return
    click.echo(f"serving on http://127.0.0.1:{port}/  (Ctrl-C stops both)")
    with _worker_process():
        call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)


@contextlib.contextmanager
def _worker_process() -> Iterator[None]:
    """`cunxin worker` beside the demo's web server (same database and settings), ended
    with it: batch runs and publishes started from the pages run there."""
    import os
    import subprocess

    proc = subprocess.Popen(
        [sys.executable, "-m", "cunxin.cli", "worker", "--stop-with-parent"], env=os.environ.copy()
    )
    click.echo(f"background worker started (cunxin worker, pid {proc.pid})")
    try:
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
