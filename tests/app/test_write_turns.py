"""Turns at SQLite's write lock (``schema.WriteTurns``): a feed page's impression write and a
batch of the impression counter wait for their turn, handed out by ``flock`` on a file beside
the database, instead of sleeping in SQLite's busy handler; a forked process takes turns with
its parent. On PostgreSQL, and for an in-memory SQLite, a turn is nothing."""

from __future__ import annotations

import multiprocessing
import threading

import pytest
from flask import current_app
from sqlalchemy import func, select

from app import schema
from app.extensions import db
from app.models import FeedImpressionPage
from app.services import feed, impressions
from tests.app.api.test_feed import _world
from tests.factories import bearer


@pytest.fixture
def turns():
    if db.engine.dialect.name != "sqlite":
        assert schema.write_turn(current_app) is schema._NO_TURN
        pytest.skip("turns are taken on SQLite only")
    return schema.WriteTurns(db.engine.url.database)   # another holder: a file of its own


def _pages() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(FeedImpressionPage))


def _in_thread(app, work) -> tuple[threading.Thread, list]:
    out: list = []

    def run():
        with app.app_context():
            try:
                out.append(work())
            finally:
                db.session.remove()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def test_a_feed_page_writes_in_its_turn(client, turns):
    users, _ = _world()
    viewer = users[0]
    feed.plan(viewer.id, commit=True)
    headers = bearer(viewer)
    with turns.turn():
        thread, out = _in_thread(client.application, lambda: client.get(
            "/api/v1/feed?limit=4", headers=headers).status_code)
        thread.join(timeout=0.5)
        assert thread.is_alive() and _pages() == 0     # read, waiting to write
    thread.join(timeout=30)
    assert out == [200] and _pages() == 1


def test_a_counting_batch_counts_in_its_turn(client, turns):
    users, _ = _world()
    for user in users[:3]:
        assert client.get("/api/v1/feed?limit=4", headers=bearer(user)).status_code == 200
    assert impressions.uncounted_pages() == 3
    with turns.turn():
        thread, out = _in_thread(client.application, impressions.count)
        thread.join(timeout=0.5)
        assert thread.is_alive() and impressions.uncounted_pages() == 3
    thread.join(timeout=30)
    assert out == [3] and impressions.uncounted_pages() == 0


def _take_turn(turns_of_parent: schema.WriteTurns, got) -> None:
    with turns_of_parent.turn():     # the parent's object, in the child
        got.set()


def test_a_forked_process_takes_turns_with_its_parent(turns):
    fork = multiprocessing.get_context("fork")
    got = fork.Event()
    child = fork.Process(target=_take_turn, args=(turns, got), daemon=True)
    try:
        with turns.turn():           # this process holds the turn ...
            child.start()
            assert not got.wait(0.5)     # ... and the child, forked while it is held, waits
        assert got.wait(30)          # its turn once given back here (the child's copy of
        child.join(timeout=30)       # the file was closed at the fork)
        assert child.exitcode == 0
    finally:
        if child.is_alive():
            child.kill()


def test_turns_leave_no_file_open(turns):
    """A server that starts a thread per request (``flask run``) takes turns from a new
    thread each time: nothing of them stays open."""
    import os

    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("counts open files in /proc (Linux)")

    def take() -> None:
        with turns.turn():
            pass
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(50):
        thread = threading.Thread(target=take)
        thread.start()
        thread.join()
    assert len(os.listdir("/proc/self/fd")) <= before
    assert not schema._TURN_FILES
