"""Test infrastructure: one app per session on a migrated database, a clean database per test.

The suite runs on SQLite by default and on PostgreSQL when ``TEST_DATABASE_URL`` is set.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.config import Settings
from app.extensions import db, limiter
from app.schema import dispose_page_engine
from app.services import feed

TEST_SECRET = "test-secret-" + "x" * 40


class Client(FlaskClient):
    """A test client whose every request ends its transaction, as a real request would.

    The test's app context is shared with the request, so the session is too: rolling back
    (rather than removing it) ends the request's transaction yet keeps the test's objects
    attached, expired, so they reload what the request committed.
    """

    def open(self, *args, **kwargs):  # type: ignore[override]
        try:
            return super().open(*args, **kwargs)
        finally:
            db.session.rollback()


def _reset_schema(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        # Migrations may leave a pooled SQLite connection with foreign keys off (batch table
        # rebuilds): start the suite on fresh connections, set up as the app sets them up.
        db.engine.dispose()


def _wipe() -> None:
    # feed_epoch and feed_impression_mark are counters the migrations create with their one
    # row, not data: they stay, the mark back at 0 (page ids start again from 1).
    kept = {"feed_epoch", "feed_impression_mark"}
    tables = [t.name for t in db.metadata.sorted_tables if t.name not in kept]
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            # PRAGMA foreign_keys is a no-op inside a transaction: switch it back on after the
            # deletes are committed, or the pooled connection keeps foreign keys off.
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
            conn.commit()
            conn.execute(text("PRAGMA foreign_keys=ON"))
        conn.execute(text("UPDATE feed_impression_mark SET counted_through = 0"))
        conn.commit()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    instance = tmp_path_factory.mktemp("instance")
    url = os.environ.get("TEST_DATABASE_URL") or None
    # Small ALS factors: the planted structure of test data needs few, and fits stay fast.
    return Settings(env="test", secret_key=TEST_SECRET, database_url=url, instance_path=instance,
                    datasets_dir=instance / "no-datasets",
                    recommender_params={"factors": 16, "iterations": 8},
                    feed_cache_seconds=0)  # each test plants its own world


@pytest.fixture(scope="session")
def app(settings: Settings) -> Iterator[Flask]:
    from argon2 import PasswordHasher

    from app.services import accounts

    # Cheap argon2 parameters for the suite's hundreds of accounts; production keeps the
    # library's defaults (tests/app/api/test_auth.py checks those are argon2id).
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    app = create_app(settings)
    app.test_client_class = Client
    _reset_schema(app)
    yield app
    with app.app_context():
        dispose_page_engine(app)
        db.engine.dispose()


@pytest.fixture(autouse=True)
def ctx(app: Flask, settings: Settings) -> Iterator[None]:
    """Every test runs in an app context on an empty database with empty uploads."""
    with app.app_context():
        limiter.reset()
        yield
        db.session.remove()
        _wipe()
        index = app.extensions.get("zhongcao.search")
        if index is not None:
            index.reset()
        feed.clear_cache()
    shutil.rmtree(settings.uploads_dir, ignore_errors=True)
    shutil.rmtree(settings.instance_path / "models", ignore_errors=True)
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def redis_up(url: str = "redis://127.0.0.1:6379/0") -> bool:
    """Whether a Redis answers at ``url`` (tests that need one skip otherwise)."""
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Where CI promises a browser (ZC_REQUIRE_BROWSER=1), a skipped browser test fails."""
    outcome = yield
    report = outcome.get_result()
    if (report.skipped and os.environ.get("ZC_REQUIRE_BROWSER") == "1"
            and item.get_closest_marker("browser")):
        report.outcome = "failed"
        report.longrepr = f"browser test skipped where a browser is required: {report.longrepr}"
