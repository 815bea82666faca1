"""Starting the app: settings, an unmigrated database refused, the Redis rate-limit store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import PLACEHOLDER_SECRET, Settings
from tests.conftest import redis_up

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60)


def test_every_setting_has_an_embedded_default(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ZC_ENV", "ELASTICSEARCH_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(instance_path=tmp_path)
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path / 'zhongcao.db'}"
    assert settings.rate_limit_storage_uri == "memory://"
    assert settings.env == "dev"


def test_postgres_urls_use_psycopg3():
    s = Settings(database_url="postgresql://u@h/db")
    assert s.sqlalchemy_url == "postgresql+psycopg://u@h/db"
    assert Settings(database_url="postgres://u@h/db").sqlalchemy_url.startswith("postgresql+psycopg")


def test_environment_variables_are_read(monkeypatch):
    monkeypatch.setenv("ZC_TOKEN_TTL_MINUTES", "5")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    s = Settings()
    assert s.token_ttl_minutes == 5 and s.rate_limit_storage_uri == "redis://127.0.0.1:6379/3"


def test_production_refuses_the_placeholder_secret():
    with pytest.raises(ValidationError):
        Settings(env="prod", secret_key=PLACEHOLDER_SECRET)
    with pytest.raises(ValidationError):
        Settings(env="prod", secret_key="short")
    assert Settings(env="prod", secret_key="k" * 40).env == "prod"


def test_a_server_on_an_unmigrated_database_says_so_and_exits(tmp_path):
    result = _run("import wsgi", {"ZC_INSTANCE_PATH": str(tmp_path), "DATABASE_URL": ""})
    assert result.returncode == 3
    assert "db upgrade" in result.stderr and "has no tables yet" in result.stderr


def test_a_server_on_a_migrated_database_starts(tmp_path):
    env = {"ZC_INSTANCE_PATH": str(tmp_path), "DATABASE_URL": ""}
    upgrade = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
                             cwd=ROOT, capture_output=True, text=True, env={**os.environ, **env},
                             timeout=60)
    assert upgrade.returncode == 0, upgrade.stderr
    # The model's store is loaded at start, before the garbage collector's freeze (not by the
    # first feed page, after it): its module is out of the collector's sight.
    result = _run("import gc, sys, wsgi\n"
                  "store = vars(sys.modules['app.services.recommendations'])\n"
                  "print(wsgi.app.name, any(o is store for o in gc.get_objects()))", env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["app", "False"]


@pytest.mark.skipif(not redis_up(), reason="no Redis at 127.0.0.1:6379")
def test_rate_limits_are_kept_in_redis_when_redis_url_is_set(tmp_path):
    # A process of its own: the limiter is one object per process, bound to its storage.
    code = """
import redis
from app import create_app
from app.extensions import db, limiter
from flask_migrate import upgrade
app = create_app({"env": "test", "rate_limit_auth": "3 per minute"})
with app.app_context():
    upgrade()
r = redis.Redis.from_url("redis://127.0.0.1:6379/0")
stale = r.keys("*api_auth.login*")
if stale:
    r.delete(*stale)
client = app.test_client()
codes = [client.post("/api/v1/auth/login", json={"email": "a@b.cc", "password": "x"}).status_code
         for _ in range(4)]
print(codes, bool(r.keys("*api_auth.login*")))
"""
    result = _run(code, {"ZC_INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "",
                         "REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[401, 401, 401, 429] True"


def test_interaction_weights_are_configurable_and_checked(monkeypatch):
    monkeypatch.setenv("ZC_INTERACTION_WEIGHTS", '{"save": 8}')
    weights = Settings().interaction_weights
    assert weights["save"] == 8 and weights["like"] == 4.0
    monkeypatch.setenv("ZC_INTERACTION_WEIGHTS", '{"teleport": 1}')
    with pytest.raises(ValidationError):
        Settings()
