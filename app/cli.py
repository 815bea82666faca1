"""``flask ...`` commands: demo seeding, account administration, schema checks."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.models import Role

demo_cli = AppGroup("demo", help="The demo world.")
users_cli = AppGroup("users", help="Account administration.")
interactions_cli = AppGroup("interactions", help="The interactions log and note counters.")
search_cli = AppGroup("search", help="The search index.")


@search_cli.command("reindex")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def search_reindex(quiet: bool) -> None:
    """Rebuild the index from the database and swap it in whole."""
    from app.services import search

    count = search.reindex(progress=not quiet)
    drained = search.drain_outbox()
    click.echo(f"indexed {count} documents; applied {drained.rows} pending outbox rows")


@search_cli.command("reconcile")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def search_reconcile(quiet: bool) -> None:
    """Compare the database and the index, and repair what differs."""
    from app.services import search

    drained = search.drain_outbox()
    report = search.reconcile(progress=not quiet)
    click.echo(f"applied {drained.rows} outbox rows; {report.missing} missing, {report.stale} "
               f"stale and {report.extra} extra documents repaired")


@interactions_cli.command("recount")
def recount() -> None:
    """Recompute every note's counters from the source tables and report any drift fixed."""
    from app.services import interactions

    drifts = interactions.recount_counters()
    for d in drifts[:50]:
        click.echo(f"note {d.note_id}: {d.counter} was {d.stored}, now {d.actual}")
    if len(drifts) > 50:
        click.echo(f"... and {len(drifts) - 50} more")
    click.echo(f"{len(drifts)} counter{'s' if len(drifts) != 1 else ''} fixed" if drifts
               else "all counters were right")


@demo_cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Only seed a database that has no users yet.")
@click.option("--users", "n_users", default=60, show_default=True,
              type=click.IntRange(0, 1_000_000),
              help="Readers, besides the creators, merchants and the four demo accounts.")
@click.option("--notes", "n_notes", default=200, show_default=True,
              type=click.IntRange(0, 1_000_000), help="Notes in all, spread over the ten topics.")
@click.option("--interactions", "n_interactions", default=20_000, show_default=True,
              type=click.IntRange(0, 100_000_000),
              help="About how many rows the simulated activity adds to the interactions log.")
@click.option("--seed", default=7, show_default=True, type=int,
              help="Same seed and corpus, same world.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def seed(if_empty: bool, n_users: int, n_notes: int, n_interactions: int, seed: int,
         quiet: bool) -> None:
    """Build the demo world and its activity (running it again changes nothing)."""
    from app.services import demo

    report = demo.seed_demo(n_users=n_users, n_notes=n_notes, n_interactions=n_interactions,
                            only_if_empty=if_empty, progress=not quiet, seed=seed)
    click.echo(report.summary())


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice([r.value for r in Role]))
def set_role(email: str, role: str) -> None:
    """Give an account a role (the only way to appoint an operator)."""
    from app.services import accounts

    user = accounts.set_role(email, Role(role))
    click.echo(f"{user.email} is now {user.role.value}")


@click.command("check-schema")
def check_schema() -> None:
    """Exit non-zero unless every migration is applied."""
    from flask import current_app

    from app.schema import require_migrated

    require_migrated(current_app._get_current_object())
    click.echo("schema is current")


recommender_cli = AppGroup("recommender", help="Train, evaluate, publish and roll back models.")


@recommender_cli.command("train")
@click.option("--algo", type=click.Choice(["als", "bpr", "item-knn", "bm25", "ease",
                                           "popularity"]), default=None,
              help="Default: ZC_RECOMMENDER_ALGORITHM (als).")
@click.option("--tune", is_flag=True, help="Search ALS/BPR hyper-parameters first.")
@click.option("--budget", type=float, default=None, help="Tuning time budget, seconds.")
@click.option("--if-none", is_flag=True, help="Only when no model is serving yet.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def recommender_train(algo: str | None, tune: bool, budget: float | None, if_none: bool,
                      quiet: bool) -> None:
    """Train on the interactions log, judge against the serving model, publish if it passes."""
    from app.services import recommendations

    if if_none and recommendations.store().current() is not None:
        click.echo("a model is serving already; nothing to do")
        return
    name = {"item-knn": "cosine"}.get(algo or "", algo)
    report = recommendations.train(name, tune_params=tune, budget_seconds=budget,
                                   progress=not quiet)
    click.echo(report.summary())


@recommender_cli.command("evaluate")
@click.option("--interactions", "path", type=click.Path(dir_okay=False), default=None,
              help="Your own CSV/TSV (user, item, timestamp[, kind]); default: this database.")
@click.option("--columns", default=None, help="Name the columns, e.g. user,item,_,timestamp.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the results as JSON (and a PNG plot beside it).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def recommender_evaluate(path: str | None, columns: str | None, json_path: str | None,
                         quiet: bool) -> None:
    """Compare every model on the same time-based split: precision, recall, NDCG, MAP @10."""
    from app.services import offline_eval

    png = str(json_path).rsplit(".", 1)[0] + ".png" if json_path else None
    if path is None:
        results = offline_eval.evaluate_events(json_path=json_path, png_path=png,
                                               progress=not quiet)
    else:
        results = offline_eval.evaluate_file(path, columns.split(",") if columns else None,
                                             json_path=json_path, png_path=png,
                                             progress=not quiet)
    click.echo(f"{'model':<12}{'precision':>10}{'recall':>10}{'ndcg':>10}{'map':>10}"
               f"{'coverage':>10}{'fit s':>8}")
    for r in results:
        if r.error:
            click.echo(f"{r.label:<12} skipped: {r.error}")
            continue
        m = r.metrics
        click.echo(f"{r.label:<12}{m['precision@10']:>10.4f}{m['recall@10']:>10.4f}"
                   f"{m['ndcg@10']:>10.4f}{m['map@10']:>10.4f}{m['coverage@10']:>10.4f}"
                   f"{r.fit_seconds:>8.2f}")
    if json_path:
        click.echo(f"wrote {json_path} and {png}")


@recommender_cli.command("list")
def recommender_list() -> None:
    """Stored versions, newest first; * marks the one serving."""
    from app.services import recommendations

    versions, serving = recommendations.list_versions()
    if not versions:
        click.echo("no models yet: run `flask recommender train`")
    for v in versions:
        gate = v.metrics.get("gate", {})
        mark = "*" if v.version_id == serving else " "
        click.echo(f"{mark} {v.version_id}  {v.trained_at[:19]}  ndcg@10 "
                   f"{v.metrics.get('ndcg@10', 0):.4f}  gate "
                   f"{'pass' if gate.get('publish') else 'fail'}")


@recommender_cli.command("publish")
@click.argument("version_id")
def recommender_publish(version_id: str) -> None:
    """Serve VERSION_ID now, whatever the gate said."""
    from app.services import recommendations

    click.echo(f"serving {recommendations.publish(version_id).version_id}")


@recommender_cli.command("rollback")
def recommender_rollback() -> None:
    """Serve the previously published version again."""
    from app.services import recommendations

    click.echo(f"serving {recommendations.rollback().version_id}")


feed_cli = AppGroup("feed", help="The personalised feed.")


@feed_cli.command("replay")
@click.option("--users", "max_users", default=500, show_default=True,
              type=click.IntRange(1, 1_000_000), help="Held-out users to replay.")
@click.option("--k", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Where replay.json and replay.png go (default: instance/replay).")
def feed_replay(max_users: int, k: int, out_dir: str | None) -> None:
    """Serve held-out users' feeds as of their cut-off; compare with ALS and popularity."""
    from pathlib import Path

    from app.services import replay

    report = replay.replay(max_users=max_users, k=k, out_dir=Path(out_dir) if out_dir else None)
    click.echo(report.table())
    click.echo(f"{report.users} users; plot: {report.plot}; numbers: {report.json_path}")


@feed_cli.command("plans")
@click.option("--active-days", type=click.IntRange(1, 3650), default=None,
              help="Plan for people with an interaction this recent "
                   "(default: feed_plan_active_days).")
@click.option("--user", "user_ids", type=int, multiple=True,
              help="Plan for this user id only (repeatable).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def feed_plans(active_days: int | None, user_ids: tuple[int, ...], quiet: bool) -> None:
    """Plan the next pages of people's feeds now (the nightly job does it after a retrain)."""
    import time

    from app.services import feed

    start = time.perf_counter()
    made = feed.build_plans(list(user_ids) or None, active_days=active_days,
                            progress=not quiet)
    took = time.perf_counter() - start
    click.echo(f"planned {made} feeds in {took:.1f} s"
               + (f" ({took / made * 1000:.0f} ms each)" if made else ""))


@feed_cli.command("impressions")
def feed_impressions() -> None:
    """Count served feed pages into per-note daily impressions now (server processes do it
    every few seconds by themselves)."""
    from app.services import impressions

    pages = impressions.count()
    click.echo(f"counted the impressions of {pages} pages; "
               f"{impressions.uncounted_pages()} pages waiting")


def register(app: Flask) -> None:
    app.cli.add_command(demo_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(interactions_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(recommender_cli)
    app.cli.add_command(check_schema)
    app.cli.add_command(feed_cli)
    app.cli.add_command(orders_cli)


orders_cli = AppGroup("orders", help="Orders, payments and commissions: the scheduled jobs, "
                      "run by hand.")


@orders_cli.command("release")
def release_orders() -> None:
    """Cancel orders unpaid past their deadline and put their units back on sale."""
    from app.services import orders

    click.echo(f"{orders.release_unpaid()} unpaid orders released")


@orders_cli.command("complete")
def complete_orders() -> None:
    """Complete orders shipped long ago that their buyers never confirmed."""
    from app.services import orders

    click.echo(f"{orders.complete_shipped()} shipped orders completed")


@orders_cli.command("settle")
def settle_orders() -> None:
    """Settle the commissions of orders completed and past the return window."""
    from app.services import ledger

    click.echo(f"{ledger.settle_due()} orders settled")


@orders_cli.command("recover")
def recover_payments() -> None:
    """Act on stored payment webhooks left unprocessed; send refunds a crash left unsent."""
    from app.services import payments, refunds

    sent = refunds.resend_unsent()
    click.echo(f"{payments.redrive_events()} webhook events processed, {sent} refunds sent")
