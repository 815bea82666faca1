"""The feed page's statements as prepared statements of its own connection, called through
libpq (``app.schema.run_prepared``): the rows are the ones a psycopg cursor gives, a statement
the server forgot is prepared again, PostgreSQL's errors arrive as psycopg's own and leave the
connection usable, and a connection inside a transaction is left to the cursor."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from app import schema
from app.extensions import db
from app.models import FeedPlan
from app.models.base import utcnow
from app.services import feed
from tests.app.api.test_feed import _world


def test_numbered_turns_psycopgs_parameters_into_postgresqls():
    assert schema.numbered("SELECT %(a)s, %(b)s::INTEGER, %(a)s LIKE 'x%%'") == (
        "SELECT $1, $2::INTEGER, $1 LIKE 'x%'", ("a", "b"))


@pytest.fixture
def page_connection(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("prepared page statements: PostgreSQL")
    with app.test_request_context():
        on = feed._page_connection()
        try:
            yield on
        finally:
            feed._release(on)


def _prepared_names(on) -> set[str]:
    rows = on.dbapi.driver_connection.execute(
        "SELECT name FROM pg_prepared_statements WHERE name LIKE 'zc\\_%'").fetchall()
    return {name for (name,) in rows}


def test_the_page_statements_give_the_rows_a_cursor_gives(page_connection, monkeypatch):
    on = page_connection
    users, _ = _world()
    viewer = users[0]
    feed.plan(viewer.id, commit=True)
    plan = db.session.get(FeedPlan, viewer.id)
    built, ids = plan.built_at, plan.items.ids
    epoch = feed._run("epoch", {}, on)[0][0]
    read = {"viewer": viewer.id, "token_id": "no-such-token", "since": utcnow(), "held": None}
    # A guess that misses (no such page count): the plan read's row, nothing written.
    missed = read | {"held": built, "epoch": epoch, "expected": 99, "request_id": "r",
                     "first": 0, "at": utcnow(), "note_ids": "1,2"}
    asked = [("plan", read), ("plan", read | {"held": built}), ("plan_page", missed),
             ("cards_any", {"ids": ids[:6]}), ("cards_any", {"ids": []})]
    prepared = [feed._run(name, values, on) for name, values in asked]
    assert {f"zc_{name}" for name, _ in asked} <= _prepared_names(on)
    monkeypatch.setattr(schema, "run_prepared", lambda *args: None)   # the cursor's way
    assert prepared == [feed._run(name, values, on) for name, values in asked]
    plan_row = prepared[0][0]
    assert plan_row[0] == built and plan_row[2].ids == ids      # a datetime, PlanItems
    assert isinstance(plan_row[3], dict)                          # the report's JSON, read
    assert prepared[1][0][2] is None                              # held: the items stay
    assert sorted(row[0] for row in prepared[3]) == sorted(ids[:6])
    assert prepared[4] == []


def test_a_guess_that_holds_writes_its_page_once(page_connection):
    on = page_connection
    users, _ = _world()
    viewer = users[0]
    feed.plan(viewer.id, commit=True)
    built = db.session.get(FeedPlan, viewer.id).built_at
    epoch = feed._run("epoch", {}, on)[0][0]
    values = {"viewer": viewer.id, "token_id": "t", "since": utcnow(), "held": built,
              "epoch": epoch, "expected": 0, "request_id": "r", "first": 0,
              "at": utcnow(), "note_ids": "1,2,3"}
    assert feed._run("plan_page", values, on)[0][-1] == 1
    assert feed._run("plan_page", values, on)[0][-1] == 0       # one page since: no longer 0
    assert feed._run("plan_page", values | {"expected": 1}, on)[0][-1] == 1


def test_a_statement_the_server_forgot_is_prepared_again(page_connection):
    on = page_connection
    first = feed._run("epoch", {}, on)
    assert "zc_epoch" in _prepared_names(on)
    on.dbapi.driver_connection.execute("DEALLOCATE ALL")      # as DISCARD ALL would
    assert _prepared_names(on) == set()
    assert feed._run("epoch", {}, on) == first
    assert "zc_epoch" in _prepared_names(on)


def test_an_error_is_psycopgs_own_and_the_connection_goes_on(page_connection):
    proxy = page_connection.dbapi
    with pytest.raises(psycopg.errors.DivisionByZero):
        schema.run_prepared(proxy, "test_divide", "SELECT 1 / $1::INTEGER", [0])
    with pytest.raises(psycopg.errors.UndefinedTable):
        schema.run_prepared(proxy, "test_missing", "SELECT * FROM no_such_table", [])
    assert schema.run_prepared(proxy, "test_divide", "SELECT 1 / $1::INTEGER", [1]) == [[1]]
    later = utcnow() + timedelta(days=1)
    assert schema.run_prepared(proxy, "test_values",
                               "SELECT $1::TEXT, $2::TIMESTAMPTZ, $3::INTEGER[], $4::BOOLEAN",
                               ["种草 %s", later, [1, 2], None]) == [["种草 %s", later, [1, 2],
                                                                      None]]


def test_a_connection_in_a_transaction_is_left_to_the_cursor(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("prepared page statements: PostgreSQL")
    with app.app_context():
        proxy = db.engine.raw_connection()      # the app's pool: not in autocommit
        try:
            assert schema.run_prepared(proxy, "test_one", "SELECT 1", []) is None
            names = proxy.driver_connection.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE name = 'zc_test_one'"
            ).fetchone()[0]
            assert names == 0
        finally:
            proxy.rollback()
            proxy.close()
