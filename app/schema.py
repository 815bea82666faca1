"""Database connections and schema state: SQLite settings, pinging pooled connections that sat
idle, and the "are migrations applied?" check."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import sqlite3
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import Engine, create_engine, event, exc

log = logging.getLogger(__name__)
# Pages of WAL after which a committing connection checkpoints by itself (SQLite's default is
# 1,000). Servers run ``Checkpointer`` instead and never get there; commands and tests do.
WAL_AUTOCHECKPOINT_PAGES = 20_000
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def enable_sqlite_pragmas(engine: Engine) -> None:
    """Foreign keys on (SQLite ignores them otherwise), WAL so readers don't block the writer,
    and ``synchronous=NORMAL``, the setting SQLite recommends with WAL: a commit is not synced
    to disk on its own (checkpoints are), so a crash of the app or of the machine's processes
    loses nothing; a power cut may lose the last commits, never the database's integrity.

    Checkpoints (copying the WAL back into the database file, with an fsync) are left to a
    background thread in servers (``Checkpointer``): done by the committing connection, as
    SQLite does by default every 1,000 pages, they landed on one request in forty and cost
    the feed 15-20% of its throughput (BENCHMARKS.md)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every test
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        cursor.close()


_IDLE_SINCE = "zhongcao.idle_since"
_IDLE_PING = "zhongcao.idle_ping"


class IdlePing:
    """Pings a pooled connection before lending it only when it sat idle in the pool longer
    than ``idle_seconds`` (``database_ping_idle_seconds``), or since a lost connection was
    reported (``connection_lost``).

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: on PostgreSQL a round trip of
    its own on every request, a third of a feed page's (BENCHMARKS.md, "idle-only pings"). What it
    guards against is a connection the server dropped while it sat in the pool (a restart, a
    failover, an idle timeout), and those are the connections that sat idle. A connection
    lent again a moment after it was given back is lent as is; if the server went away in
    that moment, the statement fails as it would have a moment later anyway, SQLAlchemy
    invalidates the pool (the ORM), and the feed page, whose first statement is a read, asks
    for a fresh connection and reads again (``app.services.feed``). A failed ping replaces
    every connection pooled before it, as ``pool_pre_ping`` does."""

    def __init__(self, engine: Engine, idle_seconds: float) -> None:
        self.engine = engine
        self.idle_seconds = idle_seconds
        self.suspect_before = 0.0     # connections given back before this are pinged
        self.attach(engine)

    def attach(self, engine: Engine) -> None:
        """Ping the connections of another engine of the same database the same way (the
        feed pages' pool, ``page_engine``): a lost connection reported on either makes both
        ping what they pooled before."""
        event.listen(engine, "checkin", self._checkin)
        event.listen(engine, "checkout", self._checkout)

    @staticmethod
    def _checkin(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None and record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    def lendable(self, since: float) -> bool:
        """Whether a connection idle since ``since`` (``time.monotonic()``) is lent without a
        ping."""
        return since > self.suspect_before and time.monotonic() - since <= self.idle_seconds

    def _checkout(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None:       # connected for this checkout (``info`` goes with the DBAPI
            return              # connection: a replaced one starts empty)
        if self.lendable(since):
            return
        dialect = self.engine.dialect
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as err:
            if dialect.is_disconnect(err, dbapi_connection, None):
                # The pool replaces this connection, and every one pooled before it.
                raise exc.InvalidatePoolError(f"ping failed: {err}") from err
            raise

    def connection_lost(self) -> None:
        """A connection turned out dead outside SQLAlchemy's statement machinery (the feed
        page's driver cursor): ping every connection given back before now when next lent."""
        self.suspect_before = time.monotonic()


def ping_when_idle(app: Flask, idle_seconds: float) -> IdlePing | None:
    """Install ``IdlePing`` on the app's engine (None when ``idle_seconds`` is 0: then
    SQLAlchemy's ``pool_pre_ping`` pings every checkout, see ``Settings.flask_config``)."""
    from app.extensions import db

    if idle_seconds <= 0:
        return None
    with app.app_context():
        ping = IdlePing(db.engine, idle_seconds)
    app.extensions[_IDLE_PING] = ping
    return ping


_PAGE_ENGINE = "zhongcao.page_engine"
_PAGE_IDLE = "zhongcao.page_idle"
_PG_IDLE = 0                # psycopg's TransactionStatus.IDLE: no transaction open
_PAGE_ENGINE_LOCK = threading.Lock()
# The feed pages' pool: a sync worker lends one connection at a time, threaded workers more.
PAGE_POOL_SIZE, PAGE_POOL_OVERFLOW = 2, 8


def page_engine(app: Flask) -> Engine:
    """The engine whose connections serve the feed's signed-in pages (``app.services.feed``):
    the app's own on SQLite; on PostgreSQL a second, small pool of the same database whose
    connections run in autocommit with generic plans (``plan_cache_mode =
    force_generic_plan``), made on first use.

    A page runs single statements (its plan read, maybe a cards read, its impression write),
    each a transaction of its own, so autocommit saves the BEGIN and COMMIT round trips. And
    its cards read (a six-table join over an array of note ids, run for the few cards this
    process has not cached) was planned again on every run: PostgreSQL judged its plan for
    an array of one or two ids cheaper than the plan it would keep, and planning it cost
    twice running it (650 against 310 us of the server's CPU a read, BENCHMARKS.md). The
    setting is per session; on the app's main pool it would apply to every statement of the
    app, hence a pool of its own.

    Its connections also plan without sequential scans (``enable_seqscan = off``): each
    statement's plan is made once per connection and kept, and every read a page makes is by
    key. A plan made while a table was small kept scanning it whole as it grew: on a fresh
    database the impression log is empty, and each page then read every page logged since
    (the person's pages are what it wants), until the next ANALYZE had the plan made again
    (BENCHMARKS.md, 2026-12-07, sixth part)."""
    from app.extensions import db

    pages: Engine | None = app.extensions.get(_PAGE_ENGINE)
    if pages is not None:
        return pages
    engine = db.engine
    if engine.dialect.name != "postgresql":
        with _PAGE_ENGINE_LOCK:     # see lend_page_connection: kept, no server to lose it
            app.extensions.setdefault(_PAGE_IDLE, deque())
            app.extensions[_PAGE_ENGINE] = engine
        return engine
    with _PAGE_ENGINE_LOCK:
        pages = app.extensions.get(_PAGE_ENGINE)
        if pages is None:
            given = engine.url.query.get("options")
            options = " ".join(o for o in (given if isinstance(given, str) else None,
                                           "-c plan_cache_mode=force_generic_plan",
                                           "-c enable_seqscan=off") if o)
            engine_options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
            pages = create_engine(engine.url, **engine_options, isolation_level="AUTOCOMMIT",
                                  pool_size=PAGE_POOL_SIZE, max_overflow=PAGE_POOL_OVERFLOW,
                                  connect_args={"options": options})
            ping = app.extensions.get(_IDLE_PING)
            if ping is not None:
                ping.attach(pages)
                app.extensions[_PAGE_IDLE] = deque()   # see lend_page_connection
            app.extensions[_PAGE_ENGINE] = pages
    return pages


def lend_page_connection(app: Flask) -> tuple[Any, Engine]:
    """A connection of ``page_engine`` for one feed page (a pool's connection proxy; give it
    back with ``give_back_page_connection``) and its engine.

    The connection the last page of this process gave back is lent again as it is, past
    SQLAlchemy's pool: its checkout and checkin (their events and the reset on return, for a
    connection with nothing to roll back) cost a page 40-50 us of CPU, a tenth of what the
    page does in Python (BENCHMARKS.md, 2026-12-07; on SQLite 38 us, 2026-12-07, fourth
    part). On SQLite always (there is no server to lose it); on PostgreSQL with idle pings
    (``IdlePing``), by the same rules as the pool's: a connection that sat idle longer than
    ``idle_seconds``, or since a lost connection was reported, goes back to the pool with the
    time it has been idle, and the pool pings it when it next lends it."""
    engine = page_engine(app)
    idle: deque[tuple[Any, float]] | None = app.extensions.get(_PAGE_IDLE)
    ping: IdlePing | None = app.extensions.get(_IDLE_PING)
    while idle:            # made by page_engine on SQLite, and with IdlePing on PostgreSQL
        try:
            proxy, since = idle.pop()
        except IndexError:          # another thread took the last one
            break
        if ping is None or ping.lendable(since):
            return proxy, engine
        info = proxy.info
        proxy.close()
        info[_IDLE_SINCE] = since   # as idle as it is: the pool pings it when it lends it
    return engine.raw_connection(), engine


def give_back_page_connection(app: Flask, proxy: Any) -> None:
    """Give back a ``lend_page_connection``: kept for the next page when it is sound and idle
    (not invalidated, no transaction open), else returned to the pool."""
    idle: deque[tuple[Any, float]] | None = app.extensions.get(_PAGE_IDLE)
    if idle is not None and len(idle) < PAGE_POOL_SIZE and proxy.is_valid \
            and _at_rest(proxy.driver_connection):
        idle.append((proxy, time.monotonic()))
        return
    proxy.close()


def _at_rest(own: Any) -> bool:
    """Whether a driver connection is open with no transaction (psycopg's, or sqlite3's)."""
    if own is None:
        return False
    if isinstance(own, sqlite3.Connection):
        try:
            return not own.in_transaction
        except sqlite3.ProgrammingError:     # closed
            return False
    return not own.closed and own.info.transaction_status == _PG_IDLE


_PREPARED = "zhongcao.prepared"        # a connection's ``_Prepared``, in its pool ``info``
_NO_SUCH_STATEMENT = b"26000"           # SQLSTATE invalid_sql_statement_name


class _Prepared:
    """What ``run_prepared`` keeps per connection (in the pool's ``info`` of the DBAPI
    connection, which goes with it): psycopg's adaptation for it and the statements it has
    prepared."""

    __slots__ = ("transformer", "names")

    def __init__(self, connection: Any) -> None:
        from psycopg.adapt import Transformer

        self.transformer = Transformer.from_context(connection)
        self.names: set[str] = set()


@functools.cache
def _pq() -> tuple[Any, Any, Any, Any, Any]:
    """psycopg's parts ``run_prepared`` uses (psycopg is installed with the postgres extra)."""
    from psycopg import errors, pq
    from psycopg.adapt import PyFormat

    return (errors.error_from_result, PyFormat.TEXT, pq.ExecStatus.TUPLES_OK,
            pq.ExecStatus.COMMAND_OK, pq.DiagnosticField.SQLSTATE)


def numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """SQL compiled for psycopg (``%(name)s`` parameters, ``%%`` for a percent sign) as
    PostgreSQL's own ``$1, $2, ...`` and the parameters' names in that order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"
    return re.sub(r"%\((\w+)\)s|%%", number, sql), tuple(names)


def run_prepared(proxy: Any, name: str, sql: str, params: list[Any]) -> list[list[Any]] | None:
    """Run ``sql`` (``$n`` parameters, see ``numbered``) as the server-side prepared statement
    ``zc_<name>`` of this connection (prepared on its first run there, and again if the
    server forgot it), through libpq's own call (psycopg's ``pq`` layer), with psycopg's
    adaptation of the parameters and the rows (``psycopg.adapt.Transformer``: the same values
    a cursor gives). None, having run nothing, unless ``proxy`` (a pool's connection) is a
    psycopg connection in autocommit (``page_engine``'s): a statement outside a transaction
    needs none of a cursor's bookkeeping.

    For the feed's page statements, run on nearly every page: a psycopg cursor's execute
    (its own prepared-statement cache, transaction and result bookkeeping) cost a page 50-100
    us of CPU more than this (BENCHMARKS.md, 2026-12-07, third part). libpq's call lets other
    threads run while it waits, as a cursor's does.

    Raises:
        psycopg.Error: what PostgreSQL answered, as a cursor would raise it (a lost
            connection included).
    """
    own = proxy.driver_connection
    if getattr(own, "autocommit", False) is not True or not hasattr(own, "pgconn"):
        return None
    error_from_result, text, tuples_ok, command_ok, sqlstate = _pq()
    info = proxy.info
    prepared: _Prepared | None = info.get(_PREPARED)
    if prepared is None:
        prepared = info[_PREPARED] = _Prepared(own)
    pgconn, key = own.pgconn, b"zc_" + name.encode()
    values = prepared.transformer.dump_sequence(params, [text] * len(params))
    for attempt in (1, 2):
        if name not in prepared.names:
            answer = pgconn.prepare(key, sql.encode())
            if answer.status != command_ok:
                raise error_from_result(answer, encoding=own.info.encoding)
            prepared.names.add(name)
        result = pgconn.exec_prepared(key, values)
        if result.status == tuples_ok or result.status == command_ok:
            transformer = prepared.transformer
            transformer.set_pgresult(result)
            rows: list[list[Any]] = transformer.load_rows(0, result.ntuples, list)
            transformer.set_pgresult(None)      # not kept alive until the next statement
            return rows
        if attempt == 1 and result.error_field(sqlstate) == _NO_SUCH_STATEMENT:
            prepared.names.clear()      # the session was reset (DISCARD ALL): prepare again
            continue
        raise error_from_result(result, encoding=own.info.encoding)
    raise AssertionError("unreachable")


def kept_page_connections(app: Flask) -> list[Any]:
    """The connections ``give_back_page_connection`` kept for the next pages."""
    return [proxy for proxy, _since in app.extensions.get(_PAGE_IDLE, ())]


def dispose_page_engine(app: Flask) -> None:
    """Close the feed pages' pooled connections (tests; a server's go with its process)."""
    idle: deque[tuple[Any, float]] | None = app.extensions.pop(_PAGE_IDLE, None)
    while idle:
        idle.pop()[0].close()
    pages = app.extensions.pop(_PAGE_ENGINE, None)
    if pages is not None:
        pages.dispose()


def connection_lost(app: Flask) -> None:
    """Report a dead connection found outside SQLAlchemy (see ``IdlePing.connection_lost``)."""
    ping = app.extensions.get(_IDLE_PING)
    if ping is not None:
        ping.connection_lost()


class Checkpointer:
    """Checkpoints a SQLite database's WAL every ``interval`` seconds from a daemon thread of
    its own connection, so that no request pays for it. PASSIVE: it never waits for, nor
    blocks, readers and writers; what it could not copy this time it copies next time.
    Several processes may each run one (a second one at the same moment just finds the work
    done). Start it in each serving process after it forked (``wsgi.py``)."""

    def __init__(self, path: str, interval: float = 0.25) -> None:
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self, connection: sqlite3.Connection) -> tuple[int, int, int]:
        """(busy, WAL frames, frames copied into the database)."""
        row = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def _loop(self) -> None:
        connection = sqlite3.connect(self.path, timeout=5, check_same_thread=False)
        try:
            while not self._stop.wait(self.interval):
                try:
                    self.run_once(connection)
                except sqlite3.Error:   # a locked or missing file: try again next time
                    log.exception("WAL checkpoint of %s failed", self.path)
        finally:
            connection.close()

    def start(self) -> Checkpointer:
        self._thread = threading.Thread(target=self._loop, name="sqlite-checkpointer",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class WriteTurns:
    """Turns at a SQLite database's one write lock for the app's busiest writers (a feed
    page's impression row, a batch of the impression counter), handed out by the kernel:
    ``flock`` on a file beside the database (``<database>.write-lock``).

    Without it they meet in SQLite's busy handler, which sleeps and tries again after 1, 2, 5,
    10, 15, 20, 25, 25, 25, 50, 50 and 100 ms: a writer that finds the lock taken a few times
    in a row (the counter takes it for about 10 ms per batch, the other process's pages
    between) slept 33, 54, 80, 104 and 144 ms under load, the slowest feed pages on SQLite
    (BENCHMARKS.md, 2026-12-07). A writer waiting on ``flock`` wakes when the lock is given
    back. The other writers (likes, orders, plans) still wait in SQLite's busy handler: they
    are rarer, and the turn-takers hold SQLite's lock only briefly.

    Each turn opens the file anew (about 5 us): ``flock`` locks belong to an open file, so
    threads sharing one would not exclude each other, and a file kept per thread would be
    left open by every thread of a server that starts one per request. A process forked while
    it held a turn closes its copy of that file at once (``_forget_turns``): the turn stays
    held until every copy is closed, and a child that kept one would hold it for its life.
    """

    def __init__(self, database: str) -> None:
        self.path = database + ".write-lock"

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        import fcntl

        pid = os.getpid()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        _TURN_FILES.add(fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            if os.getpid() == pid:  # (a forked child's copy is closed already)
                _TURN_FILES.discard(fd)
                os.close(fd)        # gives the turn back


_TURN_FILES: set[int] = set()     # this process's open turn files


def _forget_turns() -> None:
    for fd in _TURN_FILES:
        with contextlib.suppress(OSError):
            os.close(fd)
    _TURN_FILES.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_turns)


_WRITE_TURNS = "zhongcao.write_turns"
_NO_TURN = contextlib.nullcontext()


def write_turn(app: Flask) -> contextlib.AbstractContextManager[Any]:
    """A turn at the database's write lock (``WriteTurns``) for a write transaction that
    begins and commits inside it; on PostgreSQL, an in-memory SQLite or where there is no
    ``flock``, nothing (writers do not queue there, or there is no one to queue with)."""
    turns = app.extensions.get(_WRITE_TURNS)
    if turns is None:
        from app.extensions import db

        with app.app_context():
            url = db.engine.url
        usable = (url.get_backend_name() == "sqlite" and url.database
                  and url.database != ":memory:" and sys.platform != "win32")
        turns = app.extensions[_WRITE_TURNS] = WriteTurns(url.database) if usable else False
    return turns.turn() if turns else _NO_TURN


def start_checkpointer(app: Flask, interval: float = 0.25) -> Checkpointer | None:
    """A ``Checkpointer`` for the app's database when it is SQLite (None otherwise)."""
    from app.extensions import db

    with app.app_context():
        url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Checkpointer(url.database, interval).start()


def schema_revisions(app: Flask) -> tuple[set[str], set[str]]:
    """(revisions applied to the database, head revisions of the code)."""
    from app.extensions import db

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with app.app_context(), db.engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current, heads


def require_migrated(app: Flask) -> None:
    """Exit with a clear message if the database is not at the code's migration head."""
    current, heads = schema_revisions(app)
    if current != heads:
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        state = "has no tables yet" if not current else f"is at {', '.join(sorted(current))}"
        sys.stderr.write(
            f"\nThe database ({url.split('@')[-1]}) {state}, but this code needs migration "
            f"{', '.join(sorted(heads))}.\nRun `flask --app app db upgrade` (or `make run`, which "
            "migrates first), then start the server again.\n\n")
        raise SystemExit(3)
