"""Feed impressions: one row per served page, rolled up into daily counts per note.

A feed page shows 20 notes. Logged as 20 rows of ``interaction`` (five indexes each), its
impressions cost more than serving the page and held SQLite's write lock long enough for the
other server process to queue behind it (BENCHMARKS.md). So the page writes one
``FeedImpressionPage`` row in its own transaction (``log_page``: a crash loses nothing), and
the two kinds of readers read what suits them:

- *what was shown to whom* (the page's "already shown since the plan" check, the pipeline's
  seen filter): the person's pages by (user_id, at), ``shown_since``;
- *how often a note was shown* (the fresh source, engagement rates, creator analytics):
  ``NoteImpressionDay``, which ``count`` rolls pages up into, ``feed_counts`` and
  ``daily_counts``. Counts lag the pages by up to ``feed_impression_count_seconds``.

Who counts: a thread of each server process every ``feed_impression_count_seconds``
(``start_counter``, from ``wsgi.py``), ``flask feed impressions`` on demand, and the nightly
job. Counting is safe to run anywhere at once and counts each page exactly once: pages are
counted in id order, and ``FeedImpressionMark`` says how far (every page up to it is counted,
none above), moved on in the transaction that adds the counts. What makes id order safe is
knowing that no page with a lower id can still appear: on PostgreSQL ids are handed out before
their pages commit, so each page's insert holds an advisory lock (``PAGE_WRITE_LOCK``, shared,
until it commits) and the counter takes it exclusively for a moment before it reads the highest
id; on SQLite a counter holds the one write lock. A second counter at the same time waits for
the mark's row and then finds the pages counted. A page's row is never written again once
inserted (a flag per page cost each page one more index entry and later an update of its row
and every index: BENCHMARKS.md, 2026-12-07).

Impressions the apps send themselves (``POST /api/v1/events``) stay in ``interaction``;
every reader adds both.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import orjson
from flask import Flask, current_app
from sqlalchemy import func, select, text

from app import schema
from app.config import get_settings
from app.extensions import db
from app.models import FeedImpressionMark, FeedImpressionPage, NoteImpressionDay

log = logging.getLogger(__name__)

BATCH_PAGES = 5000
# A server process's counter thread on SQLite: pages per transaction and seconds between its
# transactions (a batch holds SQLite's one write lock, and the pages being served wait behind
# it). On PostgreSQL a batch locks only the mark's row and the daily rows it adds to (pages go
# on being written), so the thread counts BATCH_PAGES at a time: per page a batch of 100 costs
# the database 112-115 us of CPU, one of 1,000 52 us and one of 5,000 35-37 us (each note's
# daily row is upserted once per batch; BENCHMARKS.md, 2026-12-06, night).
SERVER_BATCH_PAGES = 100
SERVER_PAUSE = 0.02

# The advisory lock every page write holds until it commits (PostgreSQL; see the module's
# docstring). Any number of pages hold it at once; the counter waits only for those in flight.
PAGE_WRITE_LOCK = 0x7A43_1D0F
_INSERT = ("INSERT INTO feed_impression_page (user_id, request_id, first_position, note_ids, "
           "at) VALUES (?, ?, ?, ?, ?)")
# On PostgreSQL the page's transaction (its own, when the page runs in autocommit) does not
# wait for its WAL to reach the disk (``set_config(..., true)`` is SET LOCAL): a page's only
# write is its impressions, and an app crash loses nothing; a crash of the database server may
# lose the last fraction of a second of impressions, never integrity. Orders, likes and the
# rest keep the default.
_INSERT_POSTGRESQL = (
    "INSERT INTO feed_impression_page (user_id, request_id, first_position, note_ids, at) "
    "SELECT %s, %s, %s, %s, %s FROM (SELECT set_config('synchronous_commit', 'off', true), "
    f"pg_advisory_xact_lock_shared({PAGE_WRITE_LOCK})) AS page_write")
# The highest id below which every page is committed: waits for the pages being written and
# reads once they are (two statements: the read's snapshot is taken after the wait).
_SETTLE_POSTGRESQL = text(f"SELECT pg_advisory_xact_lock({PAGE_WRITE_LOCK})")
_HIGHEST = text("SELECT coalesce(max(id), 0) FROM feed_impression_page")
# The mark, locked for this batch (PostgreSQL: a second counter waits here, then reads where
# this one left it). On SQLite the batch's first statement is a write, so that the batch holds
# the write lock from its start (a read first would begin a read transaction that could not
# write if a page were logged meanwhile).
# (SQLite has no FOR UPDATE: SQLAlchemy leaves it out there.)
_MARK = (select(FeedImpressionMark.counted_through).where(FeedImpressionMark.id == 1)
         .with_for_update())
_MARK_SQLITE_LOCK = text(
    "UPDATE feed_impression_mark SET counted_through = counted_through WHERE id = 1")
_MOVE_MARK = text("UPDATE feed_impression_mark SET counted_through = :high WHERE id = 1")
_PAGES_BETWEEN = text(
    "SELECT count(*) FROM feed_impression_page WHERE id > :low AND id <= :high")
_UNCOUNTED = text(
    "SELECT count(*) FROM feed_impression_page WHERE id > "
    "coalesce((SELECT counted_through FROM feed_impression_mark WHERE id = 1), 0)")
# The batch's pages' impressions added up per note and UTC day inside the database (a page's
# "1,2,3" split by json_each on SQLite, unnest on PostgreSQL): no Python per impression, and
# the write lock or the rows held for milliseconds. Notes hard-deleted since they were served
# are skipped (``EXISTS``, once per note and day). On SQLite each page's day is worked out
# once (``MATERIALIZED``), not once per impression: 3.7-3.8 against 4.2 ms per 100 pages
# (BENCHMARKS.md, 2026-12-06, evening).
_ADD_SQLITE = text(
    "WITH page AS MATERIALIZED ("
    "  SELECT note_ids, date(at) AS day FROM feed_impression_page "
    "  WHERE id > :low AND id <= :high), "
    "tally AS ("
    "  SELECT CAST(j.value AS INTEGER) AS note_id, page.day AS day, count(*) AS n "
    "  FROM page, json_each('[' || page.note_ids || ']') AS j GROUP BY 1, 2) "
    "INSERT INTO note_impression_day (note_id, day, impressions) "
    "SELECT note_id, day, n FROM tally "
    "WHERE EXISTS (SELECT 1 FROM note WHERE note.id = tally.note_id) "
    "ON CONFLICT (note_id, day) "
    "DO UPDATE SET impressions = note_impression_day.impressions + excluded.impressions")
_ADD_POSTGRESQL = text(
    "INSERT INTO note_impression_day (note_id, day, impressions) "
    "SELECT tally.note_id, tally.day, tally.n FROM ("
    "  SELECT n.note_id, (p.at AT TIME ZONE 'UTC')::date AS day, count(*) AS n "
    "  FROM feed_impression_page AS p "
    "  CROSS JOIN LATERAL unnest(string_to_array(p.note_ids, ',')::int[]) AS n(note_id) "
    "  WHERE p.id > :low AND p.id <= :high GROUP BY 1, 2) AS tally "
    "WHERE EXISTS (SELECT 1 FROM note WHERE note.id = tally.note_id) "
    "ON CONFLICT (note_id, day) "
    "DO UPDATE SET impressions = note_impression_day.impressions + excluded.impressions")


class MarkMissing(RuntimeError):
    """``feed_impression_mark`` has no row: the database was not migrated
    (``flask --app app db upgrade``)."""


def log_page(viewer_id: int, request_id: str, note_ids: Iterable[int], first_position: int,
             at: datetime, on: tuple[Any, Any] | None = None) -> None:
    """One served page's impressions, in the caller's transaction: the session's, or that of
    ``on`` (a DBAPI connection and its dialect; the feed page's own connection). Commit soon
    after: on PostgreSQL the page holds ``PAGE_WRITE_LOCK`` until its transaction ends, and a
    counter waits for it (with the pages that come after it waiting behind the counter)."""
    if on is None:
        connection = db.session.connection()
        on = (connection.connection, connection.dialect)
    dbapi, dialect = on
    params = (viewer_id, request_id, first_position, ",".join(map(str, note_ids)),
              _datetime_bind(dialect)(at))
    # On the driver's own cursor: the hottest write of the app (SQLAlchemy's statement
    # machinery cost more than the insert).
    cursor = dbapi.cursor()
    try:
        cursor.execute(_INSERT_POSTGRESQL if dialect.name == "postgresql" else _INSERT, params)
    finally:
        cursor.close()


@functools.cache
def _datetime_bind(dialect: Any) -> Any:
    """``at`` through the column type's own bind processing, so it is stored exactly as the
    ORM stores it."""
    column_type = FeedImpressionPage.__table__.c.at.type
    process = column_type.bind_processor(dialect)

    def bind(value: datetime) -> Any:
        value = column_type.process_bind_param(value, dialect)
        return process(value) if process else value
    return bind


def parse_ids(value: Any) -> set[int]:
    """Note ids from a ``note_ids`` string or an aggregate of them ("1,2,3"; a feed page reads
    up to a few hundred, parsed in C), a list of ids, or None."""
    if not value:
        return set()
    if not isinstance(value, str):
        return set(value)
    try:
        return set(orjson.loads("[" + value.strip(",") + "]"))
    except orjson.JSONDecodeError:   # an empty page's "" inside an aggregate: "1,,2"
        return {int(i) for i in value.split(",") if i}


def shown_since(user_id: int, since: datetime) -> set[int]:
    """Notes the feed served this person since ``since``."""
    out: set[int] = set()
    for ids in db.session.scalars(select(FeedImpressionPage.note_ids).where(
            FeedImpressionPage.user_id == user_id, FeedImpressionPage.at >= since)):
        out |= parse_ids(ids)
    return out


def slots(request_id: str) -> list[tuple[int, int]]:
    """(note id, position) of every note a feed session (request id) served, by position:
    what a click or an order that carries the request id and a position was made from."""
    out: list[tuple[int, int]] = []
    for first, note_ids in db.session.execute(
            select(FeedImpressionPage.first_position, FeedImpressionPage.note_ids)
            .where(FeedImpressionPage.request_id == request_id)):
        out.extend((int(n), first + i) for i, n in enumerate(note_ids.split(",")))
    return sorted(out, key=lambda slot: slot[1])


def served_count(user_id: int) -> int:
    """How many notes the feed has served this person (all their pages)."""
    return sum(len(ids.split(",")) for ids in db.session.scalars(
        select(FeedImpressionPage.note_ids).where(FeedImpressionPage.user_id == user_id)))


def _settled() -> int | None:
    """PostgreSQL: the highest page id at or below which every page is committed (no lower id
    can still appear). None on SQLite, where each batch reads it under the write lock."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    try:
        db.session.execute(_SETTLE_POSTGRESQL)
        high = int(db.session.scalar(_HIGHEST))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return high


def _count_batch(batch: int, settled: int | None) -> tuple[int, bool]:
    """Count the pages after the mark, up to ``batch`` ids past it (and not past
    ``settled``), and move the mark past them, in one transaction. Returns the number of
    pages counted and whether pages are left before ``settled``."""
    with schema.write_turn(current_app):    # SQLite: the batch waits its turn
        session = db.session
        sqlite = settled is None            # see ``_settled``
        try:
            if sqlite:                      # the write lock first, then what it guards
                session.execute(_MARK_SQLITE_LOCK)
                settled = int(session.scalar(_HIGHEST))
            low = session.scalar(_MARK)
            if low is None:
                raise MarkMissing(
                    "feed_impression_mark has no row: run `flask --app app db upgrade`")
            high = min(settled, low + batch)
            pages = 0
            if high > low:
                bounds = {"low": low, "high": high}
                pages = int(session.scalar(_PAGES_BETWEEN, bounds))
                if pages:
                    session.execute(_ADD_SQLITE if sqlite else _ADD_POSTGRESQL, bounds)
                session.execute(_MOVE_MARK, {"high": high})
            session.commit()
        except BaseException:
            session.rollback()
            raise
        return pages, high < settled


def count(batch: int = BATCH_PAGES, *, limit_batches: int | None = None,
          pause: float = 0.0) -> int:
    """Roll served pages up into ``NoteImpressionDay``, oldest first, ``batch`` page ids per
    transaction, until none are left (or after ``limit_batches``), ``pause`` seconds between
    transactions. Returns the pages counted. Safe to run in several processes at once; each
    page is counted once. Pages logged while it runs are left for the next call."""
    settled = _settled()
    pages = done = 0
    while limit_batches is None or done < limit_batches:
        n, more = _count_batch(batch, settled)
        pages, done = pages + n, done + 1
        if not more:
            break
        if pause:
            time.sleep(pause)
    return pages


def uncounted_pages() -> int:
    """Pages served but not counted yet."""
    return int(db.session.scalar(_UNCOUNTED) or 0)


def feed_counts(note_ids: list[int]) -> dict[int, int]:
    """Feed impressions per note, all time (counted pages)."""
    if not note_ids:
        return {}
    from app.feed.readers import among

    return {note_id: int(n) for note_id, n in db.session.execute(
        select(NoteImpressionDay.note_id, func.sum(NoteImpressionDay.impressions))
        .where(among(NoteImpressionDay.note_id, note_ids))
        .group_by(NoteImpressionDay.note_id))}


def daily_counts(author_id: int, start: date, end: date) -> dict[int, int]:
    """Feed impressions per note of this author, ``start`` to ``end`` inclusive (UTC days).
    (The feed never serves people their own notes.)"""
    from app.models import Note

    return {note_id: int(n) for note_id, n in db.session.execute(
        select(NoteImpressionDay.note_id, func.sum(NoteImpressionDay.impressions))
        .join(Note, Note.id == NoteImpressionDay.note_id)
        .where(Note.author_id == author_id, NoteImpressionDay.day >= start,
               NoteImpressionDay.day <= end)
        .group_by(NoteImpressionDay.note_id))}


class ImpressionCounter:
    """Runs ``count`` every ``interval`` seconds from a daemon thread (one per server process;
    several at once are fine). A failure is logged and tried again next time: the pages stay
    uncounted until then."""

    def __init__(self, app: Flask, interval: float) -> None:
        self.app = app
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        with self.app.app_context():
            try:
                if db.engine.dialect.name == "postgresql":
                    return count(BATCH_PAGES)
                # Small transactions with a breath between them: on SQLite a batch holds the
                # one write lock, and the pages being served wait behind it.
                return count(SERVER_BATCH_PAGES, limit_batches=1000, pause=SERVER_PAUSE)
            finally:
                db.session.remove()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - a locked or unreachable database: next time
                log.exception("could not count feed impressions")

    def start(self) -> ImpressionCounter:
        self._thread = threading.Thread(target=self._loop, name="impression-counter",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def start_counter(app: Flask) -> ImpressionCounter | None:
    """A running ``ImpressionCounter`` for this process (None when
    ``feed_impression_count_seconds`` is 0: then the nightly job and ``flask feed
    impressions`` count)."""
    with app.app_context():
        interval = get_settings().feed_impression_count_seconds
    return ImpressionCounter(app, interval).start() if interval > 0 else None
