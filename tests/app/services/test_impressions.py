"""Served feed pages' impressions: one row per page, moved into the interactions log in
batches, exactly once, by any number of movers."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import delete, func, select

from app.config import get_settings
from app.extensions import db
from app.feed.readers import SqlReader
from app.models import FeedImpression, Interaction, InteractionKind, Note
from app.models.base import utcnow
from app.services import impressions
from tests.factories import make_note, make_user


def _impressions(**where) -> list[tuple]:
    return db.session.execute(
        select(Interaction.user_id, Interaction.note_id, Interaction.feed_request_id,
               Interaction.position, Interaction.weight, Interaction.at)
        .where(Interaction.kind == InteractionKind.IMPRESSION, *(
            getattr(Interaction, k) == v for k, v in where.items()))
        .order_by(Interaction.feed_request_id, Interaction.position)).all()


def _pages(n_pages: int, per_page: int = 4):
    viewer = make_user()
    notes = [make_note() for _ in range(n_pages * per_page)]
    at = utcnow().replace(microsecond=123456)
    for p in range(n_pages):
        ids = [n.id for n in notes[p * per_page:(p + 1) * per_page]]
        impressions.log_page(viewer.id, f"req-{p // 2}", ids, (p % 2) * per_page, at)
    db.session.commit()
    return viewer, notes, at


def test_pages_become_one_impression_per_note_with_request_and_position():
    viewer, notes, at = _pages(4)
    assert impressions.pending_pages() == 4 and _impressions(user_id=viewer.id) == []
    assert impressions.move(batch=3) == (4, 16)   # two batches: 3 pages, then 1
    rows = _impressions(user_id=viewer.id)
    assert [(r.note_id, r.feed_request_id, r.position) for r in rows] == [
        (n.id, f"req-{i // 8}", i % 8) for i, n in enumerate(notes)]
    assert all(r.weight == 0.0 and r.at == at for r in rows)   # served time, kept exactly
    assert impressions.pending_pages() == 0
    assert impressions.move() == (0, 0)           # moving again adds nothing
    assert len(_impressions(user_id=viewer.id)) == 16


def test_a_note_deleted_before_the_move_is_skipped():
    viewer, notes, _ = _pages(1)
    db.session.execute(delete(Note).where(Note.id == notes[1].id))
    db.session.commit()
    assert impressions.move() == (1, 3)
    assert [r.position for r in _impressions(user_id=viewer.id)] == [0, 2, 3]


def test_movers_at_once_move_each_page_exactly_once(app):
    viewer, _, _ = _pages(60, per_page=5)
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def mover() -> None:
        with app.app_context():
            try:
                total = (0, 0)
                for _ in range(20):
                    p, r = impressions.move(batch=4, limit_batches=1)
                    total = (total[0] + p, total[1] + r)
                results.append(total)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=mover) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    impressions.move()   # whatever a mover left for lack of turns
    assert sum(p for p, _ in results) <= 60
    count = db.session.scalar(select(func.count(Interaction.id)).where(
        Interaction.user_id == viewer.id, Interaction.kind == InteractionKind.IMPRESSION))
    distinct = db.session.scalar(select(func.count()).select_from(
        select(Interaction.feed_request_id, Interaction.position).where(
            Interaction.user_id == viewer.id).distinct().subquery()))
    assert count == distinct == 300 and impressions.pending_pages() == 0


def test_the_seen_filter_reads_pages_not_moved_yet():
    viewer, notes, _ = _pages(2)
    reader = SqlReader(get_settings(), {})
    seen = reader.viewer(viewer.id, time.time()).seen
    assert {n.id for n in notes} <= seen
    impressions.move()
    assert {n.id for n in notes} <= reader.viewer(viewer.id, time.time()).seen


def test_pages_older_than_the_seen_window_are_not_seen():
    viewer = make_user()
    note = make_note()
    old = utcnow() - timedelta(hours=get_settings().feed_seen_window_hours + 1)
    impressions.log_page(viewer.id, "old", [note.id], 0, old)
    db.session.commit()
    assert note.id not in SqlReader(get_settings(), {}).viewer(viewer.id, time.time()).seen


def test_a_closed_account_takes_its_pending_pages_with_it():
    viewer, _, _ = _pages(2)
    db.session.delete(viewer)
    db.session.commit()
    assert db.session.scalar(select(func.count(FeedImpression.id))) == 0
    assert impressions.move() == (0, 0)


def test_the_mover_thread_moves_pages(app):
    viewer, _, _ = _pages(2)
    mover = impressions.Mover(app, interval=0.05).start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(_impressions(user_id=viewer.id)) < 8:
            db.session.rollback()   # a fresh snapshot
            time.sleep(0.05)
        assert len(_impressions(user_id=viewer.id)) == 8
        impressions.log_page(viewer.id, "late", [make_note().id], 0, utcnow())
        db.session.commit()
    finally:
        mover.stop(flush=True)
    db.session.rollback()
    assert len(_impressions(user_id=viewer.id)) == 9 and impressions.pending_pages() == 0
