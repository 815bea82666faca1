"""A viewer's feed plan: the pipeline's ranked, diversified list for the next pages.

Running the whole pipeline (six sources, filters, blend, diversity) costs about 100 ms; a
person scrolls a page every few seconds. So the pipeline runs once for several pages (on the
request that finds no usable plan, in a worker ahead of time, or in the nightly batch after a
retrain) and each page request serves the next window of the plan, re-checking only what can
change between pages (deleted, hidden, private, sold out, already shown). Anything the viewer
does that should change the feed (a like, a save, not interested, a follow, a block, picked
topics) deletes the plan, so the next page is planned again with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, overload

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class PlanItems(Sequence[list[Any]]):
    """A plan's items, as read back: a page serves about 30 of a plan's 200, so only those
    are parsed. Stored (``PackedPlan``) as lines: first ``{"ids": [note ids], "at": [where
    each item's line starts in the rest, and where the rest ends + 1]}``, then one JSON array
    per item. ``ids`` are parsed at once (a page picks what is left from them), an item when
    it is first asked for, from its own slice of the text (splitting 200 lines to use 30 cost
    more than parsing the 30: BENCHMARKS.md, 2026-12-06, night).

    Made from a list as well (a plan made on the request, a test writing one): then every
    item is there already. Reads like a list of items (index, slice, ``len``, iteration)."""

    __slots__ = ("ids", "_items", "_at", "_base", "_text")

    def __init__(self, items: Iterable[list[Any]] = ()) -> None:
        self._items: list[list[Any] | None] = list(items)
        self.ids: list[int] = [item[0] for item in self._items]  # type: ignore[index]
        self._at: list[int] | None = None
        self._base = 0
        self._text: str | None = None

    @classmethod
    def unpack(cls, packed: str) -> PlanItems:
        """Read ``pack``'s text (or, from before it, one JSON array of items)."""
        end = packed.find("\n")
        head = orjson.loads(packed if end < 0 else packed[:end])
        if isinstance(head, list):      # one JSON array of the items themselves
            return cls(head)
        plan = cls.__new__(cls)
        plan.ids = head["ids"]
        plan._items = [None] * len(plan.ids)
        plan._at = head["at"]
        plan._base = end + 1
        plan._text = packed
        return plan

    def pack(self) -> str:
        """The stored text (the same text back for a plan read and not changed)."""
        if self._text is None:
            option = orjson.OPT_NON_STR_KEYS
            lines = [orjson.dumps(item, option=option).decode() for item in self]
            at = [0]
            for line in lines:
                at.append(at[-1] + len(line) + 1)
            head = orjson.dumps({"ids": self.ids, "at": at}).decode()
            self._text = "\n".join([head, *lines])
        return self._text

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> list[Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[list[Any]]: ...

    def __getitem__(self, index: int | slice) -> list[Any] | list[list[Any]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self.ids)))]
        item = self._items[index]
        if item is None:
            if index < 0:
                index += len(self.ids)
            at, base = self._at, self._base
            item = self._items[index] = orjson.loads(
                self._text[base + at[index]:base + at[index + 1] - 1])  # type: ignore[index]
        return item

    def take(self, positions: Sequence[int]) -> list[list[Any]]:
        """``[self[i] for i in positions]`` (positions in range, not negative), parsing each
        run of consecutive items not parsed yet with one ``orjson.loads`` (a page's window is
        mostly one run: 30 items parsed in one call cost half of 30 calls)."""
        items, at, base, text = self._items, self._at, self._base, self._text
        if text is not None and at is not None:
            start = 0
            count = len(positions)
            while start < count:
                end = start + 1
                while end < count and positions[end] == positions[end - 1] + 1:
                    end += 1
                first, last = positions[start], positions[end - 1]
                if end - start > 1 and all(items[i] is None for i in range(first, last + 1)):
                    lines = text[base + at[first]:base + at[last + 1] - 1].replace("\n", ",")
                    parsed = orjson.loads("[" + lines + "]")
                    if len(parsed) == end - start:      # else item by item, as ``self[i]``
                        items[first:last + 1] = parsed
                start = end
        return [self[i] for i in positions]

    def __iter__(self) -> Iterator[list[Any]]:
        for i in range(len(self.ids)):
            yield self[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PlanItems | list):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"PlanItems({len(self.ids)} items)"


class PackedPlan(TypeDecorator[PlanItems]):
    """``FeedPlan.items`` in the database: text of ``PlanItems.pack``; reads give a
    ``PlanItems``, writes take one or a plain list of items."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return (value if isinstance(value, PlanItems) else PlanItems(value)).pack()

    def process_result_value(self, value: Any, dialect: Any) -> PlanItems | None:
        return None if value is None else PlanItems.unpack(value)


class FeedPlan(Base):
    __tablename__ = "feed_plan"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"),
                                         primary_key=True)
    built_at: Mapped[datetime] = mapped_column(default=utcnow)
    model_id: Mapped[str | None] = mapped_column(String(64))
    # [[note_id, author_id, score, source, [sources], reason, params, liked], ...] best first,
    # in pages (``app.services.feed.PlanItem``), stored as ``PackedPlan``'s lines
    items: Mapped[PlanItems] = mapped_column(PackedPlan)
    # {"sources": [source reports], "removed": {filter: count}}
    report: Mapped[dict[str, Any]] = mapped_column(JSON)


class FeedEpoch(Base):
    """One counter (the row with id 1) that the database itself moves on whenever a feed card
    may have to change or leave feeds: a note deleted, hidden, made private or retitled, its
    images or tagged products changed, a product sold out, back in stock, hidden or shown.
    Triggers do it (migration ``3f6c1e0b7a52``), so no write path can forget to.

    Serving processes keep the cards they read (``app.services.feed``) together with the
    counter's value at the time; a page whose plan read shows another value reads its cards
    again. So a page never serves a card that was taken down, while a page of a feed nobody
    changed needs no card read at all.
    """

    __tablename__ = "feed_epoch"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class FeedImpressionPage(Base):
    """The impressions of one served feed page, in one row: who, the feed request id, the
    position of the page's first note and its notes in order (``"12,5,9"``: the note at
    index i was at position ``first_position + i``). This is the feed's impression log; a
    click, like or order made from the feed carries the same request id and position, so it
    traces back to the slot.

    Written as 20 rows of ``interaction`` (five indexes each), a page's impressions cost more
    than serving the page (BENCHMARKS.md); this is one row and one index entry. Readers:

    - what was shown to whom and when (the page's "already shown" check, the pipeline's seen
      filter) reads these rows by (user_id, at);
    - how often a note was shown (the fresh source, engagement rates, creator analytics)
      reads ``NoteImpressionDay``, which ``app.services.impressions.count`` rolls these rows
      up into, in id order, exactly once (``FeedImpressionMark``: how far it got).

    Rows are only ever inserted, by ``app.services.impressions.log_page`` or, for a scroll's
    next page worked out ahead on PostgreSQL, by the feed's plan read itself
    (``app.services.feed._plan_page``; both hold the lock on PostgreSQL that the counter uses
    to know no lower id is still to come), and deleted with their account (by a trigger on
    ``user``: no foreign key, see ``user_id``).

    Impressions the apps send themselves (``POST /api/v1/events``, for surfaces the server
    does not log) stay in ``interaction``; readers add both.
    """

    __tablename__ = "feed_impression_page"
    # AUTOINCREMENT on SQLite: ids are never used again, even after the latest pages went with
    # their account (plain SQLite rowids start again from the highest left), since pages are
    # counted in id order up to a mark. PostgreSQL's sequence never goes back.
    __table_args__ = (Index("ix_feed_impression_page_user_id_at", "user_id", "at"),
                      {"sqlite_autoincrement": True})

    # BIGINT on PostgreSQL (one row per page served); SQLite only autoincrements INTEGER.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    # The account, without a foreign key: checking it on every page's insert cost 35-50 us of
    # PostgreSQL's CPU a page (it locks the account's row); a trigger on ``user`` deletes
    # an account's pages instead (migration a3c5e7f9b1d2). The page is written only after the
    # page's plan read found the account active.
    user_id: Mapped[int]
    request_id: Mapped[str] = mapped_column(String(64))
    first_position: Mapped[int]
    note_ids: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedImpressionMark(Base):
    """How far the feed's impression pages are counted (the row with id 1): every
    ``FeedImpressionPage`` with an id up to ``counted_through`` is in ``NoteImpressionDay``,
    none above it. ``app.services.impressions.count`` moves it on in the transaction that adds
    the pages' counts, so each page is counted exactly once and a page's row is never written
    again after its insert (a "counted" flag per page cost each page an entry in one more
    index and, once counted, an update of its row and of every index: BENCHMARKS.md).
    """

    __tablename__ = "feed_impression_mark"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    counted_through: Mapped[int] = mapped_column(BigInteger, default=0)


class NoteImpressionDay(Base):
    """How many times a note was shown in the feed on a day (UTC), rolled up from
    ``FeedImpressionPage`` by ``app.services.impressions.count``."""

    __tablename__ = "note_impression_day"

    note_id: Mapped[int] = mapped_column(ForeignKey("note.id", ondelete="CASCADE"),
                                         primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    impressions: Mapped[int] = mapped_column(default=0)
