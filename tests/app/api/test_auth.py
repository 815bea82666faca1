"""Accounts over the API: register, log in, tokens that expire and are revoked."""

from __future__ import annotations

import time
from datetime import timedelta

from flask_jwt_extended import create_access_token
from sqlalchemy import func, select

from app.extensions import db
from app.models import User
from tests.factories import PASSWORD, bearer, make_user

REG = {"email": "Mei@Example.com", "username": "mei_li", "password": "s3cret-pass",
       "display_name": "小美"}


def register(client, **overrides):
    return client.post("/api/v1/auth/register", json={**REG, **overrides})


def test_register_returns_a_token_that_identifies_the_user(client):
    resp = register(client)
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["token_type"] == "Bearer"
    assert body["user"]["email"] == "mei@example.com"
    assert "password" not in body["user"] and "password_hash" not in body["user"]
    me = client.get("/api/v1/auth/me",
                    headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.get_json()["username"] == "mei_li"


def test_passwords_are_stored_as_argon2_hashes():
    user = make_user(password="a long password")
    assert user.password_hash.startswith("$argon2id$")
    assert "a long password" not in user.password_hash


def test_duplicate_email_and_username_are_conflicts(client):
    assert register(client).status_code == 201
    again = register(client, username="other")
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "email_taken"
    same_name = register(client, email="x@example.com", username="MEI_LI")
    assert same_name.status_code == 409
    assert same_name.get_json()["error"]["code"] == "username_taken"
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_register_validates_every_field_and_names_it(client):
    resp = register(client, email="nope", username="a", password="short")
    assert resp.status_code == 422
    fields = resp.get_json()["error"]["details"]["fields"]
    assert set(fields) == {"email", "username", "password"}
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_register_rejects_unknown_fields_and_self_appointed_operators(client):
    resp = register(client, is_active=False)
    assert resp.status_code == 422
    assert "is_active" in resp.get_json()["error"]["details"]["fields"]
    op = register(client, role="operator")
    assert op.status_code == 422
    assert "role" in op.get_json()["error"]["details"]["fields"]
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_merchants_can_sign_up_as_merchants(client):
    resp = register(client, role="merchant")
    assert resp.get_json()["user"]["role"] == "merchant"


def test_login_with_right_and_wrong_password(client):
    make_user(email="li@example.com")
    ok = client.post("/api/v1/auth/login", json={"email": "LI@example.com", "password": PASSWORD})
    assert ok.status_code == 200 and ok.get_json()["access_token"]
    bad = client.post("/api/v1/auth/login", json={"email": "li@example.com", "password": "x"})
    assert bad.status_code == 401
    assert bad.get_json()["error"]["code"] == "invalid_credentials"
    unknown = client.post("/api/v1/auth/login", json={"email": "no@example.com", "password": "x"})
    assert unknown.get_json()["error"] == bad.get_json()["error"]


def test_logout_revokes_the_token(client):
    headers = bearer(make_user())
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    after = client.get("/api/v1/auth/me", headers=headers)
    assert after.status_code == 401
    assert after.get_json()["error"]["code"] == "token_revoked"
    # A new login still works.
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 401


def test_expired_tokens_are_refused(client):
    user = make_user()
    token = create_access_token(identity=str(user.id), expires_delta=timedelta(seconds=1))
    time.sleep(2)
    resp = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "token_expired"


def test_a_token_used_before_is_still_refused_once_expired(client):
    user = make_user()
    token = create_access_token(identity=str(user.id), expires_delta=timedelta(seconds=1))
    headers = {"Authorization": f"Bearer {token}"}
    for feed in (False, True):
        path = "/api/v1/feed?limit=2" if feed else "/api/v1/auth/me"
        assert client.get(path, headers=headers).status_code == 200
    time.sleep(2)
    for path in ("/api/v1/auth/me", "/api/v1/feed?limit=2"):
        resp = client.get(path, headers=headers)
        assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "token_expired"
    # The same token with its signature changed is refused.
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    resp = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "token_invalid"


def test_garbage_tokens_and_missing_tokens_get_401_in_the_error_shape(client):
    garbage = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer not.a.token"})
    assert garbage.status_code == 401
    assert garbage.get_json()["error"]["code"] == "token_invalid"
    missing = client.get("/api/v1/auth/me")
    assert missing.status_code == 401
    assert missing.get_json()["error"]["code"] == "unauthorized"


def test_tokens_of_disabled_accounts_stop_working(client):
    user = make_user()
    headers = bearer(user)
    user.is_active = False
    db.session.commit()
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_login_is_rate_limited(client):
    make_user(email="rl@example.com")
    codes = [client.post("/api/v1/auth/login",
                         json={"email": "rl@example.com", "password": "wrong"}).status_code
             for _ in range(12)]
    assert codes[:10] == [401] * 10
    assert codes[-1] == 429
    limited = client.post("/api/v1/auth/login", json={"email": "rl@example.com", "password": "x"})
    assert limited.get_json()["error"]["code"] == "rate_limited"
