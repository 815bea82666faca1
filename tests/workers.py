"""A real Celery worker process on a real broker (Redis), against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from celery import Celery

from app.config import Settings
from tests.conftest import TEST_SECRET

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def celery_worker(settings: Settings, broker: str) -> Iterator[Celery]:
    """Start ``celery -A worker worker`` on ``broker`` (emptied first) with the test app's
    instance and database; yields a client that sends tasks to it."""
    import redis

    redis.Redis.from_url(broker).flushdb()
    env = {**os.environ, "ZC_ENV": "test", "SECRET_KEY": TEST_SECRET,
           "ZC_INSTANCE_PATH": str(settings.instance_path),
           "DATABASE_URL": os.environ.get("TEST_DATABASE_URL", ""),
           "CELERY_BROKER_URL": broker, "CELERY_RESULT_BACKEND": broker}
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "worker", "worker",
                             "--pool=solo", "--loglevel=WARNING", "--without-gossip",
                             "--without-mingle", "--without-heartbeat"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    try:
        yield Celery(broker=broker, backend=broker)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
