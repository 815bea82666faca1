"""Pooled connections are pinged before they are lent only when they sat idle
(``database_ping_idle_seconds``, app.schema.IdlePing), and a connection the server dropped is
replaced before anyone uses it, or, for a feed page, read again on a fresh one."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import event, text

from app import schema
from app.config import Settings
from app.extensions import db
from app.schema import ping_when_idle
from tests.factories import bearer, make_note, make_user


@pytest.fixture
def pings(app, monkeypatch):
    """The pings the pool makes (the dialect's own ``do_ping``, counted and run)."""
    made: list[int] = []
    dialect = db.engine.dialect
    real = dialect.do_ping

    def counting(dbapi_connection):
        made.append(1)
        return real(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counting)
    return made


def _lend_and_return() -> None:
    db.engine.raw_connection().close()


def test_a_connection_used_a_moment_ago_is_lent_without_a_ping_and_an_idle_one_is_pinged(
        app, pings, monkeypatch):
    ping = app.extensions["zhongcao.idle_ping"]
    monkeypatch.setattr(ping, "idle_seconds", 0.2)
    db.session.remove()
    _lend_and_return()
    pooled = db.engine.pool.checkedin()      # lent in turn, each used a moment ago
    assert pooled >= 1
    for _ in range(pooled):
        _lend_and_return()
    pings.clear()
    for _ in range(3 * pooled):
        _lend_and_return()
    assert pings == []
    time.sleep(0.3)
    for _ in range(pooled):                  # each sat idle: each pinged once
        _lend_and_return()
    assert len(pings) == pooled
    for _ in range(3 * pooled):
        _lend_and_return()
    assert len(pings) == pooled
    # A connection found dead elsewhere: those given back before are pinged when next lent.
    ping.connection_lost()
    for _ in range(3 * pooled):
        _lend_and_return()
    assert len(pings) == 2 * pooled


def test_zero_pings_every_checkout_as_sqlalchemy_does(app):
    options = Settings(database_ping_idle_seconds=0).flask_config()["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is True
    assert ping_when_idle(app, 0) is None
    default = Settings().flask_config()["SQLALCHEMY_ENGINE_OPTIONS"]
    assert default["pool_pre_ping"] is False and Settings().database_ping_idle_seconds > 0


def _drop_every_connection() -> None:
    """What a restart of the database server does to the app's pooled connections."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the server dropping connections: PostgreSQL")
    db.session.remove()
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as admin:
        dropped = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'").fetchone()[0]
    assert dropped >= 1


def test_a_connection_the_server_dropped_while_it_sat_idle_is_replaced_before_use(
        app, pings, monkeypatch):
    monkeypatch.setattr(app.extensions["zhongcao.idle_ping"], "idle_seconds", 0.05)
    assert db.session.execute(text("SELECT 1")).scalar() == 1
    _drop_every_connection()
    time.sleep(0.1)
    pings.clear()
    assert db.session.execute(text("SELECT 2")).scalar() == 2
    assert len(pings) == 1              # it found the dead one, and the pool replaced it


def test_a_feed_page_whose_connection_died_a_moment_ago_reads_again_on_a_fresh_one(
        app, client, monkeypatch):
    """No ping (the connections were used a moment ago), the server went away meanwhile: the
    page's first statement, a read, fails; it is read again on a fresh connection and the page
    is served and logged. Other requests get fresh connections too."""
    from app.services import impressions

    monkeypatch.setattr(app.extensions["zhongcao.idle_ping"], "idle_seconds", 3600)
    for i in range(8):
        make_note(make_user(), title=f"笔记{i}")
    viewer = make_user()
    headers = bearer(viewer)
    assert client.get("/api/v1/feed?limit=4", headers=headers).status_code == 200
    served = impressions.served_count(viewer.id)
    _drop_every_connection()
    page = client.get("/api/v1/feed?limit=4", headers=headers)
    assert page.status_code == 200, page.get_json()
    assert len(page.get_json()["items"]) == 4
    db.session.remove()
    assert impressions.served_count(viewer.id) == served + len(page.get_json()["items"])
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200


def test_the_next_feed_page_runs_on_the_last_pages_connection_unless_it_sat_idle(
        app, client, monkeypatch):
    """On PostgreSQL a page gives its connection back to be lent to the next page as it is,
    past the pool's checkout; one that sat idle longer than ``idle_seconds`` goes back to the
    pool with the time it was idle, and the pool pings it before it lends it."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the feed pages' own pool: PostgreSQL")
    ping = app.extensions["zhongcao.idle_ping"]
    monkeypatch.setattr(ping, "idle_seconds", 10)   # (a page planned on the request is slow)
    pages = schema.page_engine(app)
    pinged: list[object] = []        # the connections pinged (the pools share IdlePing)
    real = db.engine.dialect.do_ping
    monkeypatch.setattr(db.engine.dialect, "do_ping",
                        lambda dbapi_connection: pinged.append(dbapi_connection)
                        or real(dbapi_connection))
    checkouts: list[int] = []

    def checkout(*_args) -> None:
        checkouts.append(1)

    for i in range(12):
        make_note(make_user(), title=f"笔记{i}")
    headers = bearer(make_user())
    assert client.get("/api/v1/feed?limit=4", headers=headers).status_code == 200
    (kept,) = schema.kept_page_connections(app)
    own = kept.driver_connection
    event.listen(pages, "checkout", checkout)
    try:
        for _ in range(3):
            assert client.get("/api/v1/feed?limit=4", headers=headers).status_code == 200
            assert [p.driver_connection for p in schema.kept_page_connections(app)] == [own]
        assert checkouts == [] and own not in pinged
        monkeypatch.setattr(ping, "idle_seconds", 0.2)
        time.sleep(0.3)
        assert client.get("/api/v1/feed?limit=4", headers=headers).status_code == 200
        assert checkouts == [1] and pinged.count(own) == 1
    finally:
        event.remove(pages, "checkout", checkout)
