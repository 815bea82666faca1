"""Served feed pages' impressions: one row per page, read as they are by "what was shown to
whom", and rolled up into per-note daily counts, exactly once, by any number of counters."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from app.config import get_settings
from app.extensions import db
from app.feed.readers import SqlReader
from app.models import (
    FeedEpoch,
    FeedImpressionMark,
    FeedImpressionPage,
    FeedPlan,
    Note,
    NoteImpressionDay,
)
from app.models.base import utcnow
from app.models.feed import PlanItems
from app.services import analytics, impressions, interactions
from tests.factories import make_note, make_user


def _counts() -> dict[tuple[int, object], int]:
    return {(r.note_id, r.day): r.impressions
            for r in db.session.scalars(select(NoteImpressionDay))}


def _pages(n_pages: int, per_page: int = 4, at: datetime | None = None, viewer=None):
    viewer = viewer or make_user()
    notes = [make_note() for _ in range(n_pages * per_page)]
    at = at or utcnow().replace(microsecond=123456)
    for p in range(n_pages):
        ids = [n.id for n in notes[p * per_page:(p + 1) * per_page]]
        impressions.log_page(viewer.id, f"req-{p // 2}", ids, (p % 2) * per_page, at)
    db.session.commit()
    return viewer, notes, at


def test_a_page_is_one_row_with_its_request_positions_and_time():
    viewer, notes, at = _pages(2)
    rows = db.session.scalars(select(FeedImpressionPage).order_by(FeedImpressionPage.id)).all()
    assert [(r.user_id, r.request_id, r.first_position, r.at) for r in rows] == [
        (viewer.id, "req-0", 0, at), (viewer.id, "req-0", 4, at)]
    assert impressions.uncounted_pages() == 2
    assert impressions.slots("req-0") == [(n.id, i) for i, n in enumerate(notes)]
    assert impressions.served_count(viewer.id) == 8


def test_pages_are_counted_per_note_and_day_exactly_once():
    day = datetime(2026, 3, 1, 23, 59, 30, tzinfo=UTC)
    viewer, notes, _ = _pages(3, at=day)
    _pages(1, at=day + timedelta(minutes=1), viewer=viewer)   # the next UTC day
    # The same note on two pages of the day counts twice.
    impressions.log_page(viewer.id, "again", [notes[0].id], 0, day)
    db.session.commit()
    assert impressions.uncounted_pages() == 5 and _counts() == {}
    assert impressions.count(batch=2) == 5                    # three batches: 2, 2, 1
    counts = _counts()
    assert counts[notes[0].id, day.date()] == 2
    assert counts[notes[11].id, day.date()] == 1
    assert sum(v for (_, d), v in counts.items() if d == day.date()) == 13
    assert sum(v for (_, d), v in counts.items() if d > day.date()) == 4
    assert impressions.uncounted_pages() == 0
    assert impressions.count() == 0 and _counts() == counts  # counting again adds nothing
    # A later page adds to the same day's row.
    impressions.log_page(viewer.id, "later", [notes[0].id], 0, day)
    db.session.commit()
    assert impressions.count() == 1 and _counts()[notes[0].id, day.date()] == 3


def test_a_note_deleted_before_counting_is_skipped():
    _, notes, at = _pages(1)
    db.session.execute(delete(Note).where(Note.id == notes[1].id))
    db.session.commit()
    assert impressions.count() == 1
    assert sorted(_counts()) == sorted((n.id, at.date()) for n in notes if n is not notes[1])


def test_counters_at_once_count_each_page_exactly_once(app):
    _, notes, _ = _pages(60, per_page=5)
    counted: list[int] = []
    errors: list[BaseException] = []

    def counter() -> None:
        with app.app_context():
            try:
                counted.append(sum(impressions.count(batch=4, limit_batches=1)
                                   for _ in range(20)))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=counter) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    left = impressions.count()   # whatever a counter left for lack of turns
    assert sum(counted) + left == 60
    assert set(_counts().values()) == {1} and len(_counts()) == 300
    assert impressions.uncounted_pages() == 0


def _write_by_plan_read(viewer_id: int, note_id: int) -> None:
    """The page written as a scroll's guessed next page is (``feed._plan_page``), here in the
    session's transaction so that it stays uncommitted."""
    from app.services import feed

    built = db.session.scalar(select(FeedPlan.built_at).where(FeedPlan.user_id == viewer_id))
    rows = feed._run("plan_page", {
        "viewer": viewer_id, "token_id": "", "since": built, "held": built,
        "epoch": db.session.scalar(select(FeedEpoch.value)), "expected": 0,
        "request_id": "slow", "first": 0, "note_ids": str(note_id), "at": utcnow()},
        feed._session_db())
    assert rows[0][9] == 1          # written


@pytest.mark.parametrize("written_by", ["log_page", "plan_read"])
def test_a_page_that_commits_after_a_later_one_is_counted_once(app, written_by):
    """Page ids are handed out before pages commit: a page still being written when a later
    one is committed must not be passed over by the counter (which counts in id order up to a
    mark), nor counted twice. Whichever writes it: ``log_page``, or the feed's plan read for
    a scroll's guessed next page (PostgreSQL only)."""
    viewer = make_user()
    early, late = make_note(), make_note()
    if written_by == "plan_read":
        if db.engine.dialect.name != "postgresql":
            pytest.skip("pages are written by the plan read on PostgreSQL only")
        db.session.add(FeedPlan(user_id=viewer.id, built_at=utcnow(), model_id=None,
                                items=PlanItems([]), report={}))
    db.session.commit()
    writing = threading.Event()
    finish = threading.Event()
    errors: list[BaseException] = []

    def slow_page() -> None:
        with app.app_context():
            try:
                if written_by == "plan_read":
                    _write_by_plan_read(viewer.id, early.id)
                else:
                    impressions.log_page(viewer.id, "slow", [early.id], 0, utcnow())
                writing.set()              # written, with its id, not committed yet
                finish.wait(10)
                db.session.commit()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                writing.set()
            finally:
                db.session.remove()

    def counter(out: list[int]) -> None:
        with app.app_context():
            try:
                out.append(impressions.count())
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    writer = threading.Thread(target=slow_page)
    writer.start()
    assert writing.wait(10)
    counted: list[int] = []
    if db.engine.dialect.name == "postgresql":
        # A later page commits first (a higher id); the counter then waits for the slow one.
        impressions.log_page(viewer.id, "fast", [late.id], 0, utcnow())
        db.session.commit()
        counting = threading.Thread(target=counter, args=(counted,))
        counting.start()
        counting.join(0.5)
        assert counting.is_alive()         # waiting for the page in flight, not passing it
        finish.set()
        writer.join(10)
        counting.join(10)
    else:
        # SQLite: the slow page holds the write lock; the counter waits for it.
        counting = threading.Thread(target=counter, args=(counted,))
        counting.start()
        counting.join(0.5)
        assert counting.is_alive()
        finish.set()
        writer.join(10)
        counting.join(10)
        impressions.log_page(viewer.id, "fast", [late.id], 0, utcnow())
        db.session.commit()
    assert not errors
    counted.append(impressions.count())
    assert sum(counted) == 2 and impressions.uncounted_pages() == 0
    assert {note_id: n for (note_id, _), n in _counts().items()} == {early.id: 1, late.id: 1}


def test_counting_goes_on_past_pages_gone_with_their_account():
    gone, _, _ = _pages(3)
    _pages(2)
    db.session.delete(gone)
    db.session.commit()
    assert impressions.uncounted_pages() == 2
    assert impressions.count(batch=2) == 2      # the first batch's ids are gone: none there
    assert sum(_counts().values()) == 8 and impressions.uncounted_pages() == 0


def test_a_page_written_after_the_latest_pages_went_with_their_account_is_counted():
    """Ids are never used again (SQLite's rowids would start again from the highest left,
    below the mark, and the page would never be counted)."""
    viewer, notes, _ = _pages(2)
    gone, _, _ = _pages(2)
    assert impressions.count() == 4
    db.session.delete(gone)
    db.session.commit()
    impressions.log_page(viewer.id, "after", [notes[0].id], 0, utcnow())
    db.session.commit()
    assert impressions.uncounted_pages() == 1
    assert impressions.count() == 1 and impressions.uncounted_pages() == 0


def test_a_database_without_the_mark_says_so():
    db.session.execute(delete(FeedImpressionMark))
    db.session.commit()
    try:
        _pages(1)
        with pytest.raises(impressions.MarkMissing, match="db upgrade"):
            impressions.count()
    finally:
        db.session.rollback()
        db.session.add(FeedImpressionMark(id=1, counted_through=0))
        db.session.commit()


def test_the_seen_filter_reads_the_pages_and_the_apps_impressions():
    viewer, notes, _ = _pages(2)
    other = make_note()
    interactions.ingest_events(viewer.id, [{"client_event_id": "e1", "kind": "impression",
                                            "note_id": other.id}])
    db.session.commit()
    reader = SqlReader(get_settings(), {})
    assert {n.id for n in notes} | {other.id} <= reader.viewer(viewer.id, time.time()).seen


def test_pages_older_than_the_seen_window_are_not_seen():
    viewer = make_user()
    note = make_note()
    old = utcnow() - timedelta(hours=get_settings().feed_seen_window_hours + 1)
    impressions.log_page(viewer.id, "old", [note.id], 0, old)
    db.session.commit()
    assert note.id not in SqlReader(get_settings(), {}).viewer(viewer.id, time.time()).seen


def test_notes_shown_often_leave_the_fresh_source_and_count_in_facts():
    cap = get_settings().feed_fresh_max_impressions
    shown, new = make_note(), make_note()
    viewer = make_user()
    for i in range(cap):
        impressions.log_page(viewer.id, f"r{i}", [shown.id], 0, utcnow())
    db.session.commit()
    assert impressions.count() == cap
    reader = SqlReader(get_settings(), {})
    fresh = {note_id for note_id, _ in reader.fresh(10, time.time())}
    assert new.id in fresh and shown.id not in fresh
    someone = reader.viewer(make_user().id, time.time())
    facts = reader.facts([shown.id, new.id], someone)
    assert facts[shown.id].impressions == cap and facts[new.id].impressions == 0


def test_creator_analytics_count_the_feeds_impressions_by_day():
    creator = make_user()
    note = make_note(author=creator)
    viewer = make_user()
    today = utcnow()
    yesterday = today - timedelta(days=1)
    for at in (today, today, yesterday):
        impressions.log_page(viewer.id, "r", [note.id], 0, at)
    db.session.commit()
    # Not counted yet: analytics shows what was counted.
    assert analytics.creator_stats(creator.id, today.date(), today.date()).total.impressions == 0
    impressions.count()
    stats = analytics.creator_stats(creator.id, today.date(), today.date())
    assert stats.total.impressions == 2
    assert analytics.creator_stats(creator.id, yesterday.date(), today.date()
                                   ).total.impressions == 3


def test_a_closed_account_takes_its_pages_with_it():
    viewer, _, _ = _pages(2)
    db.session.delete(viewer)
    db.session.commit()
    assert db.session.scalar(select(func.count(FeedImpressionPage.id))) == 0
    assert impressions.count() == 0


def test_the_counter_thread_counts_pages(app):
    _pages(2)
    counter = impressions.ImpressionCounter(app, interval=0.05).start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and impressions.uncounted_pages():
            db.session.rollback()   # a fresh snapshot
            time.sleep(0.05)
    finally:
        counter.stop()
    db.session.rollback()
    assert impressions.uncounted_pages() == 0 and sum(_counts().values()) == 8
