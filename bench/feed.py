"""Feed latency on a demo world: p50 / p90 / p99 of ``GET /api/v1/feed`` end to end in-process
(routing, auth, the whole pipeline, notes, impression logging), for logged-in users' first and
second pages and for visitors, plus the mean time of each source.

Needs a seeded world with a trained model (``flask recommender train``), e.g. the demo
PostgreSQL copy::

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/zc_feed_demo \\
    ZC_INSTANCE_PATH=/tmp/zc_feed_demo_inst .venv/bin/python bench/feed.py --requests 500

Impressions are logged as in production (they grow the interactions table of that database:
run it on a copy). The gunicorn + wrk throughput run of BENCHMARKS.md is separate.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="write the table here too")
    args = parser.parse_args()

    from sqlalchemy import func, select

    from app import create_app
    from app.config import Settings
    from app.extensions import db
    from app.models import Interaction, Note, User
    from app.services import accounts, serving

    app = create_app(Settings())
    rng = random.Random(args.seed)
    with app.app_context():
        served = serving.serving_model()
        model_id = served[1] if served else None
        world = (db.session.scalar(select(func.count(User.id))),
                 db.session.scalar(select(func.count(Note.id))),
                 db.session.scalar(select(func.count(Interaction.id))))
        user_ids = list(db.session.scalars(select(User.id).where(User.is_active.is_(True))))
        sample = rng.sample(user_ids, min(200, len(user_ids)))
        tokens = {u: accounts.issue_token(db.session.get(User, u)).access_token for u in sample}
    client = app.test_client()
    timings: dict[str, list[float]] = defaultdict(list)
    source_ms: dict[str, list[float]] = defaultdict(list)
    statuses: dict[int, int] = defaultdict(int)

    def get(kind: str, headers: dict, cursor: str | None = None) -> dict:
        query = {"limit": args.limit, **({"cursor": cursor} if cursor else {})}
        start = time.perf_counter()
        resp = client.get("/api/v1/feed", query_string=query, headers=headers)
        took = (time.perf_counter() - start) * 1000
        statuses[resp.status_code] += 1
        body = resp.get_json() or {}
        if kind.startswith("user"):   # a page served from the plan, or planned on the request
            kind += ", planned now" if body.get("planned_now") else ", from the plan"
        timings[kind].append(took)
        for report in body.get("source_reports", []):
            if report["status"] in ("ok", "empty") and body.get("planned_now"):
                source_ms[report["name"]].append(report["ms"])
        return body

    for u in sample[:10]:  # warm-up: model load, pools, caches
        get("warm-up", {"Authorization": f"Bearer {tokens[u]}"})
    for _ in range(args.requests):
        u = rng.choice(sample)
        headers = {"Authorization": f"Bearer {tokens[u]}"}
        page = get("user, page 1", headers)
        if page.get("next_cursor") and rng.random() < 0.3:
            get("user, page 2", headers, page["next_cursor"])
        if rng.random() < 0.2:
            get("visitor", {})
    timings.pop("warm-up", None)
    lines = [f"world: {world[0]} users, {world[1]} notes, {world[2]} interactions; "
             f"model {model_id}; database {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}",
             "", "| request | n | p50 ms | p90 ms | p99 ms | mean ms |",
             "|---|---|---|---|---|---|"]
    for kind, values in sorted(timings.items()):
        lines.append(f"| {kind} | {len(values)} | {_pct(values, 50):.1f} | "
                     f"{_pct(values, 90):.1f} | {_pct(values, 99):.1f} | "
                     f"{statistics.fmean(values):.1f} |")
    lines += ["", "| source | mean ms | p99 ms |", "|---|---|---|"]
    for name, values in sorted(source_ms.items()):
        lines.append(f"| {name} | {statistics.fmean(values):.1f} | {_pct(values, 99):.1f} |")
    lines.append(f"\nstatuses: {dict(statuses)}")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0 if set(statuses) == {200} else 1


if __name__ == "__main__":
    raise SystemExit(main())
