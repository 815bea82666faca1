"""Cross-cutting API behaviour: one error shape, OpenAPI, docs served locally, headers."""

from __future__ import annotations

import re

from tests.factories import bearer, make_user


def _is_error_shape(body: dict) -> bool:
    err = body.get("error", {})
    return set(err) == {"code", "message", "details"} and isinstance(err["code"], str)


def test_flask_own_errors_use_the_error_shape(client):
    not_found = client.get("/api/v1/nothing-here")
    assert not_found.status_code == 404 and _is_error_shape(not_found.get_json())
    assert not_found.get_json()["error"]["code"] == "not_found"
    wrong_method = client.put("/api/v1/notes")
    assert wrong_method.status_code == 405
    assert wrong_method.get_json()["error"]["code"] == "method_not_allowed"


def test_malformed_json_is_a_clear_4xx(client):
    resp = client.post("/api/v1/auth/login", data="{not json", content_type="application/json")
    assert 400 <= resp.status_code < 500 and _is_error_shape(resp.get_json())
    arr = client.post("/api/v1/auth/login", json=["a", "b"])
    assert arr.status_code == 422 and _is_error_shape(arr.get_json())


def test_validation_errors_list_fields(client):
    resp = client.post("/api/v1/notes", json={"title": "", "image_ids": ["x"], "extra": 1},
                       headers=bearer(make_user()))
    assert resp.status_code == 422
    fields = resp.get_json()["error"]["details"]["fields"]
    assert {"title", "image_ids.0", "extra"} <= set(fields)


def test_unexpected_errors_are_500_in_the_error_shape_without_internals(client, monkeypatch):
    from app.services import notes

    def _boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(notes, "list_recent_notes", _boom)
    resp = client.get("/api/v1/notes")
    assert resp.status_code == 500
    assert resp.get_json()["error"]["code"] == "internal"
    assert "secret" not in resp.get_data(as_text=True)


def test_openapi_spec_describes_the_api(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path in ("/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/notes",
                 "/api/v1/notes/{note_id}", "/api/v1/products", "/api/v1/images"):
        assert path in paths, path
    assert "bearerAuth" in spec["components"]["securitySchemes"]
    assert "NoteIn" in spec["components"]["schemas"]


def test_docs_page_loads_every_asset_from_this_server(client):
    html = client.get("/api/v1/docs").get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith("/") for u in urls)
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"


def test_security_headers_are_set(client):
    resp = client.get("/api/v1/notes")
    csp = resp.headers["Content-Security-Policy"]
    script_src = csp.split("script-src")[1].split(";")[0]
    assert "'self'" in script_src and "unsafe-inline" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"


def test_api_session_callers_need_csrf_for_writes(app, client):
    # A logged-in page session (cookie) may read through the API but must send the CSRF
    # token to write, so a cross-site form can't act for the user.
    user = make_user()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True
    assert client.get("/api/v1/auth/me").status_code == 200
    resp = client.patch("/api/v1/users/me", json={"bio": "hacked"})
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "csrf_failed"


def test_health_checks_answer_without_a_login_and_readiness_reads_the_database(client,
                                                                               monkeypatch):
    live = client.get("/api/v1/health")
    assert live.status_code == 200 and live.json == {"status": "ok"}
    ready = client.get("/api/v1/health/ready")
    assert ready.status_code == 200 and ready.json == {"status": "ok", "database": "ok"}

    from app.api import health

    class Down:
        def execute(self, *_a, **_k):
            raise OSError("connection refused")

        def rollback(self):
            pass

    monkeypatch.setattr(health.db, "session", Down())
    down = client.get("/api/v1/health/ready")
    assert down.status_code == 503 and down.json["database"] == "unavailable"
