"""SQLite WAL checkpoints in a server's own thread, not on the requests that commit."""

from __future__ import annotations

import sqlite3
import time

from app.schema import WAL_AUTOCHECKPOINT_PAGES, Checkpointer


def _writer(path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    return conn


def test_commits_leave_the_wal_to_the_checkpointer(tmp_path):
    path = str(tmp_path / "db.sqlite")
    conn = _writer(path)
    for _ in range(300):                 # well under the autocheckpoint: nothing copied back
        conn.execute("INSERT INTO t (v) VALUES (?)", ("x" * 500,))
    checkpointer = Checkpointer(path, interval=0.05)
    reader = sqlite3.connect(path)
    busy, frames, copied = checkpointer.run_once(reader)
    assert busy == 0 and frames >= 300 and copied == frames
    reader.close()
    conn.close()


class _Recording(Checkpointer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.results: list[tuple[int, int, int]] = []

    def run_once(self, connection):
        result = super().run_once(connection)
        self.results.append(result)
        return result


def test_the_thread_checkpoints_while_the_app_writes_and_stops(tmp_path):
    path = str(tmp_path / "db.sqlite")
    conn = _writer(path)
    checkpointer = _Recording(path, interval=0.02).start()
    try:
        for _ in range(200):
            conn.execute("INSERT INTO t (v) VALUES (?)", ("y" * 500,))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(r[2] for r in checkpointer.results):
            time.sleep(0.02)
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 200
    finally:
        checkpointer.stop()
    # The thread, not the writer (far below its autocheckpoint), copied the WAL back.
    assert any(copied > 0 for _busy, _frames, copied in checkpointer.results)
    assert checkpointer._thread is not None and not checkpointer._thread.is_alive()
    conn.close()
