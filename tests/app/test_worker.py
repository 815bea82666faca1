"""A real Celery worker on a real broker (Redis) runs our tasks against the test database."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import SearchOutbox
from app.services import outbox, search
from tests.conftest import redis_up
from tests.factories import make_note
from tests.workers import celery_worker

BROKER = "redis://127.0.0.1:6379/14"

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not redis_up(BROKER), reason="no Redis at 127.0.0.1:6379")]


@pytest.fixture
def worker(settings):
    with celery_worker(settings, BROKER) as client:
        yield client


def test_a_worker_drains_the_search_outbox(worker, monkeypatch):
    monkeypatch.setattr(outbox, "_kick", lambda: None)  # leave the row for the worker
    note = make_note(title="工人索引的笔记", body="#工人")
    assert db.session.scalar(select(func.count(SearchOutbox.id))) >= 1
    started = time.monotonic()
    result = worker.send_task("app.tasks.drain_search_outbox")
    assert result.get(timeout=90) >= 1
    db.session.expire_all()
    assert db.session.scalar(select(func.count(SearchOutbox.id))) == 0
    hits = search.search(search.SearchQuery(q="工人")).hits
    assert [h.id for h in hits] == [f"note:{note.id}"]
    assert time.monotonic() - started < 90
