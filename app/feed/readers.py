"""The database reader of the feed: every read the stages make, in SQL.

Lists shared by every viewer (trending, fresh, latest) are cached per process for
``feed_cache_seconds``; per-viewer reads are single indexed queries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, any_, case, func, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY

from app.extensions import db
from app.feed.query import NoteFacts, Viewer
from app.models import (
    Block,
    Follow,
    Hashtag,
    Interaction,
    InteractionKind,
    Like,
    Note,
    NoteHashtag,
    NoteProduct,
    NotInterested,
    Product,
    User,
    UserTopic,
    Visibility,
)

ENGAGEMENT_KINDS = (InteractionKind.LIKE, InteractionKind.SAVE, InteractionKind.COMMENT,
                    InteractionKind.SHARE, InteractionKind.PURCHASE, InteractionKind.CLICK)
AFFINITY_EVENTS = 300
FOLLOWING_DAYS = 30
_LOCK = threading.Lock()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def among(column: Any, ids: list[int]) -> Any:
    """``column IN ids``; on PostgreSQL ``column = ANY(:array)``, one parameter instead of
    hundreds (binding and parsing a long IN list costs more than the lookups it asks for)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(list(ids), ARRAY(Integer)))
    return column.in_(ids)


def _ts(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


class SqlReader:
    """Reads for the feed stages from the app's database (inside an app context)."""

    def __init__(self, settings: Any, cache: dict[str, Any]) -> None:
        self.settings = settings
        self.cache = cache

    def _cached(self, key: str, make: Callable[[], Any]) -> Any:
        ttl = self.settings.feed_cache_seconds
        if ttl <= 0:
            return make()
        now = time.monotonic()
        with _LOCK:
            hit = self.cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = make()
        with _LOCK:
            self.cache[key] = (now + ttl, value)
        return value

    # -- viewer ---------------------------------------------------------------------------

    def viewer(self, user_id: int | None, now: float) -> Viewer:
        """Everything the filters and the blend need to know about the viewer, in 6 reads."""
        from app.services import impressions

        if user_id is None:
            return Viewer()
        since = _dt(now) - timedelta(hours=self.settings.feed_seen_window_hours)
        # Shown: the feed's own pages, and impressions the apps sent (other surfaces).
        seen = impressions.shown_since(user_id, since)
        seen.update(db.session.scalars(select(Interaction.note_id).where(
            Interaction.user_id == user_id, Interaction.at >= since,
            Interaction.kind == InteractionKind.IMPRESSION)))
        blocked = db.session.execute(select(Block.blocker_id, Block.blocked_id).where(
            or_(Block.blocker_id == user_id, Block.blocked_id == user_id))).all()
        hidden = db.session.execute(select(NotInterested.note_id, NotInterested.author_id)
                                    .where(NotInterested.user_id == user_id)).all()
        following = db.session.scalars(select(Follow.followee_id)
                                       .where(Follow.follower_id == user_id))
        # The latest positive events: notes already opened or liked count as seen, and their
        # authors give the viewer's affinity.
        recent = db.session.execute(
            select(Interaction.note_id, Note.author_id, Interaction.weight)
            .join(Note, Note.id == Interaction.note_id)
            .where(Interaction.user_id == user_id, Interaction.weight > 0)
            .order_by(Interaction.at.desc()).limit(AFFINITY_EVENTS)).all()
        by_author: dict[int, float] = {}
        for _, author_id, weight in recent:
            by_author[author_id] = by_author.get(author_id, 0.0) + float(weight)
        top = max(by_author.values(), default=0.0) or 1.0
        return Viewer(
            user_id=user_id, seen=frozenset(seen) | {note_id for note_id, _, _ in recent},
            blocked_authors=frozenset(a if b == user_id else b for a, b in blocked),
            hidden_notes=frozenset(n for n, _ in hidden if n is not None),
            hidden_authors=frozenset(a for _, a in hidden if a is not None),
            following=frozenset(following),
            author_affinity={a: float(w) / top for a, w in by_author.items()
                             if a != user_id})

    # -- sources --------------------------------------------------------------------------

    def picks(self, user_id: int, n: int, exclude: list[int]):
        from app.services import serving

        found = serving.recommend_for_user(user_id, n, exclude)
        return found.scores, found.model_id

    def following_notes(self, author_ids: frozenset[int], n: int, now: float):
        rows = db.session.execute(
            select(Note.id, Note.created_at)
            .where(Note.author_id.in_(sorted(author_ids)), Note.deleted_at.is_(None),
                   Note.created_at >= _dt(now) - timedelta(days=FOLLOWING_DAYS))
            .order_by(Note.created_at.desc()).limit(n)).all()
        return [(note_id, _ts(at)) for note_id, at in rows]

    def trending(self, n: int, now: float):
        """Engagement over the trending window, each event decayed by its age (piecewise by
        day, so one portable SQL sum does it)."""
        def make():
            half = self.settings.feed_trending_half_life_hours
            end = _dt(now)
            days = self.settings.feed_trending_window_days
            decayed = case(*[(Interaction.at >= end - timedelta(days=d + 1),
                              Interaction.weight * 0.5 ** ((d + 0.5) * 24 / half))
                             for d in range(days)], else_=0.0)
            rows = db.session.execute(
                select(Interaction.note_id, func.sum(decayed).label("s"))
                .where(Interaction.at >= end - timedelta(days=days),
                       Interaction.kind.in_(ENGAGEMENT_KINDS))
                .group_by(Interaction.note_id).order_by(func.sum(decayed).desc()).limit(n))
            return [(note_id, float(s)) for note_id, s in rows]
        return self._cached(f"trending:{n}", make)

    def fresh(self, n: int, now: float):
        from app.services import impressions

        def make():
            since = _dt(now) - timedelta(days=self.settings.feed_fresh_days)
            rows = db.session.execute(
                select(Note.id, Note.created_at)
                .where(Note.created_at >= since, Note.deleted_at.is_(None),
                       Note.hidden_at.is_(None), Note.visibility == Visibility.PUBLIC)
                .order_by(Note.created_at.desc()).limit(n * 3)).all()
            if not rows:
                return []
            shown = dict(db.session.execute(
                select(Interaction.note_id, func.count())
                .where(among(Interaction.note_id, [r[0] for r in rows]),
                       Interaction.kind == InteractionKind.IMPRESSION)
                .group_by(Interaction.note_id)).all())
            for note_id, served in impressions.feed_counts([r[0] for r in rows]).items():
                shown[note_id] = shown.get(note_id, 0) + served
            cap = self.settings.feed_fresh_max_impressions
            return [(nid, _ts(at)) for nid, at in rows if shown.get(nid, 0) < cap][:n]
        return self._cached(f"fresh:{n}", make)

    def recent_likes(self, user_id: int, n: int):
        return list(db.session.execute(
            select(Like.note_id, Note.title).join(Note, Note.id == Like.note_id)
            .where(Like.user_id == user_id, Note.deleted_at.is_(None))
            .order_by(Like.created_at.desc()).limit(n)).all())

    def more_like_this(self, note_id: int, n: int):
        from app.services import search

        hits = search.backend().more_like_this(f"note:{note_id}", size=min(n, 100))
        return [(int(h.id.split(":")[1]), h.score) for h in hits if h.id.startswith("note:")]

    def topics(self, user_id: int) -> list[str]:
        return list(db.session.scalars(
            select(Hashtag.display).join(UserTopic, UserTopic.hashtag_id == Hashtag.id)
            .where(UserTopic.user_id == user_id).order_by(Hashtag.display)))

    def topic_popular(self, topics: list[str], n: int, now: float):
        popularity = Note.like_count + 2 * Note.save_count + Note.comment_count
        rows = db.session.execute(
            select(Note.id, popularity, Hashtag.display)
            .join(NoteHashtag, NoteHashtag.note_id == Note.id)
            .join(Hashtag, Hashtag.id == NoteHashtag.hashtag_id)
            .where(Hashtag.display.in_(topics), Note.deleted_at.is_(None))
            .order_by(popularity.desc(), Note.id.desc()).limit(n)).all()
        return [(nid, float(p), tag) for nid, p, tag in rows]

    def latest(self, n: int, now: float):
        def make():
            rows = db.session.execute(
                select(Note.id, Note.created_at)
                .where(Note.deleted_at.is_(None), Note.hidden_at.is_(None),
                       Note.visibility == Visibility.PUBLIC)
                .order_by(Note.id.desc()).limit(n)).all()
            return [(nid, _ts(at)) for nid, at in rows]
        return self._cached(f"latest:{n}", make)

    # -- facts ----------------------------------------------------------------------------

    def _log_counts(self, ids: list[int]) -> dict[int, dict[str, int]]:
        """Impressions and purchases per note from the logs (no counter column has them): the
        feed's daily impression counts plus the interactions log. Each note's counts cached
        for ``feed_cache_seconds``: the heaviest read of a request."""
        from app.services import impressions

        ttl = self.settings.feed_cache_seconds
        now = time.monotonic()
        with _LOCK:
            store = self.cache.setdefault("note_counts", {})
            hits = {i: store[i][1] for i in ids if i in store and store[i][0] > now}
        missing = [i for i in ids if i not in hits]
        fresh: dict[int, dict[str, int]] = {i: {} for i in missing}
        if missing:
            for note_id, kind, n in db.session.execute(
                    select(Interaction.note_id, Interaction.kind, func.count())
                    .where(among(Interaction.note_id, missing),
                           Interaction.kind.in_((InteractionKind.IMPRESSION,
                                                 InteractionKind.PURCHASE)))
                    .group_by(Interaction.note_id, Interaction.kind)):
                fresh[note_id][getattr(kind, "value", kind)] = n
            for note_id, n in impressions.feed_counts(missing).items():
                fresh[note_id]["impression"] = fresh[note_id].get("impression", 0) + n
            if ttl > 0:
                with _LOCK:
                    if len(store) > 200_000:
                        store.clear()
                    store.update({i: (now + ttl, c) for i, c in fresh.items()})
        return {**hits, **fresh}

    def _note_rows(self, ids: list[int]) -> dict[int, tuple[Any, ...] | None]:
        """What facts are made of, per note: (author id, username, title, created, visibility,
        hidden, views, engagements, hashtags, sellable), None for a deleted note. Each note's
        row is cached for ``feed_cache_seconds`` (every viewer's plan reads the same popular
        notes; the page re-checks visibility and stock when it serves them)."""
        ttl = self.settings.feed_cache_seconds
        now = time.monotonic()
        with _LOCK:
            store = self.cache.setdefault("note_rows", {})
            hits = {i: store[i][1] for i in ids if i in store and store[i][0] > now}
        missing = [i for i in ids if i not in hits]
        if not missing:
            return hits
        fresh: dict[int, tuple[Any, ...] | None] = dict.fromkeys(missing)
        tags: dict[int, list[str]] = {}
        for note_id, tag in db.session.execute(
                select(NoteHashtag.note_id, Hashtag.display)
                .join(Hashtag, Hashtag.id == NoteHashtag.hashtag_id)
                .where(among(NoteHashtag.note_id, missing)).order_by(NoteHashtag.position)):
            tags.setdefault(note_id, []).append(tag)
        stock = dict(db.session.execute(
            select(NoteProduct.note_id, func.max(case((Product.sellable, 1), else_=0)))
            .join(Product, Product.id == NoteProduct.product_id)
            .where(among(NoteProduct.note_id, missing)).group_by(NoteProduct.note_id)).all())
        for (note_id, author_id, username, title, created, visibility, hidden, views,
             engaged) in db.session.execute(
                select(Note.id, Note.author_id, User.username, Note.title, Note.created_at,
                       Note.visibility, Note.hidden_at, Note.view_count,
                       Note.like_count + Note.save_count + Note.comment_count
                       + Note.share_count)
                .join(User, User.id == Note.author_id)
                .where(among(Note.id, missing), Note.deleted_at.is_(None))):
            fresh[note_id] = (author_id, username, title, _ts(created), visibility,
                              hidden is not None, views, int(engaged),
                              tuple(tags.get(note_id, ())), stock.get(note_id))
        if ttl > 0:
            with _LOCK:
                if len(store) > 200_000:
                    store.clear()
                store.update({i: (now + ttl, row) for i, row in fresh.items()})
        return {**hits, **fresh}

    def facts(self, note_ids: list[int], viewer: Viewer) -> dict[int, NoteFacts]:
        """Facts for these notes as this viewer sees them (deleted ones get none)."""
        if not note_ids:
            return {}
        ids = sorted(set(note_ids))
        rows = self._note_rows(ids)
        counts = self._log_counts(ids)
        out = {}
        for note_id in ids:
            row = rows.get(note_id)
            if row is None:
                continue
            (author_id, username, title, created, visibility, hidden, views, engaged, tags,
             sellable) = row
            visible = not hidden and (
                visibility == Visibility.PUBLIC or author_id == viewer.user_id
                or (visibility == Visibility.FOLLOWERS and author_id in viewer.following))
            c = counts.get(note_id, {})
            out[note_id] = NoteFacts(
                note_id, author_id, username, title, created, tags, visible=visible,
                all_out_of_stock=sellable == 0, impressions=c.get("impression", 0),
                clicks=views, engagements=engaged, purchases=c.get("purchase", 0))
        return out
