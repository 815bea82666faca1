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

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class FeedPlan(Base):
    __tablename__ = "feed_plan"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"),
                                         primary_key=True)
    built_at: Mapped[datetime] = mapped_column(default=utcnow)
    model_id: Mapped[str | None] = mapped_column(String(64))
    # [[note_id, author_id, score, source, [sources], reason], ...] best first, in pages
    items: Mapped[list[Any]] = mapped_column(JSON)
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
