"""The feed use case: one page of a viewer's feed, its cursor and its impressions.

``build_feed`` is what the API and the pages call. The pipeline itself (sources, filters,
blend, diversity, reasons) is ``app.feed``; it runs once for several pages and its result is
kept as the viewer's **plan** (``app.models.feed.FeedPlan``). A page request then serves the
next window of the plan and re-checks only what can change between pages: notes shown since
the plan was made (impressions), notes deleted, hidden, made private or sold out (one query
that also reads the cards), and the author cap of the page. The plan is made again:

- before serving, when there is none, it is used up, it is older than
  ``feed_plan_max_age_hours`` or the viewer did something that should change the feed (a
  like, a save, not interested, a follow, a block, picked topics: those delete the plan);
- ahead of time by a worker (when a broker is configured), when a plan is older than
  ``feed_plan_refresh_minutes``, was made with another model, or has less than two pages
  left; without a worker an old plan or one of another model is made again before serving;
- for everyone active lately by ``flask feed plans`` / the nightly job after a retrain.

Every served page is logged as one impression row (the feed request id, the position of its
first note and its notes in order: ``app.services.impressions``), in the page's transaction;
the cursor of the next page remembers what was served, so no later page repeats it. On
PostgreSQL a page is usually worked out before anything is read and written by the plan read
itself, one round trip instead of two (``_guess``, ``_plan_page``): a scroll's next page, and
its first page when this process has not served from the plan yet.
Visitors (no account) get the explore pipeline (trending + fresh), planned once per process
for ``feed_cache_seconds``, and no impression logging.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import orjson
from flask import current_app
from sqlalchemy import (
    JSON,
    BigInteger,
    Integer,
    String,
    and_,
    any_,
    bindparam,
    case,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased

from app import schema
from app.config import get_settings
from app.errors import ErrorCode, ZhongcaoError
from app.extensions import db
from app.feed import pipeline, reasons
from app.feed.query import FeedQuery, FeedResult, SourceReport
from app.feed.readers import SqlReader
from app.jobs import runs_eagerly
from app.models import (
    FeedEpoch,
    FeedImpressionPage,
    FeedPlan,
    Image,
    Interaction,
    Like,
    Note,
    NoteImage,
    NoteProduct,
    Product,
    RevokedToken,
    User,
    Visibility,
)
from app.models.base import UtcDateTime, utcnow
from app.models.feed import PlanItems
from app.models.image import image_path, thumb_path
from app.pagination import decode_cursor, encode_cursor
from app.services import accounts, impressions, notes

log = logging.getLogger(__name__)
CURSOR_KIND = "feed"
_CACHE_KEY = "zhongcao.feed_cache"
_LOCK = threading.Lock()
_REFRESH_QUEUED: dict[int, float] = {}     # user id -> monotonic time a refresh was queued
_REFRESH_DEDUPE_SECONDS = 60.0
_MODEL_ID: dict[str, Any] = {}              # the published model id, re-read every few seconds
_MODEL_ID_SECONDS = 5.0
_CARD_CACHE_MAX = 200_000                   # cards kept per process (about 300 bytes each)


# -- what a page holds ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CardImage:
    sha256: str
    content_type: str
    width: int
    height: int

    @property
    def path(self) -> str:
        return image_path(self.sha256, self.content_type)

    @property
    def thumb_path(self) -> str:
        return thumb_path(self.sha256)


@dataclass(frozen=True, slots=True)
class CardAuthor:
    id: int
    username: str
    display_name: str
    avatar: CardImage | None


@dataclass(frozen=True, slots=True)
class Card:
    """What a feed card shows (cover, title, author, likes), read in one query for a page.
    Named like ``Note``'s attributes, so the pages' card macro renders either."""

    id: int
    title: str
    author_id: int
    author: CardAuthor
    cover: CardImage | None
    visibility: Visibility
    like_count: int
    save_count: int
    comment_count: int
    created_at: datetime
    liked: bool = False


class FeedEntry(NamedTuple):
    """A served item. A named tuple (immutable, like the rest of the page): a frozen
    dataclass's ``__init__`` sets each field through ``object.__setattr__``, and twenty of
    them cost a page 16 us against 6."""

    note: Card
    reason: dict[str, Any]
    source: str
    sources: list[str]
    score: float
    position: int


@dataclass(frozen=True, slots=True)
class FeedPage:
    items: list[FeedEntry]
    request_id: str
    model_id: str | None
    sources: list[str]                      # the sources that served candidates
    source_reports: list[SourceReport] = field(default_factory=list)
    removed: dict[str, int] = field(default_factory=dict)   # filter -> notes it removed
    next_cursor: str | None = None
    planned_at: datetime | None = None      # when the pipeline ran for these pages
    planned_now: bool = False               # ... on this request


# A plan item as stored: [note_id, author_id, score, source, sources, reason code, params,
# liked] (the reason's words are made again from its code for the page served: a plan stays
# small). ``liked``: the viewer had liked the note when the plan was made; a like or unlike
# drops the plan, so it stays true while the plan serves. Plans of an older layout (shorter
# items) are made again.
PlanItem = list[Any]
PLAN_ITEM_LEN = 8


# -- the pipeline -----------------------------------------------------------------------------

def reader() -> SqlReader:
    """The database reader, with this app's shared-list cache."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache = app.extensions.setdefault(_CACHE_KEY, {})
    return SqlReader(get_settings(), cache)


def clear_cache() -> None:
    """Forget what this process keeps between requests: shared lists, the visitors' plan,
    the published model's id and the refreshes already queued."""
    current_app.extensions.get(_CACHE_KEY, {}).clear()
    with _LOCK:
        _MODEL_ID.clear()
        _REFRESH_QUEUED.clear()


def run_pipeline(viewer_id: int | None, limit: int, *, request_id: str,
                 served: frozenset[int] = frozenset(), page: int = 0,
                 pages: int = 1, background: bool = False) -> FeedResult:
    """Run the feed pipeline for a viewer (no notes loaded, nothing logged): ``pages`` pages
    of ``limit`` items, each diversified on its own. ``background``: nobody is waiting (a
    worker, the batch), so the sources run one after another, each to its end, instead of
    in parallel threads cut at their time budgets."""
    settings = get_settings()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    source_reader = reader()
    now = time.time()
    query = FeedQuery(viewer=source_reader.viewer(viewer_id, now), limit=limit, now=now,
                      request_id=request_id, served=served, page=page,
                      per_source=settings.feed_candidates_per_source)
    feed = pipeline.build(source_reader, settings, anonymous=viewer_id is None,
                          context=app.app_context, parallel=not background)
    return feed.run(query, pages=pages)


def _plan_items(result: FeedResult, liked: set[int] | frozenset[int] = frozenset()
                ) -> list[PlanItem]:
    return [[i.note_id, i.author_id, i.score, i.source, i.sources, i.reason.code,
             i.reason.params, i.note_id in liked] for i in result.items]


def _liked_among(user_id: int, note_ids: list[int]) -> set[int]:
    if not note_ids:
        return set()
    return set(db.session.execute(_sql()["liked"], {"viewer": user_id, "ids": note_ids})
               .scalars())


def _plan_report(result: FeedResult) -> dict[str, Any]:
    return {"sources": [{"name": r.name, "status": r.status, "candidates": r.candidates,
                         "ms": r.ms, "error": r.error} for r in result.sources],
            "removed": {k: len(v) for k, v in result.removed.items()}}


def plan(user_id: int, served: Iterable[int] = (), *, background: bool = False,
         commit: bool = False) -> FeedPlan:
    """Run the pipeline for ``feed_plan_pages`` pages of the user's feed and keep it as their
    plan (replacing the previous one); ``served`` are left out (the cursor's notes)."""
    settings = get_settings()
    result = run_pipeline(user_id, settings.feed_page_size, request_id=uuid.uuid4().hex,
                          served=frozenset(served), page=0, pages=settings.feed_plan_pages,
                          background=background)
    items = _plan_items(result, _liked_among(user_id, [i.note_id for i in result.items]))
    row = db.session.get(FeedPlan, user_id)
    if row is None:
        row = FeedPlan(user_id=user_id)
        db.session.add(row)
    row.built_at = utcnow()
    # The model published when the plan was made (whether or not it knew this viewer): a
    # plan is made again when another model is published, not while this one is serving.
    row.model_id = result.model_id or _published_model_id()
    row.items = PlanItems(items)
    row.report = _plan_report(result)
    if commit:
        db.session.commit()
    return row


def build_plans(user_ids: list[int] | None = None, *, active_days: int | None = None,
                progress: bool = False) -> int:
    """Plan the feed of these users, or of everyone with an interaction in the last
    ``active_days`` (``feed_plan_active_days``): the batch after a retrain. Returns how many
    plans were made; one user's failure is logged and skipped."""
    from tqdm import tqdm

    settings = get_settings()
    if user_ids is None:
        days = active_days or settings.feed_plan_active_days
        since = utcnow() - timedelta(days=days)
        user_ids = sorted(db.session.scalars(
            select(Interaction.user_id).join(User, User.id == Interaction.user_id)
            .where(Interaction.at >= since, User.is_active.is_(True)).distinct()))
    made = 0
    for user_id in tqdm(user_ids, desc="feed plans", unit="user", disable=not progress):
        try:
            plan(user_id, background=True, commit=True)
            made += 1
        except Exception:  # noqa: BLE001 - one viewer must not stop the batch
            db.session.rollback()
            log.exception("could not plan the feed of user %s", user_id)
    return made


# -- serving a page ---------------------------------------------------------------------------

# A feed cursor: {"u": viewer, "r": request id, "p": page number} and what was served so far:
# for a visitor the served ids ("s", the last ``feed_served_memory``), for a signed-in viewer
# how many ("o") and when the scroll began ("t", Unix seconds): their pages are logged
# (impressions), so the page's plan read finds what this scroll served, and the cursor stays
# short however far they scroll.
_SCROLL_MARGIN = timedelta(minutes=1)   # clocks of several servers may disagree a little


def _read_cursor(cursor: str | None, viewer_id: int | None) -> dict[str, Any]:
    state = decode_cursor(CURSOR_KIND, cursor) or {}
    if cursor and (not isinstance(state, dict) or state.get("u") != viewer_id
                   or not (isinstance(state.get("s"), list)
                           or (isinstance(state.get("o"), int)
                               and isinstance(state.get("t"), int | float)))):
        raise ZhongcaoError(ErrorCode.INVALID_CURSOR, "The cursor is not valid for this list",
                            400)
    return state


def _published_model_id() -> str | None:
    """The published model's id (the store's pointer, re-read every few seconds)."""
    now = time.monotonic()
    if _MODEL_ID.get("until", 0.0) > now:
        return _MODEL_ID.get("id")
    from app.services.recommendations import store

    try:
        current = store().current()
        model_id = current.version_id if current else None
    except Exception:  # noqa: BLE001 - a broken store leaves plans as they are
        log.exception("could not read the published model")
        model_id = None
    _MODEL_ID.update(id=model_id, until=now + _MODEL_ID_SECONDS)
    return model_id


def _queue_refresh(user_id: int) -> None:
    """Plan this user's feed again in a worker, at most once a minute per process."""
    now = time.monotonic()
    with _LOCK:
        if _REFRESH_QUEUED.get(user_id, -1e9) > now - _REFRESH_DEDUPE_SECONDS:
            return
        _REFRESH_QUEUED[user_id] = now
        if len(_REFRESH_QUEUED) > 100_000:
            _REFRESH_QUEUED.clear()
    try:
        _send_refresh(user_id)
    except Exception:  # noqa: BLE001 - the broker may be down; the plan gets old, not wrong
        log.exception("could not queue a feed plan refresh for user %s", user_id)


def _send_refresh(user_id: int) -> None:
    from app.tasks import refresh_feed_plan

    refresh_feed_plan.delay(user_id)


@functools.cache
def _statements(dialect: str) -> dict[str, Any]:
    """The page's reads, built once per database kind with bound
    parameters (``:viewer``, ``:ids``): building a statement costs more than running these
    indexed reads, and every page runs the same ones."""
    viewer = bindparam("viewer", type_=Integer)

    def among_ids(column: Any) -> Any:
        if dialect == "postgresql":   # one array parameter, see app.feed.readers.among
            return column == any_(bindparam("ids", type_=ARRAY(Integer)))
        return column.in_(bindparam("ids", expanding=True))

    def among_list(column: Any) -> Any:
        """``among_ids`` with one parameter whatever the count, so that the SQL never
        changes and runs on the driver's cursor (``_raw``): an array on PostgreSQL, a JSON
        list read by ``json_each`` on SQLite."""
        if dialect == "postgresql":
            return among_ids(column)
        listed = func.json_each(bindparam("ids", type_=JSON)).table_valued("value")
        return column.in_(select(listed.c.value))

    cover, avatar = aliased(Image), aliased(Image)
    card_columns = (Note.id, Note.title, Note.author_id, Note.visibility, Note.like_count,
                    Note.save_count, Note.comment_count, Note.created_at,
                    User.username, User.display_name,
                    cover.sha256, cover.content_type, cover.width, cover.height,
                    avatar.sha256, avatar.content_type, avatar.width, avatar.height)

    # 1 when a tagged product can be bought, 0 when all are sold out, NULL without products
    stock = (select(func.max(case((Product.sellable, 1), else_=0))).select_from(NoteProduct)
             .join(Product, Product.id == NoteProduct.product_id)
             .where(NoteProduct.note_id == Note.id).scalar_subquery())

    def cards(visible: Any, liked: Any) -> Any:
        return (select(*card_columns, stock, liked)
                .join(User, User.id == Note.author_id)
                # Positions are 0..n-1 (``Note.set_images``): position 0 is the cover.
                .outerjoin(NoteImage, and_(NoteImage.note_id == Note.id,
                                           NoteImage.position == 0))
                .outerjoin(cover, cover.id == NoteImage.image_id)
                .outerjoin(avatar, avatar.id == User.avatar_image_id)
                .where(among_ids(Note.id), visible))

    # The plan and the notes served since it was made or since this scroll began (``:since``,
    # from the cursor), whichever is earlier (the pages' impression rows), in one read: their
    # note lists joined by commas, and on PostgreSQL how many pages (``_Guess``: the next
    # page's cursor expects one more, its own; any other count means a page was served
    # elsewhere meanwhile).
    pages = FeedImpressionPage.__table__.c
    since = bindparam("since", type_=UtcDateTime())

    def served(*columns: Any, built: Any = FeedPlan.built_at) -> Any:
        start = case((or_(built.is_(None), built > since), since), else_=built)
        return select(*columns).where(pages.user_id == viewer, pages.at >= start)

    epoch = select(FeedEpoch.value).where(FeedEpoch.id == 1).scalar_subquery()
    # One row whether or not there is a plan (the epoch is needed either way).
    one = select(literal(1).label("one")).subquery()
    plan_row = one.outerjoin(FeedPlan, FeedPlan.user_id == viewer)
    # The bearer token's checks ride along (``build_feed(token_id=...)``): the account is
    # active and the token not revoked, without a read of their own.
    active = select(User.is_active).where(User.id == viewer).scalar_subquery()
    revoked = exists().where(RevokedToken.jti == bindparam("token_id", type_=String))
    # The items (17 kB) are left out when this process holds the plan made at that time
    # (``:held``, see ``_held_plans``).
    held = bindparam("held", type_=UtcDateTime())
    items = type_coerce(case((FeedPlan.built_at == held, null()), else_=FeedPlan.items),
                        FeedPlan.items.type)
    # ... and so is its report (the process holds it too). On SQLite this is what saves the
    # read: the report is stored after the items, and reading it walks the items' overflow
    # pages (a page's statement 99-123 against 77-79 us, BENCHMARKS.md, 2026-12-07, fourth
    # part).
    report = type_coerce(case((FeedPlan.built_at == held, null()), else_=FeedPlan.report),
                         FeedPlan.report.type)
    statements: dict[str, Any] = {}
    if dialect == "postgresql":
        shown_ids = func.string_agg(pages.note_ids, literal(","))
        seen = served(shown_ids.label("ids"), func.count().label("n")).lateral("seen")
        plan_read = (select(FeedPlan.built_at, FeedPlan.model_id, items, report,
                            seen.c.ids, epoch, active, revoked, seen.c.n)
                     .select_from(plan_row.outerjoin(seen, true())))
        statements["plan_page"] = _plan_page(plan_row, held, items, report, served, shown_ids,
                                             epoch, active, revoked, viewer)
    else:
        plan_read = (select(FeedPlan.built_at, FeedPlan.model_id, items, report,
                            served(func.group_concat(pages.note_ids)).scalar_subquery(),
                            epoch, active, revoked, null())
                     .select_from(plan_row))
    return statements | {
        "plan": plan_read,
        "epoch": select(epoch),
        # Every card's state whoever asks (cached per process, see _cards) ...
        "cards_any": (select(*card_columns, stock, Note.deleted_at.is_(None),
                             Note.hidden_at.is_(None))
                      .join(User, User.id == Note.author_id)
                      .outerjoin(NoteImage, and_(NoteImage.note_id == Note.id,
                                                 NoteImage.position == 0))
                      .outerjoin(cover, cover.id == NoteImage.image_id)
                      .outerjoin(avatar, avatar.id == User.avatar_image_id)
                      .where(among_list(Note.id))),
        # ... and, for the few notes that are not public, what this viewer may read.
        "cards": cards(notes.visible_to(viewer),
                       exists().where(Like.user_id == viewer, Like.note_id == Note.id)),
        "liked": select(Like.note_id).where(Like.user_id == viewer, among_ids(Like.note_id)),
    }


def _plan_page(plan_row: Any, held: Any, items: Any, report: Any, served: Any, shown_ids: Any,
               epoch: Any, active: Any, revoked: Any, viewer: Any) -> Any:
    """The plan read that also logs the page worked out before it (``_Guess``), in one
    statement (PostgreSQL): the page's impression row is inserted only if what the guess
    assumed still holds: the same plan (``:held``), the same card epoch (``:epoch``), the
    token's checks, and exactly ``:expected`` pages served since the plan or the scroll began
    (none from another device or tab since this scroll's last page). Then the read leaves out
    the served notes it would otherwise send (the guess had them in its cursor) and the page
    is done in one round trip instead of two. Otherwise nothing is written and the row is the
    plan read's (``plan``), for the page to be worked out from it as usual."""
    count = served(func.count().label("n")).lateral("counted")
    holds = and_(FeedPlan.built_at == held, epoch == bindparam("epoch", type_=BigInteger),
                 active.is_(True), ~revoked, count.c.n == bindparam("expected", type_=Integer))
    # Read once (a CTE used twice is worked out once): the row, and whether the guess holds.
    ok = (select(FeedPlan.built_at, FeedPlan.model_id, items.label("items"),
                 report.label("report"),
                 epoch.label("epoch"), active.label("active"), revoked.label("revoked"),
                 count.c.n, func.coalesce(holds, false()).label("go"))
          .select_from(plan_row.outerjoin(count, true())).cte("ok"))
    # As ``impressions.log_page`` writes a page on PostgreSQL: an asynchronous commit, and the
    # shared lock that counters wait on (taken before the row's id is).
    guard = select(func.set_config(literal_column("'synchronous_commit'"),
                                   literal_column("'off'"), true()),
                   func.pg_advisory_xact_lock_shared(
                       literal_column(str(impressions.PAGE_WRITE_LOCK)))).subquery("guard")
    pages = FeedImpressionPage.__table__
    logged = (insert(pages)
              .from_select(["user_id", "request_id", "first_position", "note_ids", "at"],
                           select(viewer, *(bindparam(name, type_=pages.c[column].type)
                                            for name, column in (("request_id", "request_id"),
                                                                 ("first", "first_position"),
                                                                 ("note_ids", "note_ids"),
                                                                 ("at", "at"))))
                           .select_from(ok.join(guard, true())).where(ok.c.go))
              .returning(pages.c.id).cte("logged"))
    # The notes served since, and the plan's report unless this process holds the plan, only
    # when the guess missed (the page is worked out from them; the guess has the report of
    # the plan it holds).
    shown = case((ok.c.go, null()),
                 else_=served(shown_ids, built=ok.c.built_at).scalar_subquery())
    sent = type_coerce(case((ok.c.go, null()), else_=ok.c.report), FeedPlan.report.type)
    return select(ok.c.built_at, ok.c.model_id, ok.c["items"], sent, shown,
                  ok.c.epoch, ok.c.active, ok.c.revoked, ok.c.n,
                  select(func.count()).select_from(logged).scalar_subquery())


def _sql() -> dict[str, Any]:
    return _statements(db.session.get_bind().dialect.name)


class _PlanRow(NamedTuple):
    built_at: datetime | None
    model_id: str | None
    items: PlanItems | None
    report: dict[str, Any] | None
    shown: Any              # note ids served since the plan was made (``impressions.parse_ids``)
    epoch: int | None
    active: bool | None
    revoked: bool
    pages: int | None       # pages served since then (PostgreSQL; None on SQLite)
    logged: int = 0         # 1: the guessed page was written by this read (``plan_page``)


class _Raw(NamedTuple):
    sql: str
    order: tuple[str, ...] | None     # the parameters' order (positional drivers)
    fixed: dict[str, Any]
    binds: dict[str, Any]
    processors: tuple[tuple[int, Any], ...]
    numbered: tuple[str, tuple[str, ...]] | None   # psycopg: ``schema.numbered(sql)``


@functools.cache
def _raw(dialect: Any, name: str) -> _Raw:
    """A statement of ``_statements`` compiled once for this database, to run on the driver's
    own cursor, or as a prepared statement of the page's own connection on PostgreSQL
    (``_run``): its SQL, its parameters' order (positional drivers), fixed values and bind
    processors, the result processors of the columns that have one (the conversions
    SQLAlchemy applies: dates, enums, JSON), by position, and for psycopg the SQL with
    ``$n`` parameters. For the page's reads that run on most pages: SQLAlchemy's execution
    machinery cost more than these indexed queries."""
    statement = _statements(dialect.name)[name]
    compiled = statement.compile(dialect=dialect)
    binds = {}
    for bind, key in compiled.bind_names.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            binds[key] = process
    processors = tuple(
        (i, process) for i, column in enumerate(statement.selected_columns)
        if (process := column.type.dialect_impl(dialect).result_processor(dialect, None)))
    order = tuple(compiled.positiontup) if compiled.positiontup else None
    return _Raw(compiled.string, order, dict(compiled.params), binds, processors,
                schema.numbered(compiled.string) if dialect.driver == "psycopg" else None)


class _On(NamedTuple):
    """Where a page's reads and its impression write run: a DBAPI connection (the session's,
    or one of the page's own from the pool) and its dialect."""

    dbapi: Any
    dialect: Any


def _session_db() -> _On:
    connection = db.session.connection()
    return _On(connection.connection, connection.dialect)


def _page_connection() -> _On:
    """A connection of the page's own (``_release`` gives it back), from
    ``schema.page_engine``: on PostgreSQL a pool of connections in autocommit, where the page's
    read and its one write are single statements, each a transaction of its own (no BEGIN and
    no COMMIT round trips), and prepared statements keep their plans; the write asks for an
    asynchronous commit itself (``impressions.log_page``). On SQLite a connection of the app's
    pool: the driver begins a transaction at the write and the page commits it."""
    proxy, engine = schema.lend_page_connection(current_app)
    return _On(proxy, engine.dialect)


def _release(on: _On | None) -> None:
    """Give a ``_page_connection`` back (``schema.give_back_page_connection``: to its pool,
    rolled back if the page did not commit, or kept for the next page)."""
    if on is not None:
        schema.give_back_page_connection(current_app, on.dbapi)


def _commit(on: _On | None) -> None:
    """Commit the page's write: on its own connection, or (a plan made on the request) the
    session's. (A page whose plan read wrote it, on PostgreSQL, is committed already: its
    connection is in autocommit.)"""
    if on is not None:
        on.dbapi.commit()
    else:
        db.session.commit()


def _lost(on: _On, err: BaseException) -> bool:
    """Whether ``err`` says the page's connection is dead; if so it is dropped from the pool
    and the connections given back before now are pinged when next lent."""
    own, dialect = on
    if not isinstance(err, dialect.loaded_dbapi.Error) \
            or not dialect.is_disconnect(err, own.driver_connection, None):
        return False
    log.warning("the feed page's database connection was lost; reading on a fresh one")
    own.invalidate(err)
    schema.connection_lost(current_app)
    return True


def _run(name: str, values: dict[str, Any], on: _On | None = None) -> list[list[Any]]:
    """Run ``_statements(...)[name]`` (compiled by ``_raw``) on ``on`` (by default the
    session's connection, in its transaction) and return its rows converted as SQLAlchemy
    would."""
    dbapi, dialect = on or _session_db()
    sql, order, fixed, binds, processors, numbered = _raw(dialect, name)
    values = {**fixed, **values}
    for key, process in binds.items():
        values[key] = process(values[key])
    rows = None
    if numbered is not None and on is not None:     # the page's own connection: prepared
        rows = schema.run_prepared(dbapi, name, numbered[0],
                                   [values[key] for key in numbered[1]])
    if rows is None:
        params: Any = tuple(values[key] for key in order) if order is not None else values
        cursor = dbapi.cursor()
        try:
            cursor.execute(sql, params)
            rows = [list(row) for row in cursor.fetchall()]
        finally:
            cursor.close()
    for row in rows:
        for i, process in processors:
            if row[i] is not None:
                row[i] = process(row[i])
    return rows


class _Held(NamedTuple):
    """A plan this process read (``_held_plans``): as stored, so that it is one object to the
    garbage collector. ``report`` is its JSON. ``served``: this process served a page of it
    (a scroll's first page is then not guessed: see ``_guess``)."""

    built_at: datetime
    items: str
    model_id: str | None
    report: bytes
    served: bool = False


def _held_plans() -> dict[int, _Held] | None:
    """The plans this process read lately, by viewer, at most ``feed_plan_cache`` of them
    (about 17 kB each), the oldest dropped first; None when off.

    On SQLite too, although the items are read in the process there: every page of another
    server process writes, and SQLite then drops a connection's page cache, so a plan's
    overflow pages are read from the file again on every page, and its report, stored after
    them, cannot be read without them (holding plans was measured at first in one process,
    where nothing dropped the cache: 955 against 897 us of CPU a page, BENCHMARKS.md,
    2026-12-06, late night; see 2026-12-07, fourth part).

    A plan is never changed in place (``plan`` writes a new ``built_at`` with new items), so
    a plan read again at the same ``built_at`` has the same items: a page of a plan this
    process holds reads the plan without its items (17 kB that PostgreSQL reads, decompresses
    and sends, and the app receives), and the next page of a scroll can be worked out before
    anything is read (``_guess``). Only text is held: a few objects per plan, out of the
    garbage collector's sight (the ids as lists, 2,000 plans made every full collection of a
    serving process 26 ms instead of 7, and the slowest 1% of pages 100 ms: BENCHMARKS.md,
    2026-12-06, late night)."""
    if get_settings().feed_plan_cache <= 0:
        return None
    cache: dict[str, Any] = current_app.extensions.setdefault(_CACHE_KEY, {})
    return cache.setdefault("plans", {})  # type: ignore[no-any-return]


def _hold(plans: dict[int, _Held], user_id: int, built_at: datetime, items: PlanItems,
          model_id: str | None, report: dict[str, Any] | None) -> None:
    if user_id not in plans and len(plans) >= get_settings().feed_plan_cache:
        plans.pop(next(iter(plans), None), None)     # the oldest first
    plans[user_id] = _Held(built_at, items.pack(), model_id, orjson.dumps(report or {}))


def _served_from(user_id: int, built_at: datetime | None) -> None:
    """Note that this process served a page of the plan made at ``built_at``, if it holds it."""
    plans = _held_plans()
    held = plans.get(user_id) if plans is not None else None
    if held is not None and not held.served and held.built_at == built_at:
        plans[user_id] = held._replace(served=True)


def _read_plan(viewer_id: int, token_id: str, since: datetime, on: _On | None = None,
               guess: dict[str, Any] | None = None) -> _PlanRow:
    """The viewer's plan, what was served since it was made (or since ``since``, if earlier),
    the card epoch and the token's checks, in one read (one row, plan or not). The plan's
    items come from this process's ``_held_plans`` when it holds that plan.

    ``guess``: the values of the page worked out ahead (``_guess``), written by the same
    statement if it still holds (``plan_page``; then ``logged`` is 1)."""
    plans = _held_plans()
    held = plans.get(viewer_id) if plans is not None else None
    values = {"viewer": viewer_id, "token_id": token_id, "since": since,
              "held": held.built_at if held else None}
    row = _PlanRow(*_run("plan_page" if guess else "plan", values | (guess or {}), on)[0])
    if row.epoch is not None:
        current_app.extensions.setdefault(_CACHE_KEY, {})["epoch"] = row.epoch
    if plans is None or row.built_at is None or row.logged:   # logged: the guess has them
        return row
    if row.items is not None:       # sent: not held here, or made over since
        _hold(plans, viewer_id, row.built_at, row.items, row.model_id, row.report)
    elif held is not None and held.built_at == row.built_at:
        return row._replace(items=PlanItems.unpack(held.items), report=orjson.loads(held.report))
    return row


@dataclass(frozen=True, slots=True)
class _CardState:
    """A card as anyone sees it, and whether it may be served at all. ``liked_card`` is the
    same card as a viewer who liked it sees it: kept with it, so that a page's cards are the
    same objects from page to page (the API keeps each card's JSON by the object)."""

    card: Card
    public: bool
    live: bool          # not deleted, not hidden, not sold out
    liked_card: Card


def _card_of(row: Any) -> Card:
    (note_id, title, author_id, visibility, likes, saves, comments, created, username,
     display_name, c_sha, c_type, c_w, c_h, a_sha, a_type, a_w, a_h) = row[:18]
    return Card(note_id, title, author_id,
                CardAuthor(author_id, username, display_name,
                           CardImage(a_sha, a_type, a_w, a_h) if a_sha else None),
                CardImage(c_sha, c_type, c_w, c_h) if c_sha else None,
                visibility, likes, saves, comments, created)


def _card_states(ids: list[int], epoch: int | None, on: _On | None = None
                 ) -> dict[int, _CardState]:
    """The cards of these notes, from this process's cache where it is still good: read at
    the same ``feed_epoch`` (nothing that takes cards down happened since) and younger than
    ``feed_cache_seconds`` (counts and names stay that fresh). The rest in one read."""
    ttl = get_settings().feed_cache_seconds
    now = time.monotonic()
    store: dict[int, tuple[float, int, _CardState]] | None = None
    if ttl > 0 and epoch is not None:
        store = current_app.extensions.setdefault(_CACHE_KEY, {}).setdefault("cards", {})
    states: dict[int, _CardState] = {}
    missing = []
    for note_id in ids:
        hit = store.get(note_id) if store is not None else None
        if hit is not None and hit[0] > now and hit[1] == epoch:
            states[note_id] = hit[2]
        else:
            missing.append(note_id)
    if missing:
        rows = _run("cards_any", {"ids": missing}, on)
        for row in rows:
            stock, alive, shown = row[18], row[19], row[20]
            card = _card_of(row)
            state = _CardState(card, row[3] == Visibility.PUBLIC,
                               bool(alive) and bool(shown) and stock != 0,
                               dataclasses.replace(card, liked=True))
            states[row[0]] = state
            if store is not None:
                store[row[0]] = (now + ttl, epoch, state)  # type: ignore[assignment]
        if store is not None and len(store) > _CARD_CACHE_MAX:
            store.clear()
    return states


_WARM_BATCH = 500      # cards per read when warming the cache


def warm_cards(plans: int | None = None) -> int:
    """Read into this process's card cache (``_card_states``) the cards of the first
    ``feed_warm_pages`` pages of the ``plans`` (``feed_warm_plans``) most recently made plans:
    the cards the next pages will serve. A process that starts with an empty cache reads
    cards on nearly every page of its first minute (0.9 reads a page falling to 0.2 over the
    first 10 s of a PostgreSQL run: BENCHMARKS.md, 2026-12-06, night); this reads them in a
    few large reads instead. Returns how many cards are now cached (0 with
    ``feed_cache_seconds`` at 0)."""
    settings = get_settings()
    count = settings.feed_warm_plans if plans is None else plans
    if settings.feed_cache_seconds <= 0 or count <= 0:
        return 0
    first = settings.feed_warm_pages * settings.feed_page_size
    ids: dict[int, None] = {}
    held = _held_plans()         # the latest plans are held too, as far as there is room
    for user_id, built_at, items, model_id, report in db.session.execute(
            select(FeedPlan.user_id, FeedPlan.built_at, FeedPlan.items, FeedPlan.model_id,
                   FeedPlan.report)
            .order_by(FeedPlan.built_at.desc()).limit(count)):
        ids.update(dict.fromkeys(items.ids[:first]))
        if held is not None and len(held) < settings.feed_plan_cache and user_id not in held:
            _hold(held, user_id, built_at, items, model_id, report)
    epoch = db.session.execute(_sql()["epoch"]).scalar()
    db.session.rollback()
    if epoch is not None:       # the epoch the cards are read at (as ``_read_plan`` notes it)
        current_app.extensions.setdefault(_CACHE_KEY, {})["epoch"] = epoch
    wanted = list(ids)
    cached = 0
    on = _page_connection()      # the connections the pages read their cards on
    try:
        for start in range(0, len(wanted), _WARM_BATCH):
            cached += len(_card_states(wanted[start:start + _WARM_BATCH], epoch, on))
    finally:
        _release(on)
    return cached


def start_card_warmer(app: Any, then: Callable[[], None] | None = None
                      ) -> threading.Thread | None:
    """``warm_cards`` in a daemon thread of this serving process (None when it is off), then
    ``then`` (in that thread, warmed or not); a failure is logged: pages then read their
    cards as they go."""
    with app.app_context():
        settings = get_settings()
        if settings.feed_warm_plans <= 0 or settings.feed_cache_seconds <= 0:
            return None

    def run() -> None:
        with app.app_context():
            try:
                started = time.perf_counter()
                cached = warm_cards()
                log.info("feed card cache warmed: %d cards in %.0f ms", cached,
                         1000 * (time.perf_counter() - started))
            except Exception:  # noqa: BLE001 - a cold cache is slower, not wrong
                log.exception("could not warm the feed card cache")
            finally:
                db.session.remove()
        if then is not None:
            then()

    thread = threading.Thread(target=run, name="feed-card-warmer", daemon=True)
    thread.start()
    return thread


def _cards(ids: list[int], viewer_id: int | None, epoch: int | None,
           liked: set[int] | frozenset[int] = frozenset(), on: _On | None = None
           ) -> dict[int, Card]:
    """The cards of these notes that the viewer may read now and that are not sold out
    (all their tagged products out of stock).

    Public notes come from ``_card_states`` (most pages read no card at all). The plan
    already checked everything that depends on the viewer (follows, blocks) and anything
    the viewer changes drops the plan, so for public notes only what the epoch tracks can
    change. Notes that are not public are read for this viewer (``notes.visible_to``)."""
    if not ids:
        return {}
    out, restricted = _public_cards(ids, epoch, liked, on)
    if restricted and viewer_id is not None:
        rows = db.session.connection().execute(_sql()["cards"],
                                               {"ids": restricted, "viewer": viewer_id})
        for row in rows:
            if row[18] != 0:
                out[row[0]] = dataclasses.replace(_card_of(row), liked=bool(row[19]))
    return out


def _public_cards(ids: list[int], epoch: int | None, liked: set[int] | frozenset[int],
                  on: _On | None) -> tuple[dict[int, Card], list[int]]:
    """The live public cards of these notes (``_card_states``, each as this viewer sees it:
    ``liked``), and the ids of the live notes that are not public (read for the viewer)."""
    out: dict[int, Card] = {}
    restricted = []
    for note_id, state in _card_states(ids, epoch, on).items():
        if not state.live:
            continue
        if not state.public:
            restricted.append(note_id)
            continue
        out[note_id] = state.liked_card if note_id in liked else state.card
    return out, restricted


def _window(queue: list[PlanItem], cards: dict[int, Card], limit: int,
            removed: dict[str, int]) -> list[tuple[PlanItem, Card]]:
    """The next page from the queue: readable notes, at most ``feed_max_per_author`` of one
    author (the rest wait for a later page)."""
    cap = get_settings().feed_max_per_author
    per_author: dict[int, int] = {}
    page: list[tuple[PlanItem, Card]] = []
    for item in queue:
        card = cards.get(item[0])
        if card is None:
            removed["unavailable_now"] = removed.get("unavailable_now", 0) + 1
            continue
        if per_author.get(card.author_id, 0) >= cap:
            continue
        per_author[card.author_id] = per_author.get(card.author_id, 0) + 1
        page.append((item, card))
        if len(page) == limit:
            break
    return page


def _page_of(items: PlanItems, left: list[int], viewer_id: int | None,
             epoch: int | None, limit: int, removed: dict[str, int], on: _On | None
             ) -> list[tuple[PlanItem, Card]]:
    """The next page of ``items`` from the positions ``left``: its cards read (or cached),
    the notes gone since planning passed over (counted in ``removed``)."""
    window = items.take(left[:limit + 10])
    liked = {it[0] for it in window if it[7]}
    cards = _cards([it[0] for it in window], viewer_id, epoch, liked, on)
    page = _window(window, cards, limit, removed)
    if len(page) < limit and len(left) > len(window):   # many went away since planning
        rest = items.take(left[len(window):])
        liked.update(it[0] for it in rest if it[7])
        cards.update(_cards([it[0] for it in rest], viewer_id, epoch, liked, on))
        removed.pop("unavailable_now", None)
        page = _window(window + rest, cards, limit, removed)
    return page


@functools.lru_cache(maxsize=8192)
def _reason(code: str, params: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """A reason's words for a page (the same few reasons come back on every page). The dict
    is shared: read it, don't change it."""
    return reasons.make(code, **dict(params)).to_dict()


def _visitor_plan(limit: int, served: set[int]
                  ) -> tuple[PlanItems, dict[str, Any], str | None, datetime]:
    """The explore plan, shared by every visitor of this process for ``feed_cache_seconds``;
    a visitor who scrolled past it gets a plan of their own (without what they were served)."""
    settings = get_settings()
    ttl = settings.feed_cache_seconds
    cache = current_app.extensions.setdefault(_CACHE_KEY, {})
    key = f"visitor-plan:{limit}"
    now = time.monotonic()
    with _LOCK:
        hit = cache.get(key)
    if hit is not None and hit[0] > now:
        value = hit[1]
    else:
        result = run_pipeline(None, limit, request_id=uuid.uuid4().hex,
                              pages=settings.feed_plan_pages)
        value = (PlanItems(_plan_items(result)), _plan_report(result), result.model_id,
                 utcnow())
        if ttl > 0:
            with _LOCK:
                cache[key] = (now + ttl, value)
    if sum(note_id not in served for note_id in value[0].ids) >= limit or not served:
        return value
    result = run_pipeline(None, limit, request_id=uuid.uuid4().hex,
                          served=frozenset(served), pages=settings.feed_plan_pages)
    return PlanItems(_plan_items(result)), _plan_report(result), result.model_id, utcnow()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(at: datetime) -> int:
    """A plan's ``built_at`` in a cursor, exactly (microseconds since 1970)."""
    return (at - _EPOCH) // timedelta(microseconds=1)


def _runs(positions: Iterable[int]) -> list[int]:
    """Plan positions as a cursor carries them: runs of consecutive positions, flattened
    (``[start, end, start, end, ...]``, each ``end`` excluded): a scroll's served positions
    are mostly one run from 0."""
    out: list[int] = []
    for i in sorted(positions):
        if out and out[-1] == i:
            out[-1] = i + 1
        else:
            out += [i, i + 1]
    return out


def _ordered(runs: list[int]) -> bool:
    """Whether ``runs`` are as ``_runs`` makes them: ints, each run not empty, in order, apart."""
    last = -1
    for i in runs:
        if type(i) is not int or i <= last:
            return False
        last = i
    return len(runs) % 2 == 0


def _free(runs: list[int], n: int) -> Iterator[int]:
    """The positions below ``n`` outside ``runs`` (``_ordered``), in order."""
    at = 0
    for start, end in zip(runs[::2], runs[1::2], strict=True):
        yield from range(at, min(start, n))
        at = end
    yield from range(at, n)


def _merged(runs: list[int], positions: Iterable[int], n: int) -> list[int]:
    """``_runs`` of the positions in ``runs`` below ``n`` and ``positions``, without making
    the set of them (a scroll's runs cover a hundred positions by its fifth page)."""
    spans = sorted([(start, min(end, n)) for start, end in zip(runs[::2], runs[1::2],
                                                                 strict=True) if start < n]
                   + [(i, i + 1) for i in positions])
    out: list[int] = []
    for start, end in spans:
        if out and start <= out[-1]:
            out[-1] = max(out[-1], end)
        else:
            out += [start, end]
    return out


class _Guess(NamedTuple):
    """A signed-in page worked out before anything is read (PostgreSQL): from the plan this
    process holds, what the cursor says the scroll's plan positions served or skipped are
    (``k``), and the cards this process has cached. Its impression row is written by the
    plan read itself (``plan_page``), if the plan, the card epoch and the number of pages
    served since (``n``) are still what the guess took them to be; when they are not, the
    page is worked out from that read as usual (nothing lost but the work of the guess).

    A scroll's first page (no cursor) is guessed as the plan's first page, nothing served
    from it yet (``n`` 0), when this process holds the plan and has not served from it (the
    morning's first look after the nightly plans); when another process or device did, the
    read says so and the page is worked out from it."""

    held: _Held
    runs: list[int]            # the plan positions the guess took as served (``k``)
    items: PlanItems
    report: dict[str, Any]
    epoch: int
    left: int                  # how many positions of the plan are still to serve
    page: list[tuple[PlanItem, Card]]
    positions: list[int]       # the page's items' positions in the plan
    removed: dict[str, int]
    soon: bool
    expected: int


def _guess(viewer_id: int, state: dict[str, Any], limit: int, now: datetime, on: _On
           ) -> _Guess | None:
    if on.dialect.name != "postgresql":     # the one-statement read and write (plan_page)
        return None
    plans = _held_plans()
    held = plans.get(viewer_id) if plans is not None else None
    if held is None:
        return None
    if not state:               # a scroll's first page: see ``_Guess``
        if held.served:
            return None
        runs, expected = [], 0
    else:
        built, runs, expected = state.get("b"), state.get("k"), state.get("n")
        if not isinstance(built, int) or not isinstance(expected, int) \
                or not isinstance(runs, list) or not _ordered(runs) \
                or _micros(held.built_at) != built:
            return None
    epoch = current_app.extensions.get(_CACHE_KEY, {}).get("epoch")
    if epoch is None:
        return None
    too_old, soon = _stale(held.built_at, held.model_id, now)
    if too_old or (soon and runs_eagerly()):
        return None
    items = PlanItems.unpack(held.items)
    n = len(items)
    left = n - sum(max(0, min(end, n) - start) for start, end in
                   zip(runs[::2], runs[1::2], strict=True))
    if left < limit:
        return None
    report = orjson.loads(held.report)
    removed = dict(report.get("removed", {}))
    at = list(itertools.islice(_free(runs, n), limit + 10))
    window = items.take(at)
    # Its cards as ``_cards`` finds them, read if not cached (with the epoch this process
    # saw last: if it moved on, the plan read says so and the page is worked out again).
    # A note that is not public is read for the viewer: worked out as usual then.
    cards, restricted = _public_cards([it[0] for it in window], epoch,
                                      {it[0] for it in window if it[7]}, on)
    if restricted:
        return None
    page = _window(window, cards, limit, removed)
    if len(page) < limit:          # many went away since planning: worked out as usual
        return None
    position = {it[0]: i for it, i in zip(window, at, strict=True)}
    return _Guess(held, runs, items, report, epoch, left, page,
                  [position[item[0]] for item, _ in page], removed, soon, expected)


def _stale(built_at: datetime, model_id: str | None, now: datetime) -> tuple[bool, bool]:
    """(too old to serve, worth planning again soon)."""
    settings = get_settings()
    age = now - built_at
    if age > timedelta(hours=settings.feed_plan_max_age_hours):
        return True, True
    soon = (age > timedelta(minutes=settings.feed_plan_refresh_minutes)
            or model_id != _published_model_id())
    return False, soon


def build_feed(viewer_id: int | None, cursor: str | None = None,
               limit: int | None = None, *, token_id: str | None = None) -> FeedPage:
    """One page of the viewer's feed.

    ``token_id``: the ``jti`` of the bearer token that named the viewer, when its signature
    and expiry were checked but not yet the revocation list and the account: the page's plan
    read checks them (one read for both), before anything is written.

    Raises:
        ZhongcaoError(invalid_cursor, 400): a tampered cursor or another viewer's.
        Unauthorized: ``token_id`` was revoked or the viewer's account is gone.
    """
    settings = get_settings()
    limit = max(1, min(limit or settings.feed_page_size, settings.page_size_max))
    try:
        state = _read_cursor(cursor, viewer_id)
    except ZhongcaoError:
        if token_id is not None and viewer_id is not None:   # a bad token comes first
            accounts.check_token_holder(*accounts.token_holder(viewer_id, token_id))
        raise
    request_id = state.get("r") or uuid.uuid4().hex
    served_list = [int(i) for i in state.get("s", [])]
    served = set(served_list)
    offset = int(state.get("o", len(served_list)))
    page_no = int(state.get("p", 0))
    now = utcnow()
    # When this scroll began (now, on its first page): what it served is shown since then.
    # Read back a little earlier, as the clocks of several servers may disagree.
    began = now if "t" not in state else \
        datetime.fromtimestamp(state["t"], UTC) - _SCROLL_MARGIN
    planned_now = False
    items: PlanItems
    left: list[int]         # the positions in ``items`` still to serve
    page: list[tuple[PlanItem, Card]]
    scroll: dict[str, Any] = {}    # the next cursor's part for the next page's guess
    on = None
    if viewer_id is not None:
        # A signed-in page runs on a connection of its own from the pool, on the driver's
        # cursor, and commits it itself: SQLAlchemy's session and transaction bookkeeping
        # cost more than the page's reads and its write (BENCHMARKS.md, 2026-12-06). A plan
        # made on the request goes through the session, as everything else does.
        on = _page_connection()
    try:
        if viewer_id is None:
            items, report, model_id, planned_at = _visitor_plan(limit, served)
            left = [i for i, note_id in enumerate(items.ids) if note_id not in served]
            epoch = db.session.connection().execute(_sql()["epoch"]).scalar()
            removed = dict(report.get("removed", {}))
            page = _page_of(items, left, viewer_id, epoch, limit, removed, None)
        else:
            guess = ahead = None
            try:
                if "b" in state or not state:
                    guess = _guess(viewer_id, state, limit, now, on)
                if guess is not None:
                    ahead = {"held": guess.held.built_at, "epoch": guess.epoch,
                             "expected": guess.expected, "request_id": request_id,
                             "first": offset, "at": utcnow(),
                             "note_ids": ",".join(str(item[0]) for item, _ in guess.page)}
                row: Any = _read_plan(viewer_id, token_id or "", began, on, ahead)
            except Exception as err:
                if on is None or not _lost(on, err):
                    raise
                # Dead before the page wrote anything (the server went away while the
                # connection sat in the pool, see app.schema.IdlePing): on a fresh one. (A
                # guessed page that did get written makes the retry's guess miss: served
                # from the plan read, after it.)
                _release(on)
                on = _page_connection()
                row = _read_plan(viewer_id, token_id or "", began, on, ahead)
            if token_id is not None:
                accounts.check_token_holder(bool(row.active), bool(row.revoked))
            epoch = row.epoch
            if row.logged:          # the guess held, and its page is written
                assert guess is not None
                items, remaining, page = guess.items, guess.left, guess.page
                report, model_id = guess.report, guess.held.model_id
                planned_at, removed, soon = guess.held.built_at, guess.removed, guess.soon
                scroll = {"b": _micros(planned_at), "n": guess.expected + 1,
                          "k": _merged(guess.runs, guess.positions, len(items))}
            else:
                # Served since the plan was made or this scroll began (this scroll's pages
                # even when there is no plan or it is too old to serve).
                shown = impressions.parse_ids(row.shown)
                soon = False
                if row.built_at is None or not row.items \
                        or len(row.items[0]) < PLAN_ITEM_LEN:
                    row = None
                else:
                    too_old, soon = _stale(row.built_at, row.model_id, now)
                    if too_old or (soon and runs_eagerly()):
                        row, soon = None, False
                if row is not None:
                    items = row.items
                    skip = served | shown if served else shown   # one lookup per item
                    # What is left of the plan, by position: only the items a page serves
                    # are parsed (PlanItems), picked by their note ids.
                    left = [i for i, note_id in enumerate(items.ids) if note_id not in skip]
                    if len(left) < limit:
                        row = None
                if row is None:
                    _release(on)            # nothing written on it yet
                    on = None
                    row = plan(viewer_id, served | shown)
                    planned_now, soon = True, False
                    items = row.items
                    left = list(range(len(items)))
                report, model_id, planned_at = row.report, row.model_id, row.built_at
                removed = dict(report.get("removed", {}))
                page = _page_of(items, left, viewer_id, epoch, limit, removed, on)
                remaining = len(left)
                if page:   # after a plan made on this request: its time
                    # On SQLite in its turn at the write lock (schema.WriteTurns), committed
                    # before the turn is given back.
                    with schema.write_turn(current_app):
                        impressions.log_page(viewer_id, request_id,
                                             [item[0] for item, _ in page], offset, utcnow(),
                                             on)
                        _commit(on)
                else:
                    _commit(on)         # a plan made on this request
                if not planned_now and row.pages is not None and page:
                    # What the next page's guess needs: this plan, the positions served or
                    # passed over, and the pages served since, this one included.
                    served_at = {note_id: i for i, note_id in enumerate(items.ids)}
                    scroll = {"b": _micros(row.built_at), "n": row.pages + 1, "k": _runs(
                        set(range(len(items))).difference(left)
                        | {served_at[item[0]] for item, _ in page})}
            if page:
                _served_from(viewer_id, planned_at)
            short = remaining - len(page) < 2 * limit
            if not planned_now and not runs_eagerly() and (soon or short):
                _queue_refresh(viewer_id)
    finally:
        _release(on)
    entries = [FeedEntry(card, _reason(item[5], tuple(item[6].items())), item[3],
                         item[4], float(item[2]), offset + i)
               for i, (item, card) in enumerate(page)]
    following: dict[str, Any] = {"u": viewer_id, "r": request_id, "p": page_no + 1}
    if viewer_id is None:
        following["s"] = (served_list + [e.note.id for e in entries]
                          )[-settings.feed_served_memory:]
    else:
        following["o"] = offset + len(entries)
        following["t"] = state.get("t", int(now.timestamp()))
        following.update(scroll)
    next_cursor = encode_cursor(CURSOR_KIND, following) if entries else None
    reports = [SourceReport(r["name"], r["status"], r.get("candidates", 0), r.get("ms", 0.0),
                            r.get("error")) for r in report.get("sources", [])]
    return FeedPage(entries, request_id, model_id, [r.name for r in reports if r.status == "ok"],
                    reports, removed, next_cursor, planned_at, planned_now)


def related(note_id: int, viewer_id: int | None, limit: int = 8) -> list[Note]:
    """Notes like this one for its page. Raises: NotFound (the note is not readable)."""
    from app.services import serving

    notes.get_note(note_id, viewer_id)
    return serving.related_notes(note_id, viewer_id, limit)


__all__ = ["Card", "FeedEntry", "FeedPage", "build_feed", "build_plans", "plan",
           "related", "run_pipeline", "start_card_warmer", "warm_cards"]
