"""Creator analytics: what each note did over a date range, from impression to commission.

Signals come from the interactions log (the creator's own activity left out) and, for the
feed's impressions, from their daily counts per note (which lag the pages served by seconds:
``app.services.impressions``); orders from
orders paid within the range that were placed from the note, counting only the lines of
products the note tags; GMV is what buyers paid net of refunds; commission is the creator's
own ledger entries for those orders, estimated and settled (void ones left out). Money is in
one currency at a time.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, or_, select

from app.errors import ValidationFailed
from app.extensions import db
from app.models import (
    EntryState,
    Interaction,
    InteractionKind,
    LedgerAccount,
    LedgerEntry,
    Note,
    Order,
    OrderLine,
)
from app.services import impressions

MAX_DAYS = 366
DEFAULT_DAYS = 30
K = InteractionKind
SIGNALS = {K.IMPRESSION: "impressions", K.CLICK: "clicks", K.LIKE: "likes", K.SAVE: "saves",
           K.COMMENT: "comments"}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class NoteStats:
    note_id: int | None
    title: str
    impressions: int = 0
    clicks: int = 0
    likes: int = 0
    saves: int = 0
    comments: int = 0
    orders: int = 0
    units: int = 0
    gmv_cents: int = 0
    commission_cents: int = 0

    @property
    def click_rate(self) -> float | None:
        """Clicks per impression."""
        return _rate(self.clicks, self.impressions)

    @property
    def order_rate(self) -> float | None:
        """Orders per click."""
        return _rate(self.orders, self.clicks)

    @property
    def engagement_rate(self) -> float | None:
        """Likes, saves and comments per click."""
        return _rate(self.likes + self.saves + self.comments, self.clicks)


COUNTERS = [f.name for f in fields(NoteStats) if f.name not in ("note_id", "title")]
RATES = ("click_rate", "order_rate", "engagement_rate")


@dataclass
class CreatorStats:
    start: date
    end: date
    currency: str
    total: NoteStats
    notes: list[NoteStats] = field(default_factory=list)

    @property
    def funnel(self) -> list[dict[str, object]]:
        """Impressions -> clicks -> orders, each step with its rate from the one before."""
        steps = [("impressions", self.total.impressions), ("clicks", self.total.clicks),
                 ("orders", self.total.orders)]
        out: list[dict[str, object]] = []
        for i, (name, count) in enumerate(steps):
            prev = steps[i - 1][1] if i else None
            out.append({"step": name, "count": count,
                        "rate_from_previous": _rate(count, prev) if prev is not None else None,
                        "rate_from_first": _rate(count, steps[0][1]) if i else None})
        return out


def _range(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or datetime.now(UTC).date()
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise ValidationFailed({"from": "on or before `to`"})
    if (end - start).days >= MAX_DAYS:
        raise ValidationFailed({"from": f"at most {MAX_DAYS} days before `to`"})
    return start, end


def creator_stats(creator_id: int, start: date | None = None, end: date | None = None,
                  currency: str = "CNY") -> CreatorStats:
    """Per-note and total figures for one creator, ``start`` to ``end`` inclusive (UTC days).

    Raises: ValidationFailed(from): an empty or longer than a year range.
    """
    start, end = _range(start, end)
    since = datetime.combine(start, time.min, UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, UTC)
    rows: dict[int, NoteStats] = {
        note_id: NoteStats(note_id, title) for note_id, title in db.session.execute(
            select(Note.id, Note.title).where(Note.author_id == creator_id,
                                              Note.deleted_at.is_(None))
            .order_by(Note.id.desc()))}

    def stats(note_id: int) -> NoteStats:
        return rows.setdefault(note_id, NoteStats(note_id, ""))

    signals = db.session.execute(
        select(Interaction.note_id, Interaction.kind, func.count())
        .join(Note, Note.id == Interaction.note_id)
        .where(Note.author_id == creator_id, Interaction.kind.in_(list(SIGNALS)),
               Interaction.at >= since, Interaction.at < until,
               or_(Interaction.user_id.is_(None), Interaction.user_id != creator_id))
        .group_by(Interaction.note_id, Interaction.kind))
    for note_id, kind, n in signals:
        setattr(stats(note_id), SIGNALS[kind], int(n))
    # The feed's impressions are counted per note and day (app.services.impressions).
    for note_id, n in impressions.daily_counts(creator_id, start, end).items():
        stats(note_id).impressions += n

    from_notes = (Order.note_id == Note.id) & (Note.author_id == creator_id) \
        & (Order.paid_at >= since) & (Order.paid_at < until) & (Order.currency == currency)
    sales = db.session.execute(
        select(Order.note_id, func.count(func.distinct(Order.id)),
               func.sum(OrderLine.quantity - OrderLine.refunded_quantity),
               func.sum(OrderLine.line_total_cents - OrderLine.refunded_cents))
        .join(Note, from_notes).join(OrderLine, OrderLine.order_id == Order.id)
        .where(OrderLine.is_attributed.is_(True)).group_by(Order.note_id))
    for note_id, n_orders, units, gmv in sales:
        row = stats(note_id)
        row.orders, row.units, row.gmv_cents = int(n_orders), int(units or 0), int(gmv or 0)

    earned = db.session.execute(
        select(Order.note_id, func.sum(LedgerEntry.amount_cents))
        .join(Note, from_notes).join(LedgerEntry, LedgerEntry.order_id == Order.id)
        .where(LedgerEntry.account == LedgerAccount.CREATOR,
               LedgerEntry.user_id == creator_id, LedgerEntry.state != EntryState.VOID)
        .group_by(Order.note_id))
    for note_id, cents in earned:
        stats(note_id).commission_cents = int(cents or 0)

    total = NoteStats(None, "total")
    for row in rows.values():
        for name in COUNTERS:
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return CreatorStats(start, end, currency, total, list(rows.values()))


def _cell(value: object) -> object:
    # Spreadsheets run cells starting with these as formulas: keep titles as text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def stats_csv(report: CreatorStats) -> str:
    """The report as CSV: one row per note, then the total."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["note_id", "title", *COUNTERS, *RATES, "currency", "from", "to"])
    for row in [*report.notes, report.total]:
        writer.writerow([_cell(row.note_id if row.note_id is not None else "total"),
                         _cell(row.title), *(getattr(row, name) for name in COUNTERS),
                         *(_cell(getattr(row, name)) for name in RATES), report.currency,
                         report.start.isoformat(), report.end.isoformat()])
    return out.getvalue()
