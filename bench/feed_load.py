"""The feed under load: gunicorn with 2 workers and wrk on the same machine, against a trivial
JSON endpoint of the same app in the same run.

What each wrk connection does: people scrolling. It takes the next person (bearer token),
opens their feed (page 1) and follows ``next_cursor`` for ``--pages`` pages, then takes the
next person. Each connection has people of its own (no person is scrolled by two at once),
and a round's people are its own: a plan serves two scrolls of five pages, and a person
scrolled a third time would be planned on the request. The report counts the scrolls of
people already scrolled in their round (a connection that went round all its people).

The ceilings run through the same app, the same middleware and the same wrk settings:
``/api/v1/health`` (no database) and ``/api/v1/auth/me`` (the token's checks and one user
read, the cheapest authenticated call).

Needs a seeded world with a trained model. Scenarios:

- ``--plan``: the people's plans are made first (what the nightly job does after a retrain),
  then they scroll: the request path alone. Plans get used up: without ``--plan`` a rerun
  finds many plans used up and plans them again on the request;
- ``--plan --stale --worker``: everyone comes back after their plan got old: pages are served
  from the old plans while a Celery worker on the same cores makes the new ones;
- ``--cold``: every plan dropped first: each person's first page is planned on the request.

Impressions are logged as in production (they grow the
interactions table: run it on a copy you can throw away)::

    # PostgreSQL
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/zc_big ZC_INSTANCE_PATH=/tmp/zc_big_pg \\
        .venv/bin/python bench/feed_load.py --duration 30
    # SQLite (the instance's zhongcao.db)
    ZC_INSTANCE_PATH=/tmp/zc_big_sqlite .venv/bin/python bench/feed_load.py --duration 30

The world of BENCHMARKS.md (about 5 minutes each for the seed and for the plans)::

    export ZC_INSTANCE_PATH=/tmp/zc_big_sqlite     # and/or DATABASE_URL=postgresql://.../zc_big
    flask --app app db upgrade
    flask --app app demo seed --users 2000 --notes 10000 --interactions 500000 --quiet
    flask --app app recommender train --quiet
    flask --app app feed plans

Keep a copy (SQLite: ``sqlite3 zhongcao.db "pragma wal_checkpoint(truncate)"`` then copy the
file; PostgreSQL: ``createdb -T zc_big zc_big_pristine``), start each run from it, with the
plans dated a minute before the run (``UPDATE feed_plan SET built_at = ...``), so that every
run serves the same plans and none is planned on the request.

Each measured run follows a short one (``--warmup`` seconds, by an eighth of the people, who
are not measured): a new worker's first feed pages take 200-350 ms (the model, the card
cache), and wrk's latency figures after such a start came out far above every request's
own time (its p99 at 190 ms where the server's own p99 was 4 ms and a plain Python client
measured 4.7 ms: BENCHMARKS.md, 2026-12-06). The warm-up's people are scrolled past their
plans on a fast machine, so it waits a second after the feed's warm-up for the servers to
finish the plans they were making on the request (BENCHMARKS.md, 2026-12-07, fifth part).

The feed's impressions are counted by a thread of each server every
``ZC_FEED_IMPRESSION_COUNT_SECONDS``: what was served in the last interval before a run ended
is counted after it. The report says how many pages were left and how long counting them
takes, the part of the feed's cost outside the measured window.

On a machine whose speed drifts (shared VMs), ``--rounds N`` runs the endpoints in turn N
times (``/health``, the feed, ``/auth/me``), each round with people of its own, then
``/health`` once more, and reports each feed round's ratio to the ``/health`` rounds just
before and after it (and to its round's ``/auth/me``) and their median; the servers then
count every second (unless ``ZC_FEED_IMPRESSION_COUNT_SECONDS`` says otherwise), so that
little of the feed's counting lands in the other endpoints' rounds. Each row also gives
the CPU per request of the server's processes (gunicorn's and PostgreSQL's, from /proc)
beside wrk's own, and the feed's is given round by round too::

    ZC_INSTANCE_PATH=/tmp/zc_big_sqlite .venv/bin/python bench/feed_load.py --duration 3 \\
        --rounds 5

Rate limits are lifted for the run (ZC_RATE_LIMIT_DEFAULT): every request comes from one
address. Needs ``wrk`` (``apt-get install -y wrk``).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BROKER = "redis://127.0.0.1:6379/12"
WARMUP_SETTLE_SECONDS = 1.0
sys.path.insert(0, str(ROOT))

LUA = """
local tokens = {%(tokens)s}
local pages = %(pages)d
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  -- Each thread scrolls people of its own (the (me+1)-th of every ``step``), so that no
  -- person is scrolled by two threads: a plan serves two scrolls, and a third would be
  -- planned on the request (a thread that wraps around its own people scrolls them again,
  -- counted in ``again``).
  me = tonumber(tid)
  step = %(threads)d
  mine = math.floor((#tokens - me - 1) / step) + 1
  if mine < 1 then me, step, mine = 0, 1, #tokens end
  turn = (%(start)d %% mine) - 1
  scrolls = 0
  idx = 1
  page = 0
  cursor = nil
  bad = 0
end

function request()
  if page == 0 then
    turn = (turn + 1) %% mine
    idx = me + 1 + turn * step
    scrolls = scrolls + 1
  end
  local path = "%(path)s"
  if cursor then path = path .. "&cursor=" .. cursor end
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. tokens[idx]})
end

function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
  -- A plain find (memchr and memcmp) rather than a pattern, from near the end of the body
  -- (next_cursor is among the page's last fields): wrk runs on the same two cores, and
  -- matching a pattern over each 17 kB page cost it about 0.1 ms of CPU per response.
  cursor = nil
  local from = #body - 1024
  if from < 1 then from = 1 end
  local _, e = string.find(body, '"next_cursor":"', from, true)   -- orjson: no spaces; null
  if not e and from > 1 then _, e = string.find(body, '"next_cursor":"', 1, true) end
  if e then
    cursor = string.sub(body, e + 1, string.find(body, '"', e + 1, true) - 1)
  end
  page = page + 1
  if page >= pages or cursor == nil then
    page = 0
    cursor = nil
  end
end

function done(summary, latency, requests)
  local total, again = 0, 0
  for _, t in ipairs(threads) do
    total = total + t:get("bad")
    again = again + math.max(0, t:get("scrolls") - t:get("mine"))
  end
  io.write(string.format("NON200 %%d\\n", total))
  io.write(string.format("AGAIN %%d\\n", again))
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tokens(n: int, cold: bool, stale: bool, plan: bool) -> tuple[list[str], str, int]:
    """Bearer tokens for ``n`` people with a plan (or any active people with ``cold``).
    ``plan`` makes their plans first (the nightly batch); ``stale`` then ages every plan past
    the refresh age."""
    from datetime import timedelta

    from sqlalchemy import delete, func, select, update

    from app import create_app
    from app.config import Settings, get_settings
    from app.extensions import db
    from app.models import FeedPlan, Interaction, Note, User
    from app.models.base import utcnow
    from app.services import accounts, feed

    app = create_app(Settings())
    with app.app_context():
        if plan:
            people = list(db.session.scalars(select(User.id).where(User.is_active.is_(True))
                                             .order_by(User.id).limit(n)))
            start = time.perf_counter()
            made = feed.build_plans(people, progress=True)
            print(f"planned {made} feeds in {time.perf_counter() - start:.0f} s",
                  file=sys.stderr)
        if stale:   # every plan past its refresh age: people coming back later
            age = timedelta(minutes=get_settings().feed_plan_refresh_minutes + 1)
            db.session.execute(update(FeedPlan).values(built_at=utcnow() - age))
            db.session.commit()
        if cold:
            db.session.execute(delete(FeedPlan))
            db.session.commit()
            ids = list(db.session.scalars(select(User.id).where(User.is_active.is_(True))
                                          .order_by(User.id).limit(n)))
        else:
            ids = list(db.session.scalars(select(FeedPlan.user_id).order_by(FeedPlan.user_id)
                                          .limit(n)))
        tokens = [accounts.issue_token(db.session.get(User, i)).access_token for i in ids]
        world = (f"{db.session.scalar(select(func.count(User.id)))} users, "
                 f"{db.session.scalar(select(func.count(Note.id)))} notes, "
                 f"{db.session.scalar(select(func.count(Interaction.id)))} interactions, "
                 f"{db.session.scalar(select(func.count(FeedPlan.user_id)))} plans")
        engine = db.engine.url.get_backend_name()
    return tokens, f"{world}; database {engine}", len(ids)


def _after_the_run(started: datetime, windows: list[tuple[datetime, datetime]]
                   ) -> tuple[int, int, int, float]:
    """Plans made since ``started``, and during ``windows`` (the measured feed rounds); pages
    the servers' counter threads had not counted when the run ended, and the seconds it takes
    to count them here (their share of the feed's cost that fell after the measured window)."""
    from sqlalchemy import func, select

    from app import create_app
    from app.config import Settings
    from app.extensions import db
    from app.models import FeedPlan
    from app.services import impressions

    app = create_app(Settings())
    with app.app_context():
        planned = db.session.scalar(select(func.count(FeedPlan.user_id))
                                    .where(FeedPlan.built_at >= started)) or 0
        measured = sum(db.session.scalar(select(func.count(FeedPlan.user_id)).where(
            FeedPlan.built_at >= start, FeedPlan.built_at <= end)) or 0
            for start, end in windows)
        left = impressions.uncounted_pages()
        start = time.perf_counter()
        impressions.count()
        took = time.perf_counter() - start
        db.session.remove()
    return planned, measured, left, took


def _analyze() -> None:
    """On PostgreSQL, ANALYZE the tables the feed writes (its impression pages and their daily
    counts), as autovacuum keeps them in a deployment that has served pages. A world seeded
    for this benchmark has never served a page: those tables were analyzed empty, and the
    generic plan PostgreSQL keeps for the page's read then scans ``feed_impression_page``
    whole on every page (its cost estimated at nothing) until autovacuum's next visit, up to
    ``autovacuum_naptime`` (a minute) later: most of a run's first round, slower by a quarter
    (BENCHMARKS.md, 2026-12-06, night). Run after the feed's warm-up, which gives the tables
    rows to count. The page's statements no longer depend on it (their connections plan
    without sequential scans since 2026-12-07, sixth part); the counter's, on the app's main
    pool, still do."""
    from sqlalchemy import text

    from app import create_app
    from app.config import Settings
    from app.extensions import db

    app = create_app(Settings())
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE feed_impression_page, note_impression_day"))
            db.session.commit()
        db.session.remove()


def _cpu_seconds(sessions: dict[int, str]) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the processes of each session (gunicorn's
    and the Celery worker's, started with ``start_new_session``) and by PostgreSQL's
    processes, from /proc (Linux). Throughput on a shared machine moves with its neighbours;
    CPU time per request moves much less, so each run reports both."""
    tick = os.sysconf("SC_CLK_TCK")
    out = dict.fromkeys([*sessions.values(), "postgres"], 0.0)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, fields = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:]
        values = fields.split()
        group = sessions.get(int(values[3])) or ("postgres" if name.startswith("postgres")
                                                 else None)
        if group:
            out[group] += (int(values[11]) + int(values[12])) / tick
    return out


def _wrk(url: str, script: Path, args: argparse.Namespace, duration: int | None = None,
         sessions: dict[int, str] | None = None) -> dict[str, float]:
    """One wrk run: req/s, latency percentiles, non-200 answers, socket errors, wrk's own
    CPU time per request (it runs on the same cores as the server) and the server's (the app
    and PostgreSQL) per request."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = _cpu_seconds(sessions or {})
    out = subprocess.run(
        ["wrk", "-t", str(args.threads), "-c", str(args.threads),
         "-d", f"{duration or args.duration}s", "--latency", "-s", str(script), url],
        check=True, capture_output=True, text=True).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_after = _cpu_seconds(sessions or {})
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    server = {group: (server_after[group] - server_before[group]) / max(total, 1) * 1e6
              for group in server_after}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = int(re.search(r"NON200 (\d+)", out).group(1))
    again = int(re.search(r"AGAIN (\d+)", out).group(1))
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p50": ms("50%"), "p90": ms("90%"), "p99": ms("99%"),
            "non200": bad, "socket_errors": errors.group(1) if errors else "none",
            "wrk_us": cpu / max(total, 1) * 1e6, "server_us": server, "again": again}


def _combined(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """An endpoint's rounds as one row: requests per second and CPU per request averaged,
    p50 and p90 their medians, p99 the worst round's, errors added up."""
    if len(runs) == 1:
        return runs[0]
    errors = {r["socket_errors"] for r in runs} - {"none"}
    return {"rps": statistics.mean(r["rps"] for r in runs),
            "p50": statistics.median(r["p50"] for r in runs),
            "p90": statistics.median(r["p90"] for r in runs),
            "p99": max(r["p99"] for r in runs),
            "non200": sum(r["non200"] for r in runs),
            "socket_errors": "; ".join(sorted(errors)) or "none",
            "wrk_us": statistics.mean(r["wrk_us"] for r in runs),
            "again": sum(r["again"] for r in runs),
            "server_us": {group: statistics.mean(r["server_us"][group] for r in runs)
                          for group in runs[0]["server_us"]}}


HEALTH = "health (no database)"
AUTH_ME = "auth/me (token + 1 read)"


def _bracketed(feed: list[float], health: list[float]) -> list[float]:
    """Each feed round's throughput in percent of the mean of the /health rounds just before
    and just after it (``health`` has one round more, the closing one). A shared VM's speed
    drifts by a sixth within seconds (BENCHMARKS.md, 2026-12-07, sixth part): a round
    compared with one /health round only takes in the drift between the two, and one
    compared with both sides of it cancels the part of the drift that is steady."""
    if len(health) != len(feed) + 1:
        raise ValueError("the feed's rounds need a /health round on each side")
    return [f / ((before + after) / 2) * 100
            for f, before, after in zip(feed, health, health[1:], strict=False)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=30,
                        help="seconds per endpoint (per round)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the endpoints in turn this many times: on a machine whose "
                             "speed drifts, each ratio compares runs a few seconds apart")
    parser.add_argument("--threads", type=int, default=4,
                        help="wrk threads = connections (each scrolls its own people)")
    parser.add_argument("--people", type=int, default=2000, help="distinct people scrolling")
    parser.add_argument("--pages", type=int, default=5, help="pages each person scrolls")
    parser.add_argument("--limit", type=int, default=20, help="notes per page")
    parser.add_argument("--cold", action="store_true",
                        help="drop every plan first: first pages are planned on the request")
    parser.add_argument("--plan", action="store_true",
                        help="make the people's plans first, as the nightly batch does")
    parser.add_argument("--stale", action="store_true",
                        help="age every plan past the refresh age first: people coming back")
    parser.add_argument("--worker", action="store_true",
                        help="run a Celery worker (Redis broker) beside gunicorn: old and "
                             "used-up plans are made again there, on the same 2 cores")
    parser.add_argument("--warmup", type=int, default=4,
                        help="seconds of load before each measured run, by other people "
                             "(0: none); see the module's docstring")
    parser.add_argument("--out", type=Path, default=None, help="append the table here too")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2

    tokens, world, people = _tokens(args.people, args.cold, args.stale, args.plan)
    if not tokens:
        print("no people with a feed plan: run `flask feed plans` first (or --cold)",
              file=sys.stderr)
        return 2
    port = _free_port()
    env = {**os.environ, "ZC_RATE_LIMIT_DEFAULT": "100000000 per minute"}
    if args.rounds > 1:
        # The servers count served pages every ZC_FEED_IMPRESSION_COUNT_SECONDS (10 s): with
        # rounds of a few seconds that work would land in the other endpoints' rounds.
        env.setdefault("ZC_FEED_IMPRESSION_COUNT_SECONDS", "1")
    worker = None
    if args.worker:
        import redis

        redis.Redis.from_url(BROKER).flushdb()
        env.update(CELERY_BROKER_URL=BROKER, CELERY_RESULT_BACKEND=BROKER)
        worker = subprocess.Popen(
            [str(ROOT / ".venv/bin/celery"), "-A", "worker", "worker", "--pool=solo",
             "--loglevel=WARNING", "--without-gossip", "--without-mingle",
             "--without-heartbeat"], cwd=ROOT, env=env, start_new_session=True)
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env, start_new_session=True)
    sessions = {server.pid: "app"} | ({worker.pid: "worker"} if worker else {})
    base = f"http://127.0.0.1:{port}"
    started = datetime.now(UTC)
    windows: list[tuple[datetime, datetime]] = []     # the measured feed rounds
    closing: dict[str, Any] = {}     # the last /health round (several rounds)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/api/v1/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        rounds: dict[str, list[dict[str, Any]]] = {}
        # The warm-up scrolls people of its own (an eighth), so the measured people's plans
        # are whole when their run starts.
        # An eighth: each round's people must not run out of plan (ten pages, two scrolls of
        # five): a person scrolled past it is planned on the request (100-200 ms on a sync
        # worker, and the requests queued behind it wait: with a quarter here, the rounds of
        # a run at 1,200 pages a second ran out, and those plans made SQLite's p99 74-255 ms,
        # BENCHMARKS.md, 2026-12-07).
        spare = max(1, len(tokens) // 8) if args.warmup and len(tokens) > 1 else 0
        warm_tokens, measured = tokens[len(tokens) - spare:], tokens[:len(tokens) - spare]
        # Each round runs the feed right after /health, and with several rounds a last
        # /health round closes the run: each feed round is compared with the /health rounds
        # just before and just after it (``_bracketed``).
        endpoints = ((HEALTH, "/api/v1/health?x=1", 1),
                     ("feed", f"/api/v1/feed?limit={args.limit}", args.pages),
                     (AUTH_ME, "/api/v1/auth/me?x=1", 1))
        with tempfile.TemporaryDirectory() as tmp:
            for n in range(args.rounds):
                for name, path, pages in endpoints:
                    script = Path(tmp) / f"{n}-{len(rounds)}.lua"
                    if spare and n == 0:
                        script.write_text(LUA % {
                            "tokens": ",".join(f'"{t}"' for t in warm_tokens),
                            "pages": pages, "path": path, "threads": args.threads,
                            "start": 0})
                        _wrk(base, script, args, args.warmup, sessions)
                        if name == "feed":
                            _analyze()
                            # The warm-up's people are scrolled more than twice on a fast
                            # machine, so their plans are made on the request, and the last
                            # of those (100-200 ms each) ran on into the measured round:
                            # the 1-5 plans "in the measured feed rounds" of BENCHMARKS.md,
                            # 2026-12-07, fifth part. Let the servers finish them first.
                            time.sleep(WARMUP_SETTLE_SECONDS)
                    # Each round scrolls people of its own: a plan serves ten pages, and
                    # people scrolled past theirs would be planned on the request.
                    people_now = measured[n::args.rounds] if pages > 1 else measured
                    script.write_text(LUA % {"tokens": ",".join(f'"{t}"' for t in people_now),
                                             "pages": pages, "path": path,
                                             "threads": args.threads,
                                             "start": random.randrange(len(people_now))})
                    began = datetime.now(UTC)
                    rounds.setdefault(name, []).append(
                        _wrk(base, script, args, sessions=sessions))
                    if name == "feed":
                        windows.append((began, datetime.now(UTC)))
            if args.rounds > 1:
                script = Path(tmp) / "closing.lua"
                script.write_text(LUA % {"tokens": ",".join(f'"{t}"' for t in measured),
                                         "pages": 1, "path": endpoints[0][1],
                                         "threads": args.threads, "start": 0})
                closing = _wrk(base, script, args, sessions=sessions)
    finally:
        for proc in (server, worker):
            if proc is not None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
    planned, planned_measured, left, counting = _after_the_run(started, windows)

    results = {name: _combined(runs) for name, runs in rounds.items()}
    feed = results["feed"]
    lines = [
        f"### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
        f"world: {world}; {people} people scrolling {args.pages} pages of {args.limit}, "
        f"{'plans dropped first (cold)' if args.cold else 'plans made ahead'}"
        f"{', aged past the refresh age' if args.stale else ''}; "
        f"gunicorn -w 2 (sync){' + 1 Celery worker' if args.worker else ''}, "
        f"wrk -t{args.threads} -c{args.threads} -d{args.duration}s"
        f"{f' × {args.rounds} rounds' if args.rounds > 1 else ''} after {args.warmup}s "
        "of warm-up; "
        f"{planned} plans made during the run, {planned_measured} in the measured feed rounds"
        f"; {feed['again']} scrolls in them of people already scrolled in their round",
        "", "| endpoint | req/s | p50 ms | p90 ms | p99 ms | non-200 | socket errors "
            "| wrk CPU µs/req | server CPU µs/req |",
        "|---|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        server_cpu = " + ".join(f"{group} {us:.0f}" for group, us in r["server_us"].items()
                                if us >= 0.5)
        lines.append(f"| {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p90']:.2f} | "
                     f"{r['p99']:.2f} | {r['non200']} | {r['socket_errors']} | "
                     f"{r['wrk_us']:.0f} | {server_cpu or '-'} |")
    for name in (HEALTH, AUTH_ME):
        line = (f"\nfeed / {name}: {feed['rps'] / results[name]['rps'] * 100:.0f}% "
                "of its throughput")
        if args.rounds > 1:
            if name == HEALTH:
                each = _bracketed([r["rps"] for r in rounds["feed"]],
                                  [r["rps"] for r in rounds[name]] + [closing["rps"]])
                how = "round by round, against the /health rounds before and after it"
            else:
                each = [f["rps"] / c["rps"] * 100
                        for f, c in zip(rounds["feed"], rounds[name], strict=True)]
                how = "round by round"
            line += (f" ({how}: {', '.join(f'{r:.0f}%' for r in each)}; "
                     f"median {statistics.median(each):.0f}%)")
        lines.append(line)
    if args.rounds > 1:
        lines.append("\nreq/s round by round: " + "; ".join(
            f"{name.split(' ')[0]} " + ", ".join(f"{r['rps']:.0f}" for r in runs)
            for name, runs in rounds.items()) + f"; closing health {closing['rps']:.0f}")
        lines.append("\nfeed CPU µs/req round by round: " + ", ".join(
            " + ".join(f"{group} {us:.0f}" for group, us in r["server_us"].items() if us >= 0.5)
            + f" + wrk {r['wrk_us']:.0f}" for r in rounds["feed"]))
    each = f", {counting / left * 1e6:.0f} µs a page" if left else ""
    lines.append(f"\npages left uncounted when the run ended: {left} (counting them took "
                 f"{counting:.2f} s of one core{each}; servers count every "
                 f"{env.get('ZC_FEED_IMPRESSION_COUNT_SECONDS', '10')} s)")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with args.out.open("a") as fh:
            fh.write(text + "\n\n")
    return 0 if all(r["non200"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
