"""Migrations: each revision applies to a database holding data, and downgrades cleanly.

Run through the real CLI on a SQLite file of its own (the suite's own database is migrated
from empty on both engines at the start of every run).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRST = "abeb9e185b3f"  # the first revision: the test upgrades from there with data in place


def _flask(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ZC_INSTANCE_PATH": str(tmp_path), "DATABASE_URL": ""}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.mark.slow
def test_upgrading_a_database_with_users_gives_each_a_referral_code(tmp_path):
    _flask(tmp_path, "db", "upgrade", FIRST)
    db = sqlite3.connect(tmp_path / "zhongcao.db")
    for i in range(3):
        db.execute("INSERT INTO user (email, username, display_name, bio, password_hash, role, "
                   "is_active, created_at) VALUES (?, ?, ?, '', 'x', 'user', 1, '2026-01-01')",
                   (f"u{i}@example.com", f"u{i}", f"u{i}"))
    db.execute("INSERT INTO image (owner_id, sha256, content_type, width, height, byte_size, "
               "created_at) VALUES (1, 'x', 'image/png', 1, 1, 1, '2026-01-01')")
    db.execute("UPDATE user SET avatar_image_id = 1 WHERE id = 1")
    db.commit()
    db.close()

    _flask(tmp_path, "db", "upgrade")
    db = sqlite3.connect(tmp_path / "zhongcao.db")
    codes = [r[0] for r in db.execute("SELECT referral_code FROM user")]
    assert len(codes) == 3 and all(codes) and len(set(codes)) == 3
    assert db.execute("SELECT avatar_image_id FROM user WHERE id = 1").fetchone() == (1,)
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    db.close()

    _flask(tmp_path, "db", "downgrade", "base")
    _flask(tmp_path, "db", "upgrade")
    assert "schema is current" in _flask(tmp_path, "check-schema").stdout


@pytest.mark.slow
def test_feed_plans_are_converted_to_lines_and_back(tmp_path):
    """Plans written as one JSON array keep serving after the upgrade (packed by line: the
    ids, then one item per line) and come back as they were after a downgrade."""
    from app.models.feed import PlanItems

    items = [[7, 1, 0.5, "fresh", ["fresh"], "fresh", {}, False],
             [3, 2, 0.25, "topics", ["topics", "trending"], "topic", {"topic": "护肤\n"}, True]]
    _flask(tmp_path, "db", "upgrade", "8d41b7e2c9a5")
    db = sqlite3.connect(tmp_path / "zhongcao.db")
    db.execute("INSERT INTO user (email, username, display_name, bio, password_hash, role, "
               "is_active, created_at, referral_code) VALUES ('a@example.com', 'a', 'a', '', "
               "'x', 'user', 1, '2026-01-01', 'CODE1')")
    db.execute("INSERT INTO feed_plan (user_id, built_at, model_id, items, report) "
               "VALUES (1, '2026-01-01', NULL, ?, '{}')", (json.dumps(items),))
    db.commit()
    db.close()

    _flask(tmp_path, "db", "upgrade")
    db = sqlite3.connect(tmp_path / "zhongcao.db")
    (stored,) = db.execute("SELECT items FROM feed_plan").fetchone()
    db.close()
    lines = stored.split("\n")
    assert json.loads(lines[0])["ids"] == [7, 3] and [json.loads(x) for x in lines[1:]] == items
    assert list(PlanItems.unpack(stored)) == items

    _flask(tmp_path, "db", "downgrade", "8d41b7e2c9a5")
    db = sqlite3.connect(tmp_path / "zhongcao.db")
    (stored,) = db.execute("SELECT items FROM feed_plan").fetchone()
    db.close()
    assert json.loads(stored) == items


@pytest.mark.slow
def test_impression_pages_not_counted_yet_are_counted_once_across_the_mark(tmp_path):
    """The upgrade that replaces each page's ``counted`` flag by a mark counts the pages not
    counted yet (and only those) and sets the mark past the last page; a downgrade gives the
    flags back as the mark says."""
    _flask(tmp_path, "db", "upgrade", "c7d2a9e4f1b3")
    db = sqlite3.connect(tmp_path / "zhongcao.db")
    db.execute("INSERT INTO user (email, username, display_name, bio, password_hash, role, "
               "is_active, created_at, referral_code) VALUES ('a@example.com', 'a', 'a', '', "
               "'x', 'user', 1, '2026-01-01', 'CODE1')")
    for note_id in (1, 2):
        db.execute("INSERT INTO note (id, author_id, title, body, visibility, like_count, "
                   "save_count, comment_count, view_count, created_at, updated_at) "
                   "VALUES (?, 1, 't', 'b', 'public', 0, 0, 0, 0, '2026-01-01', '2026-01-01')",
                   (note_id,))
    # Page 1 was counted before the upgrade (its count is in the daily row); 2 and 3 were not.
    for page_id, note_ids, counted in ((1, "1,2", 1), (2, "1", 0), (3, "2,1", 0)):
        db.execute("INSERT INTO feed_impression_page (id, user_id, request_id, first_position, "
                   "note_ids, at, counted) VALUES (?, 1, 'r', 0, ?, "
                   "'2026-03-01 10:00:00.000000', ?)", (page_id, note_ids, counted))
    db.executemany("INSERT INTO note_impression_day (note_id, day, impressions) "
                   "VALUES (?, '2026-03-01', 1)", [(1,), (2,)])
    db.commit()
    db.close()

    _flask(tmp_path, "db", "upgrade")
    db = sqlite3.connect(tmp_path / "zhongcao.db")
    assert dict(db.execute("SELECT note_id, impressions FROM note_impression_day")) == {1: 3, 2: 2}
    assert db.execute("SELECT id, counted_through FROM feed_impression_mark").fetchall() == [(1, 3)]
    columns = {row[1] for row in db.execute("PRAGMA table_info(feed_impression_page)")}
    assert "counted" not in columns and db.execute(
        "SELECT count(*) FROM feed_impression_page").fetchone() == (3,)
    (table,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'feed_impression_page'"
                          ).fetchone()
    assert "AUTOINCREMENT" in table    # ids never used again (counted in id order)
    assert db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'feed_impression_page'"
                      ).fetchone() == (3,)
    db.execute("UPDATE feed_impression_mark SET counted_through = 2")   # page 3 not yet, say
    db.commit()
    db.close()

    _flask(tmp_path, "db", "downgrade", "c7d2a9e4f1b3")
    db = sqlite3.connect(tmp_path / "zhongcao.db")
    assert db.execute("SELECT id, counted FROM feed_impression_page ORDER BY id").fetchall() == [
        (1, 1), (2, 1), (3, 0)]
    db.close()
    _flask(tmp_path, "db", "upgrade")
    assert "schema is current" in _flask(tmp_path, "check-schema").stdout


@pytest.mark.slow
def test_impression_pages_lose_the_foreign_key_and_still_go_with_their_account(tmp_path):
    """The upgrade that drops the pages' foreign key to ``user`` keeps every page and the ids
    never used again, and a trigger deletes an account's pages with it, as the cascade did;
    a downgrade gives the key back (after pages whose account is gone)."""
    _flask(tmp_path, "db", "upgrade", "5b8e0c3d2a71")
    db = sqlite3.connect(tmp_path / "zhongcao.db")
    for user_id in (1, 2):
        db.execute("INSERT INTO user (id, email, username, display_name, bio, password_hash, "
                   "role, is_active, created_at, referral_code) VALUES (?, ?, ?, 'a', '', 'x', "
                   "'user', 1, '2026-01-01', ?)",
                   (user_id, f"u{user_id}@example.com", f"u{user_id}", f"CODE{user_id}"))
    for page_id, user_id in ((1, 1), (2, 2), (3, 1)):
        db.execute("INSERT INTO feed_impression_page (id, user_id, request_id, first_position, "
                   "note_ids, at) VALUES (?, ?, 'r', 0, '1,2', '2026-03-01 10:00:00.000000')",
                   (page_id, user_id))
    db.commit()
    db.close()

    _flask(tmp_path, "db", "upgrade")
    db = sqlite3.connect(tmp_path / "zhongcao.db")
    assert db.execute("PRAGMA foreign_key_list(feed_impression_page)").fetchall() == []
    assert db.execute("SELECT id, user_id FROM feed_impression_page ORDER BY id").fetchall() == [
        (1, 1), (2, 2), (3, 1)]
    (table,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'feed_impression_page'"
                          ).fetchone()
    assert "AUTOINCREMENT" in table
    assert db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'feed_impression_page'"
                      ).fetchone() == (3,)
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("DELETE FROM user WHERE id = 1")
    assert db.execute("SELECT id FROM feed_impression_page").fetchall() == [(2,)]
    # A page whose account went some other way (the trigger dropped, say) ...
    db.execute("INSERT INTO feed_impression_page (user_id, request_id, first_position, "
               "note_ids, at) VALUES (9, 'r', 0, '1', '2026-03-01 10:00:00.000000')")
    db.commit()
    db.close()

    _flask(tmp_path, "db", "downgrade", "5b8e0c3d2a71")
    db = sqlite3.connect(tmp_path / "zhongcao.db")
    # ... is left out when the key comes back.
    assert db.execute("SELECT id, user_id FROM feed_impression_page").fetchall() == [(2, 2)]
    assert [row[2:4] for row in db.execute("PRAGMA foreign_key_list(feed_impression_page)")
            ] == [("user", "user_id")]
    assert db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                      "AND name = 'feed_impression_page_account_delete'").fetchall() == []
    db.close()
    _flask(tmp_path, "db", "upgrade")
    assert "schema is current" in _flask(tmp_path, "check-schema").stdout
