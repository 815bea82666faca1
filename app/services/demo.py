"""The demo world: creators, merchants, products and notes on ten topics, and their activity.

Note texts come from the Chinese review corpus in ../shared/datasets when it is there (read in
place, never copied) and from the corpus the project ships otherwise. Covers and avatars are
drawn by ``app.demo.images``. Who follows, views, likes, saves, comments and shares what comes
from the generative model in ``app.demo.activity``, written in bulk. Everything is derived from
one seed, so two machines seeding with the same data get the same world.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy import text as sql_text
from tqdm import tqdm

from app.config import get_settings
from app.demo import activity
from app.demo.corpus import Corpus, NoteText, Topic, load_corpus, load_fallback
from app.demo.images import render_avatar, render_cover
from app.extensions import db
from app.models import (
    Collection,
    Comment,
    Follow,
    Image,
    Interaction,
    InteractionKind,
    Like,
    Note,
    Notification,
    NotificationKind,
    NotInterested,
    Product,
    ProductStatus,
    Role,
    Save,
    User,
)
from app.models.base import utcnow
from app.services import interactions, outbox
from app.services.accounts import hash_password
from app.services.engagement import DEFAULT_COLLECTION
from app.services.images import CheckedImage, add_image, check_image
from app.services.notes import build_note

DEMO_PASSWORD = "zhongcao-demo"
DEMO_DOMAIN = "demo.zhongcao.org"
# (username, display name, role, bio): the four accounts README tells people to log in as.
DEMO_ACCOUNTS = (
    ("browser", "小鹿爱逛", Role.USER, "随便逛逛，看到好物就种草 🌱"),
    ("creator", "种草君", Role.USER, "认真写每一篇笔记｜好物分享"),
    ("merchant", "好物小铺", Role.MERCHANT, "精选好物，放心购"),
    ("operator", "运营小助手", Role.OPERATOR, "维护社区秩序"),
)
# The browser account's taste, by topic key; the other topics share what is left.
BROWSER_TASTE = {"fruit": 0.4, "shampoo": 0.3, "clothes": 0.2}
BROWSER_ACTIVITY = 3.0
# The demo creator writes one note in ten, at most this many, and is a "star" author.
CREATOR_NOTES_MAX = 40
NOTES_PER_CREATOR = 25
MIN_CREATORS_PER_TOPIC = 2
CREATOR_ACTIVITY = 0.5
MERCHANTS = 5
COVERS_PER_TOPIC = 8
# Avatars drawn at most; bigger worlds reuse them (one Image row per user, files shared).
AVATARS = 200
# Notes are published over this many days before the seed ran; activity happens in them too.
HISTORY_DAYS = 60
# Rows per bulk INSERT (one executemany): ~80k interaction rows/s on SQLite at this size, and a
# chunk of dicts stays a few MB however big the world.
CHUNK = 5000
# The demo creator's notification inbox: the latest events, the newest few still unread.
CREATOR_NOTIFICATIONS = 40
CREATOR_UNREAD = 8

_NAME_HEADS = "小阿大糖橙柚桃米叶月星云青白可乐安"
_NAME_TAILS = ["酱", "子", "同学", "日记", "不吃辣", "的小窝", "爱生活", "在路上", "呀", "君"]
# When more notes are asked for than the corpus has, texts come round again, retitled.
_TITLE_AGAIN = ("（二）", "· 回购", "· 用了一个月", "· 再来安利", "· 后续", "· 长期使用")
_BODY_AGAIN = ("又回购了！", "用了一段时间，再来说说：", "第二次写它了，", "还是忍不住再安利一次：",
               "补一篇后续：", "家里人也在用，")


@dataclass
class SeedReport:
    skipped: str | None = None
    source: str = ""
    users: int = 0
    products: int = 0
    notes: int = 0
    images: int = 0
    interactions: int = 0
    views: int = 0
    follows: int = 0
    likes: int = 0
    saves: int = 0
    comments: int = 0
    accounts: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.skipped:
            return f"Demo seed skipped: {self.skipped}."
        logins = ", ".join(self.accounts)
        return (f"Demo world seeded from the {self.source} corpus: {self.users} users, "
                f"{self.products} products, {self.notes} notes, {self.images} images.\n"
                f"Simulated activity: {self.interactions} interactions ({self.views} views, "
                f"{self.likes} likes, {self.saves} saves, {self.comments} comments), "
                f"{self.follows} follows.\n"
                f"Log in as {logins} with password {DEMO_PASSWORD!r}.")


def demo_email(name: str) -> str:
    return f"{name}@{DEMO_DOMAIN}"


def is_seeded() -> bool:
    operator = select(User.id).where(User.email == demo_email("operator"))
    return db.session.scalar(operator) is not None


def seed_demo(n_users: int = 60, n_notes: int = 200, n_interactions: int = 20_000,
              only_if_empty: bool = False, progress: bool = True, seed: int = 7) -> SeedReport:
    """Build the demo world and its activity in one transaction; a second run changes nothing.

    ``n_users`` readers come on top of the creators (one per 25 notes of a topic, at least
    two), the merchants and the four demo accounts; ``n_notes`` are spread evenly over the
    topics; the simulation stops near ``n_interactions`` rows. ``only_if_empty`` skips any
    database that has users (what ``make run`` uses).
    """
    if only_if_empty and db.session.scalar(select(func.count(User.id))):
        return SeedReport(skipped="the database already has users")
    if is_seeded():
        return SeedReport(skipped="the demo world is already there")
    settings = get_settings()
    datasets = settings.datasets_dir if settings.datasets_dir.is_dir() else None
    n_topics = len(load_fallback().topics)
    per_topic = [n_notes // n_topics + (k < n_notes % n_topics) for k in range(n_topics)]
    corpus = load_corpus(datasets, notes_per_topic=max(per_topic), seed=seed)
    try:
        return _World(corpus, seed, progress).build(n_users, per_topic, n_interactions)
    except BaseException:
        db.session.rollback()
        raise


def _again(text: NoteText, round_: int) -> tuple[str, str]:
    """The title and body of a corpus text used for the ``round_``-th time (0: as it is)."""
    if round_ == 0:
        return text.title, text.body
    n = round_ - 1
    suffix = _TITLE_AGAIN[n] if n < len(_TITLE_AGAIN) else f"（{round_ + 1}）"
    return f"{text.title}{suffix}", _BODY_AGAIN[n % len(_BODY_AGAIN)] + text.body


def _drawn(kind: str, seed: int, palette: tuple[str, ...] = ()) -> CheckedImage:
    """A drawn avatar or cover, checked like an upload (the thumbnail size is settings')."""
    return _drawn_for(kind, seed, palette, get_settings().thumbnail_side)


# Memoised for the process: drawing and re-encoding an image costs ~45 ms, most of a small
# seed's time, and a cover is the same bytes every time. ~330 images, ~20 MB at most.
@functools.lru_cache(maxsize=512)
def _drawn_for(kind: str, seed: int, palette: tuple[str, ...], thumb_side: int) -> CheckedImage:
    data = render_avatar(seed) if kind == "avatar" else render_cover(palette, seed)
    return check_image(data, None)


def _chunks(rows: Iterable[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass
class _People:
    everyone: list[User]
    demo: dict[str, User]
    merchants: list[User]
    creators: list[list[User]]
    readers: list[User]


class _World:
    def __init__(self, corpus: Corpus, seed: int, progress: bool) -> None:
        self.corpus = corpus
        self.seed = seed
        self.rng = random.Random(seed)
        self.progress = progress
        # One argon2 hash for every demo account: they share a password, and hashing it per
        # account would cost ~50 ms each for nothing.
        self.password_hash = hash_password(DEMO_PASSWORD)
        self.report = SeedReport(source=corpus.source)
        self._owned: dict[tuple[int, str, int], Image] = {}

    def _bar(self, items: Iterable[Any] | None = None, **kwargs: Any) -> tqdm:
        return tqdm(items, disable=not self.progress, **kwargs)

    # -- people -----------------------------------------------------------------------------
    def _name(self) -> str:
        return self.rng.choice(_NAME_HEADS) + self.rng.choice(_NAME_HEADS) + self.rng.choice(
            _NAME_TAILS)

    def _people(self, n_readers: int, per_topic: list[int], start: datetime,
                end: datetime) -> _People:
        topics = self.corpus.topics
        days = timedelta(days=1)
        users: list[User] = []

        def user(username: str, display: str, joined: datetime, role: Role = Role.USER,
                 bio: str = "", email: str | None = None) -> User:
            users.append(User(email=email or f"{username}@{DEMO_DOMAIN}".lower(),
                              username=username, display_name=display, bio=bio, role=role,
                              password_hash=self.password_hash, created_at=joined))
            return users[-1]

        demo = {name: user(name, display, start - 200 * days, role, bio, email=demo_email(name))
                for name, display, role, bio in DEMO_ACCOUNTS}
        merchants = [demo["merchant"]] + [
            user(f"shop_{i}", self._name() + "小店", start - 150 * days, Role.MERCHANT, "品质好物")
            for i in range(1, MERCHANTS)]
        creators = [[user(f"{t.key}_fan{i}", self._name(),
                          start - self.rng.uniform(30, 365) * days, bio=f"{t.name_zh}爱好者")
                     for i in range(1, max(MIN_CREATORS_PER_TOPIC,
                                           round(count / NOTES_PER_CREATOR)) + 1)]
                    for t, count in zip(topics, per_topic, strict=True)]
        joins = activity.join_times(n_readers, start, end, self.seed)
        readers = [user(f"reader{i:04d}", self._name(), joins[i - 1])
                   for i in range(1, n_readers + 1)]
        db.session.add_all(users)
        db.session.flush()
        for n, person in enumerate(self._bar(users, desc="demo users", unit="user")):
            avatar = _drawn("avatar", self.seed * 7919 + n % AVATARS)
            person.avatar_image_id = add_image(person.id, avatar).id
        self.report.users += len(users)
        self.report.images += len(users)
        self.report.accounts = [demo_email(name) for name, *_ in DEMO_ACCOUNTS]
        return _People(users, demo, merchants, creators, readers)

    # -- images -----------------------------------------------------------------------------
    def _cover(self, owner: User, topic: Topic, index: int) -> Image:
        key = (owner.id, topic.key, index)
        if key not in self._owned:
            cover = _drawn("cover", index * 1009 + sum(map(ord, topic.key)), topic.palette)
            self._owned[key] = add_image(owner.id, cover)
            self.report.images += 1
        return self._owned[key]

    # -- products and notes -----------------------------------------------------------------
    def _products(self, merchants: list[User], listed: datetime) -> list[list[Product]]:
        out = []
        for t_index, topic in enumerate(self.corpus.topics):
            merchant = merchants[t_index % len(merchants)]
            out.append([])
            for p_index, spec in enumerate(topic.products):
                product = Product(merchant_id=merchant.id, title=spec.title,
                                  description=spec.description, price_cents=spec.price_cents,
                                  currency="CNY", stock=spec.stock, status=ProductStatus.ACTIVE,
                                  created_at=listed)
                db.session.add(product)
                product.set_images([self._cover(merchant, topic, COVERS_PER_TOPIC + p_index)])
                out[-1].append(product)
                self.report.products += 1
        db.session.flush()
        return out

    def _notes(self, people: _People, products: list[list[Product]], per_topic: list[int],
               start: datetime) -> list[activity.SimNote]:
        topics = self.corpus.topics
        plan = [(k, j) for k, count in enumerate(per_topic) for j in range(count)
                if topics[k].notes]
        self.rng.shuffle(plan)
        star = people.demo["creator"]
        mine = set(self.rng.sample(range(len(plan)), min(max(len(plan) // 10, 1),
                                                         CREATOR_NOTES_MAX, len(plan))))
        authors = [star if n in mine else self.rng.choice(people.creators[k])
                   for n, (k, _) in enumerate(plan)]
        appeals = activity.note_appeals([a.id for a in authors], self.seed, stars={star.id})
        step = timedelta(days=HISTORY_DAYS) / max(len(plan), 1)
        out = []
        bar = self._bar(plan, desc="demo notes", unit="note")
        for n, (k, j) in enumerate(bar):
            topic, author = topics[k], authors[n]
            title, body = _again(topic.notes[j % len(topic.notes)], j // len(topic.notes))
            covers = self.rng.sample(range(COVERS_PER_TOPIC), self.rng.choice((1, 1, 2, 3)))
            images = [self._cover(author, topic, c) for c in covers]
            tagged = (self.rng.sample(products[k], self.rng.choice((1, 1, 2)))
                      if products[k] and self.rng.random() < 0.7 else [])
            created = start + step * n
            note = build_note(author.id, title[:100], body[:5000], images, tagged,
                              created_at=created)
            out.append(activity.SimNote(note.id, k, author.id, created, appeals[n]))
            self.report.notes += 1
        return out

    # -- activity ---------------------------------------------------------------------------
    def _simulated_users(self, people: _People) -> list[activity.SimUser]:
        """Everyone who browses: readers, creators, and the browser and creator accounts."""
        keys = [t.key for t in self.corpus.topics]
        rest = (1 - sum(BROWSER_TASTE.values())) / max(len(keys) - len(BROWSER_TASTE), 1)
        taste = tuple(BROWSER_TASTE.get(key, rest) for key in keys)
        browser, creator = people.demo["browser"], people.demo["creator"]
        users = [activity.SimUser(browser.id, browser.created_at, taste=taste,
                                  activity=BROWSER_ACTIVITY),
                 activity.SimUser(creator.id, creator.created_at)]
        users += [activity.SimUser(c.id, c.created_at, home_topic=k, activity=CREATOR_ACTIVITY)
                  for k, group in enumerate(people.creators) for c in group]
        users += [activity.SimUser(r.id, r.created_at) for r in people.readers]
        return users

    def _insert(self, model: type, rows: Iterable[dict[str, Any]], bar: tqdm | None) -> None:
        table: Table = model.__table__  # type: ignore[attr-defined]
        for chunk in _chunks(rows):
            db.session.execute(insert(table), chunk)
            if bar is not None:
                bar.update(len(chunk))

    def _write(self, act: activity.Activity, star: User) -> None:
        total = (len(act.follows) + len(act.likes) + len(act.saves) + len(act.comments)
                 + len(act.not_interested) + len(act.interactions))
        bar = self._bar(total=total, desc="demo rows", unit="row")
        self._insert(Follow, ({"follower_id": f.follower_id, "followee_id": f.followee_id,
                               "created_at": f.at} for f in act.follows), bar)
        self._insert(Like, ({"user_id": r.user_id, "note_id": r.note_id, "created_at": r.at}
                            for r in act.likes), bar)
        first_save: dict[int, datetime] = {}
        for r in act.saves:
            first_save.setdefault(r.user_id, r.at)
        self._insert(Collection, ({"owner_id": user_id, "name": DEFAULT_COLLECTION,
                                   "is_default": True, "created_at": at}
                                  for user_id, at in first_save.items()), None)
        folders = dict(db.session.execute(select(Collection.owner_id, Collection.id).where(
            Collection.is_default.is_(True))).all())
        self._insert(Save, ({"user_id": r.user_id, "note_id": r.note_id, "created_at": r.at,
                             "collection_id": folders[r.user_id]} for r in act.saves), bar)
        self._insert(Comment, ({"note_id": c.note_id, "author_id": c.user_id, "body": c.body,
                                "created_at": c.at} for c in act.comments), bar)
        self._insert(NotInterested, ({"user_id": r.user_id, "note_id": r.note_id,
                                      "created_at": r.at} for r in act.not_interested), bar)
        flat = {kind: interactions.weight_of(kind) for kind in InteractionKind
                if kind != InteractionKind.DWELL}
        dwell = InteractionKind.DWELL.value
        self._insert(Interaction, (
            {"user_id": r.user_id, "note_id": r.note_id, "kind": r.kind,
             "weight": (interactions.weight_of(InteractionKind.DWELL, r.dwell_ms)
                        if r.kind == dwell else flat[InteractionKind(r.kind)]),
             "at": r.at, "dwell_ms": r.dwell_ms, "position": r.position,
             "feed_request_id": r.feed_request_id} for r in act.interactions), bar)
        bar.close()
        self._notify(act, star)
        report = self.report
        report.interactions = len(act.interactions)
        report.views = sum(r.kind == activity.CLICK for r in act.interactions)
        report.follows, report.likes = len(act.follows), len(act.likes)
        report.saves, report.comments = len(act.saves), len(act.comments)

    def _notify(self, act: activity.Activity, star: User) -> None:
        """The demo creator's inbox: their latest likes, saves, comments and new followers."""
        theirs = set(db.session.scalars(select(Note.id).where(Note.author_id == star.id)))
        comment_ids = {(a, n): i for i, a, n in db.session.execute(
            select(Comment.id, Comment.author_id, Comment.note_id)
            .where(Comment.note_id.in_(theirs)))} if theirs else {}
        events: list[tuple[datetime, NotificationKind, int, int | None, int | None]] = []
        for kind, rows in ((NotificationKind.LIKE, act.likes), (NotificationKind.SAVE, act.saves)):
            events += [(r.at, kind, r.user_id, r.note_id, None) for r in rows
                       if r.note_id in theirs]
        events += [(c.at, NotificationKind.COMMENT, c.user_id, c.note_id,
                    comment_ids[(c.user_id, c.note_id)]) for c in act.comments
                   if c.note_id in theirs]
        events += [(f.at, NotificationKind.FOLLOW, f.follower_id, None, None)
                   for f in act.follows if f.followee_id == star.id]
        events = sorted(events, key=lambda e: e[0])[-CREATOR_NOTIFICATIONS:]
        read_until = len(events) - CREATOR_UNREAD
        rows = [{"user_id": star.id, "actor_id": actor, "kind": kind.value, "note_id": note_id,
                 "comment_id": comment_id, "created_at": at,
                 "read_at": min(at + timedelta(hours=2), events[-1][0]) if n < read_until
                 else None}
                for n, (at, kind, actor, note_id, comment_id) in enumerate(events)]
        self._insert(Notification, rows, None)

    def _mark_for_search(self, people: _People, products: list[list[Product]],
                         notes: list[activity.SimNote]) -> None:
        for user in people.everyone:
            outbox.mark_stale("user", user.id)
        for product in (p for group in products for p in group):
            outbox.mark_stale("product", product.id)
        for note in notes:
            outbox.mark_stale("note", note.note_id)

    # -- the world --------------------------------------------------------------------------
    def build(self, n_readers: int, per_topic: list[int], n_interactions: int) -> SeedReport:
        end = utcnow()
        start = end - timedelta(days=HISTORY_DAYS)
        people = self._people(n_readers, per_topic, start, end)
        products = self._products(people.merchants, start - timedelta(days=30))
        notes = self._notes(people, products, per_topic, start)
        db.session.flush()
        with self._bar(total=n_interactions, desc="demo activity", unit="row") as bar:
            act = activity.simulate(self._simulated_users(people), notes,
                                    n_topics=len(self.corpus.topics), start=start, end=end,
                                    target=n_interactions, seed=self.seed, progress=bar.update)
            bar.total = bar.n  # the simulation ends near the target, not on it
        self._write(act, people.demo["creator"])
        self._mark_for_search(people, products, notes)
        # Counters are set from the rows just written, so they equal a recount exactly.
        interactions.recount_counters()
        db.session.commit()
        _analyze()
        return self.report


def _analyze() -> None:
    """Refresh the query planner's statistics after the bulk load: PostgreSQL's autovacuum
    gets there eventually, and until it does it plans with the row estimates of near-empty
    tables (seen here: a 79-row estimate for 18,000 notes). SQLite keeps none by default."""
    if db.session.get_bind().dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(sql_text("ANALYZE"))

