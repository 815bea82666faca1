"""Feed impressions: written as one row per served page, moved into ``interaction`` in batches.

A feed page shows 20 notes; logging them as 20 rows of ``interaction`` (four indexes each) on
the page's request cost half of the page (BENCHMARKS.md). So the page writes one
``FeedImpression`` row (``log_page``) and ``move`` turns rows into ``interaction``
impressions in bulk: one statement per batch of pages, in the database itself (``json_each``
on SQLite, ``unnest ... WITH ORDINALITY`` on PostgreSQL), with the page's request id, each
note's position and the time the page was served. The result is the same rows the page would
have written itself.

Who moves them: a thread of each server process every ``feed_impression_move_seconds``
(``start_mover``, from ``wsgi.py``), and ``flask feed impressions`` on demand. Moving is safe
to run anywhere at once: on PostgreSQL each batch takes its rows with ``FOR UPDATE SKIP
LOCKED`` and deletes them in the statement that inserts their impressions; on SQLite the
batch's first statement takes the write lock, so two movers run one after the other and the
second finds the work done. A crash between pages and the move loses nothing: the pages are
committed rows.

What must see the newest impressions reads both tables (``pending_note_ids``): the page's
"already shown since the plan" check and the pipeline's seen filter. Counts of impressions
(the fresh source, analytics) may lag by a few seconds.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import select, text

from app.config import get_settings
from app.extensions import db
from app.models import FeedImpression, InteractionKind
from app.services import interactions

log = logging.getLogger(__name__)

BATCH_PAGES = 2000

# The batch: the oldest pages first. SQLite: the INSERT is the transaction's first statement,
# so it takes the write lock before reading the batch, and the DELETE (same bound, read under
# the same lock) removes exactly what was moved. Notes hard-deleted since are skipped.
_SQLITE_BATCH_END = ("(SELECT max(id) FROM (SELECT id FROM feed_impression "
                     "ORDER BY id LIMIT :batch))")
_SQLITE_MOVE = text(
    "INSERT INTO interaction (user_id, note_id, kind, weight, at, feed_request_id, position) "
    "SELECT f.user_id, j.value, :kind, :weight, f.at, f.request_id, f.first_position + j.key "
    "FROM feed_impression AS f, json_each('[' || f.note_ids || ']') AS j "
    "JOIN note ON note.id = j.value "
    f"WHERE f.id <= {_SQLITE_BATCH_END} ORDER BY f.id, j.key")
_SQLITE_DELETE = text(f"DELETE FROM feed_impression WHERE id <= {_SQLITE_BATCH_END}")
# PostgreSQL: one statement; rows another mover holds are skipped, not waited for.
_POSTGRESQL_MOVE = text(
    "WITH moved AS (DELETE FROM feed_impression WHERE id IN ("
    "  SELECT id FROM feed_impression ORDER BY id LIMIT :batch FOR UPDATE SKIP LOCKED) "
    "  RETURNING id, user_id, request_id, first_position, note_ids, at), "
    "written AS (INSERT INTO interaction "
    "  (user_id, note_id, kind, weight, at, feed_request_id, position) "
    "  SELECT m.user_id, x.note_id, CAST(:kind AS VARCHAR), :weight, m.at, "
    "         m.request_id, m.first_position + x.ord - 1 "
    "  FROM moved AS m CROSS JOIN LATERAL "
    "    unnest(string_to_array(m.note_ids, ',')::int[]) WITH ORDINALITY AS x(note_id, ord) "
    "  JOIN note ON note.id = x.note_id ORDER BY m.id, x.ord RETURNING 1) "
    "SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM written)")


def log_page(viewer_id: int, request_id: str, note_ids: Iterable[int], first_position: int,
             at: datetime) -> None:
    """One served page's impressions, in the caller's transaction."""
    ids = ",".join(map(str, note_ids))
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        # The driver directly (the hottest write of the app); ``at`` goes through the column
        # type's own bind processor, so it is stored exactly as the ORM stores it.
        connection.exec_driver_sql(_SQLITE_LOG, (viewer_id, request_id, first_position, ids,
                                                 _sqlite_datetime(connection.dialect)(at)))
    else:
        connection.execute(FeedImpression.__table__.insert(), {
            "user_id": viewer_id, "request_id": request_id, "first_position": first_position,
            "note_ids": ids, "at": at})


_SQLITE_LOG = ("INSERT INTO feed_impression (user_id, request_id, first_position, note_ids, at) "
               "VALUES (?, ?, ?, ?, ?)")


@functools.cache
def _sqlite_datetime(dialect: Any) -> Any:
    process = FeedImpression.__table__.c.at.type.bind_processor(dialect)
    return process or (lambda value: value)


def parse_ids(value: Any) -> set[int]:
    """Note ids from ``note_ids`` strings, or an aggregate of them ("1,2,3"), or None."""
    if not value:
        return set()
    return {int(i) for i in str(value).split(",") if i}


def pending_note_ids(user_id: int, since: datetime) -> set[int]:
    """Notes served to this person since ``since`` whose impressions are not moved yet."""
    rows = db.session.scalars(select(FeedImpression.note_ids).where(
        FeedImpression.user_id == user_id, FeedImpression.at >= since))
    out: set[int] = set()
    for ids in rows:
        out |= parse_ids(ids)
    return out


def _move_batch(batch: int) -> tuple[int, int]:
    """(pages, impressions) moved in one transaction."""
    params = {"batch": batch, "kind": InteractionKind.IMPRESSION.value,
              "weight": interactions.weight_of(InteractionKind.IMPRESSION)}
    try:
        if db.session.get_bind().dialect.name == "postgresql":
            pages, rows = db.session.execute(_POSTGRESQL_MOVE, params).one()
        else:
            rows = db.session.execute(_SQLITE_MOVE, params).rowcount
            pages = db.session.execute(_SQLITE_DELETE, {"batch": batch}).rowcount
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return int(pages or 0), int(rows or 0)


def move(batch: int = BATCH_PAGES, *, limit_batches: int | None = None) -> tuple[int, int]:
    """Move served pages' impressions into ``interaction``, oldest first, ``batch`` pages per
    transaction, until none are left (or after ``limit_batches``). Returns (pages,
    impressions) moved. Safe to run in several processes at once."""
    pages = rows = 0
    done = 0
    while limit_batches is None or done < limit_batches:
        p, r = _move_batch(batch)
        pages, rows, done = pages + p, rows + r, done + 1
        if p < batch:
            break
    return pages, rows


def pending_pages() -> int:
    """Pages whose impressions are waiting to be moved."""
    from sqlalchemy import func

    return int(db.session.scalar(select(func.count(FeedImpression.id))) or 0)


class Mover:
    """Runs ``move`` every ``interval`` seconds from a daemon thread (one per server process;
    several at once are fine). A failure is logged and tried again next time: the pages stay
    where they are."""

    def __init__(self, app: Flask, interval: float) -> None:
        self.app = app
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> tuple[int, int]:
        with self.app.app_context():
            try:
                return move(limit_batches=10)
            finally:
                db.session.remove()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - a locked or unreachable database: next time
                log.exception("could not move feed impressions")

    def start(self) -> Mover:
        self._thread = threading.Thread(target=self._loop, name="impression-mover",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self, flush: bool = True) -> None:
        """Stop the thread; with ``flush``, move what is left first."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if flush:
            self.run_once()


def start_mover(app: Flask) -> Mover | None:
    """A running ``Mover`` for this process (None when ``feed_impression_move_seconds`` is 0:
    then something else must run ``flask feed impressions``)."""
    with app.app_context():
        interval = get_settings().feed_impression_move_seconds
    return Mover(app, interval).start() if interval > 0 else None
