"""Database schema state: SQLite settings and the "are migrations applied?" check."""

from __future__ import annotations

import sys
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import Engine, event

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def enable_sqlite_pragmas(engine: Engine) -> None:
    """Foreign keys on (SQLite ignores them otherwise), WAL so readers don't block the writer,
    and ``synchronous=NORMAL``, the setting SQLite recommends with WAL: a commit is not synced
    to disk on its own (checkpoints are), so a crash of the app or of the machine's processes
    loses nothing; a power cut may lose the last commits, never the database's integrity."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every test
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def schema_revisions(app: Flask) -> tuple[set[str], set[str]]:
    """(revisions applied to the database, head revisions of the code)."""
    from app.extensions import db

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with app.app_context(), db.engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current, heads


def require_migrated(app: Flask) -> None:
    """Exit with a clear message if the database is not at the code's migration head."""
    current, heads = schema_revisions(app)
    if current != heads:
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        state = "has no tables yet" if not current else f"is at {', '.join(sorted(current))}"
        sys.stderr.write(
            f"\nThe database ({url.split('@')[-1]}) {state}, but this code needs migration "
            f"{', '.join(sorted(heads))}.\nRun `flask --app app db upgrade` (or `make run`, which "
            "migrates first), then start the server again.\n\n")
        raise SystemExit(3)
