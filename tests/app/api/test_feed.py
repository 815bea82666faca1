"""The feed end to end on the real database: personal, paged without repeats, logged, and
degrading instead of failing (no model, model files gone, index down, a source raising or
late). Redis is not used by the feed (its shared lists are cached in-process), so there is
no Redis degradation to test."""

from __future__ import annotations

import random
import shutil
import time
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import func, insert, select, text, update

from app import schema
from app.extensions import db
from app.feed.readers import SqlReader
from app.models import FeedImpressionPage, Interaction, InteractionKind, Note, Product, User
from app.models.base import utcnow
from app.services import feed, impressions, recommendations, search
from indexer import IndexUnavailable
from tests.factories import bearer, make_note, make_product, make_user

TAGS = ("护肤", "穿搭")


@pytest.fixture(autouse=True)
def _generous_budgets(settings, monkeypatch):
    """Cold threads and connections on a laptop can take 100+ ms; tests about lateness set
    their own budget."""
    monkeypatch.setattr(settings, "feed_source_budget_ms", 5000)


def _world(n_users: int = 40, per_group: int = 12, products: bool = False):
    """Two taste groups over two groups of notes, every note by its own author, tagged with
    its group's hashtag; each user opened and liked ~60% of their group's notes yesterday."""
    rng = random.Random(5)
    merchant = make_user() if products else None
    groups: list[list[int]] = []
    for tag in TAGS:
        ids = []
        for i in range(per_group):
            product_ids = [make_product().id] if products and i % 3 == 0 else []
            ids.append(make_note(make_user(), title=f"{tag}{i}", body=f"分享 #{tag}",
                                 product_ids=product_ids).id)
        groups.append(ids)
    users = [make_user() for _ in range(n_users)]
    rows, at = [], utcnow() - timedelta(days=1)
    for u, user in enumerate(users):
        for note_id in rng.sample(groups[u % 2], k=int(per_group * 0.6)):
            for kind, weight in (("click", 1.0), ("like", 4.0)):
                rows.append({"user_id": user.id, "note_id": note_id, "kind": kind,
                             "weight": weight, "at": at})
    db.session.execute(insert(Interaction), rows)
    db.session.commit()
    assert merchant is None or merchant.id
    return users, groups


def _train() -> None:
    """Train and serve a model (published whatever the gate says of this tiny world)."""
    report = recommendations.train("als", progress=False)
    if not report.published:
        recommendations.publish(report.version.version_id)


def _get(client, user=None, **params):
    resp = client.get("/api/v1/feed", query_string=params,
                      headers=bearer(user) if user else {})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.json


def _ids(page) -> list[int]:
    return [item["note"]["id"] for item in page["items"]]


def _status(page) -> dict[str, str]:
    return {s["name"]: s["status"] for s in page["source_reports"]}


def test_two_people_with_different_tastes_see_different_feeds(client):
    users, groups = _world()
    _train()
    a, b = _get(client, users[0], limit=6), _get(client, users[1], limit=6)
    assert "collaborative" in a["sources"] and a["model_id"]
    own_a, own_b = sum(i in groups[0] for i in _ids(a)), sum(i in groups[1] for i in _ids(b))
    assert own_a >= 3 and own_b >= 3 and own_a + own_b >= 8
    assert len(set(_ids(a)) & set(_ids(b))) <= 2
    item = a["items"][0]
    assert item["reason"]["code"] and item["reason"]["text_zh"] and item["source"]
    assert item["note"]["author"]["username"] and isinstance(item["score"], float)


def test_without_a_model_the_feed_serves_from_the_other_sources(client):
    users, _ = _world()
    page = _get(client, users[0], limit=8)
    assert len(page["items"]) == 8 and page["model_id"] is None
    assert _status(page)["collaborative"] == "empty"
    assert "trending" in page["sources"]


def test_model_files_missing_degrade_to_the_other_sources(client, settings):
    users, _ = _world()
    _train()
    shutil.rmtree(settings.instance_path / "models")
    page = _get(client, users[0], limit=8)
    assert len(page["items"]) == 8 and "collaborative" not in page["sources"]


def test_search_index_down_degrades_more_like_this(client, monkeypatch):
    _world()
    newcomer = make_user()
    for note_id in db.session.scalars(select(Note.id).limit(2)):
        client.post(f"/api/v1/notes/{note_id}/like", headers=bearer(newcomer))

    class Down:
        def more_like_this(self, *a, **k):
            raise IndexUnavailable("the index is down")

    monkeypatch.setattr(search, "backend", lambda: Down())
    page = _get(client, newcomer, limit=6)
    assert _status(page)["similar"] == "error" and len(page["items"]) == 6


def test_a_raising_source_is_skipped(client, monkeypatch):
    users, _ = _world()

    def boom(self, n, now):
        raise RuntimeError("trending is broken")

    monkeypatch.setattr(SqlReader, "trending", boom)
    page = _get(client, users[0], limit=6)
    assert _status(page)["trending"] == "error" and "trending" not in page["sources"]
    assert len(page["items"]) == 6


def test_a_source_past_its_budget_is_skipped(client, monkeypatch, settings):
    users, _ = _world()
    monkeypatch.setattr(settings, "feed_source_budgets_ms", {"trending": 50})

    def slow(self, n, now):
        time.sleep(0.6)
        return []

    monkeypatch.setattr(SqlReader, "trending", slow)
    started = time.perf_counter()
    page = _get(client, users[0], limit=6)
    assert time.perf_counter() - started < 0.5
    assert _status(page)["trending"] == "timeout" and len(page["items"]) == 6
    time.sleep(0.6)  # let the late source finish before the database is wiped


def test_pages_never_repeat_and_impressions_are_logged(client):
    users, _ = _world()
    _train()
    first = _get(client, users[0], limit=5)
    second = _get(client, users[0], limit=5, cursor=first["next_cursor"])
    assert second["request_id"] == first["request_id"]
    assert not set(_ids(first)) & set(_ids(second)) and len(_ids(second)) == 5
    # One impression row per page: the request id, each note's position in the session.
    assert impressions.slots(first["request_id"]) == list(
        zip(_ids(first) + _ids(second), range(10), strict=True))
    pages = db.session.scalars(select(FeedImpressionPage).order_by(FeedImpressionPage.id)).all()
    assert [(p.user_id, p.first_position) for p in pages] == [(users[0].id, 0), (users[0].id, 5)]
    assert impressions.uncounted_pages() == 2


def test_a_like_from_the_feed_changes_the_next_page(client):
    _, groups = _world()
    _train()
    newcomer = make_user()
    first = _get(client, newcomer, limit=6)
    assert "collaborative" not in first["sources"]
    # Like three notes of the group page 1 showed less of (so enough of it is left).
    liked = min(groups, key=lambda g: len(set(g) & set(_ids(first))))
    for note_id in [n for n in liked if n not in _ids(first)][:3]:
        client.post(f"/api/v1/notes/{note_id}/like", headers=bearer(newcomer))
    second = _get(client, newcomer, limit=6, cursor=first["next_cursor"])
    assert "collaborative" in second["sources"]
    assert sum(i in liked for i in _ids(second)) >= 4


def test_commission_rates_never_change_a_feed(app, monkeypatch):
    users, _ = _world(products=True)
    _train()
    monkeypatch.setattr(feed.time, "time", lambda: 1_900_000_000.0)

    def feeds():
        return [[(i.note_id, i.score) for i in feed.run_pipeline(
            u.id, 10, request_id="fixed").items] for u in users[:6]] + \
            [[(i.note_id, i.score) for i in feed.run_pipeline(None, 10,
                                                               request_id="x").items]]

    before = feeds()
    db.session.execute(update(Product).values(creator_rate_bps=4000, sharer_rate_bps=0,
                                              inviter_rate_bps=0))
    db.session.commit()
    assert db.session.scalar(select(Product.creator_rate_bps).limit(1)) == 4000
    assert feeds() == before


def test_at_most_two_notes_of_one_author_per_page(client):
    users, groups = _world()
    prolific = make_user()
    notes = [make_note(prolific, body="#护肤").id for _ in range(8)]
    db.session.execute(insert(Interaction), [
        {"user_id": u.id, "note_id": n, "kind": "like", "weight": 4.0, "at": utcnow()}
        for u in users for n in notes])
    db.session.commit()
    page = _get(client, make_user(), limit=12)
    assert sum(i in notes for i in _ids(page)) == 2


def test_fresh_notes_keep_their_quota(client):
    users, _ = _world()
    db.session.execute(update(Note).values(created_at=utcnow() - timedelta(days=20)))
    db.session.commit()
    new = make_note(make_user(), body="刚发布 #新人").id
    page = _get(client, users[0], limit=10)
    assert new in _ids(page)
    item = next(i for i in page["items"] if i["note"]["id"] == new)
    assert "fresh" in item["sources"]


def test_not_interested_and_blocks_remove_notes(client):
    users, groups = _world()
    viewer = users[0]
    page = _get(client, viewer, limit=20)
    target = page["items"][0]["note"]
    client.post(f"/api/v1/notes/{target['id']}/not-interested", headers=bearer(viewer))
    author_note = page["items"][1]["note"]
    client.post(f"/api/v1/notes/{author_note['id']}/not-interested", json={"scope": "author"},
                headers=bearer(viewer))
    client.post(f"/api/v1/users/{page['items'][2]['note']['author']['username']}/block",
                headers=bearer(viewer))
    again = feed.run_pipeline(viewer.id, 24, request_id="r")
    served = {i.note_id for i in again.items}
    assert not served & {target["id"], author_note["id"], page["items"][2]["note"]["id"]}
    assert again.removed["not_interested_note"] == [target["id"]]


def test_visitors_get_trending_and_new_notes_and_nothing_is_logged(client):
    _world()
    page = _get(client, limit=6)
    assert set(page["sources"]) <= {"trending", "fresh", "latest"} and len(page["items"]) == 6
    assert _get(client, limit=6, cursor=page["next_cursor"])["items"]
    assert db.session.scalar(select(func.count(FeedImpressionPage.id))) == 0
    assert db.session.scalar(select(Interaction.id).where(
        Interaction.kind == InteractionKind.IMPRESSION).limit(1)) is None


def test_cursors_are_checked(client):
    users, _ = _world(n_users=2, per_group=3)
    page = _get(client, users[0], limit=2)
    assert client.get("/api/v1/feed", query_string={"cursor": "nope"},
                      headers=bearer(users[0])).status_code == 400
    other = client.get("/api/v1/feed", query_string={"cursor": page["next_cursor"]},
                       headers=bearer(users[1]))
    assert other.status_code == 400


def test_picked_topics_feed_a_new_user(client):
    _world()
    newcomer = make_user()
    resp = client.put("/api/v1/me/topics", json={"topics": ["#穿搭", "新话题"]},
                      headers=bearer(newcomer))
    assert resp.status_code == 200 and resp.json["topics"] == ["新话题", "穿搭"]
    assert client.get("/api/v1/me/topics", headers=bearer(newcomer)).json == resp.json
    page = _get(client, newcomer, limit=6)
    assert "topics" in page["sources"]
    assert any(i["reason"]["code"] == "topic" for i in page["items"])
    bad = client.put("/api/v1/me/topics", json={"topics": ["x" * 41]}, headers=bearer(newcomer))
    assert bad.status_code == 422


def test_out_of_stock_notes_are_left_out(client):
    users, _ = _world(products=True)
    db.session.execute(update(Product).values(stock=0))
    db.session.commit()
    result = feed.run_pipeline(users[0].id, 30, request_id="r")
    assert result.removed.get("out_of_stock")
    tagged = set(result.removed["out_of_stock"])
    assert not tagged & {i.note_id for i in result.items}


def test_related_notes(client):
    users, groups = _world()
    _train()
    resp = client.get(f"/api/v1/notes/{groups[0][0]}/related?limit=4")
    assert resp.status_code == 200
    assert resp.json and {n["id"] for n in resp.json} <= set(groups[0]) - {groups[0][0]}
    assert client.get("/api/v1/notes/999999/related").status_code == 404


def _impressions(user) -> int:
    return impressions.served_count(user.id)


def test_a_revoked_token_or_a_closed_account_gets_no_page_and_logs_nothing(client):
    users, _ = _world()
    viewer = users[0]
    headers = bearer(viewer)
    first = client.get("/api/v1/feed?limit=4", headers=headers)
    assert first.status_code == 200 and _impressions(viewer) == 4
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    for cursor in (None, first.json["next_cursor"], "tampered"):
        resp = client.get("/api/v1/feed", headers=headers,
                          query_string={"limit": 4, **({"cursor": cursor} if cursor else {})})
        assert resp.status_code == 401 and resp.json["error"]["code"] == "token_revoked"
    other = users[1]
    headers = bearer(other)
    db.session.execute(update(User).where(User.id == other.id).values(is_active=False))
    db.session.commit()
    resp = client.get("/api/v1/feed?limit=4", headers=headers)
    assert resp.status_code == 401 and resp.json["error"]["code"] == "token_invalid"
    assert _impressions(viewer) == 4 and _impressions(other) == 0


@pytest.mark.parametrize("query", ["limit=0", "limit=51", "limit=abc", "cursor=" + "x" * 16385])
def test_bad_feed_arguments_get_a_422_with_the_field(client, query):
    users, _ = _world(n_users=2, per_group=3)
    resp = client.get(f"/api/v1/feed?{query}", headers=bearer(users[0]))
    assert resp.status_code == 422, resp.get_data(as_text=True)
    body = resp.json["error"]
    assert body["code"] == "validation_failed" and list(body["details"]["fields"]) == [
        query.split("=")[0]]
    assert _impressions(users[0]) == 0


def test_a_page_gives_its_connection_back_as_the_pool_lent_it(client, monkeypatch):
    """A signed-in page runs on a pooled connection of its own (``schema.page_engine``: on
    PostgreSQL a pool of its own, in autocommit with generic plans): served, refused or failed
    half-way, the connection goes back to its pool with nothing left uncommitted, a page that
    failed wrote nothing, and the app's main pool is left as it was (out of autocommit, the
    server's default durability and plans)."""
    users, _ = _world()
    viewer = users[0]
    headers = bearer(viewer)
    pages = schema.page_engine(current_app)
    pools = {db.engine.pool, pages.pool}
    db.session.remove()

    def lent() -> int:      # kept for the next page (PostgreSQL) is not lent
        return (sum(pool.checkedout() for pool in pools)
                - len(schema.kept_page_connections(current_app)))

    before = lent()
    assert client.get("/api/v1/feed?limit=4", headers=headers).status_code == 200
    assert lent() == before and _impressions(viewer) == 4

    # The page fails half-way (after its reads, before its write): nothing of it is kept.
    def broken(*args, **kwargs):
        raise RuntimeError("the page could not be cut")
    monkeypatch.setattr(feed, "_window", broken)
    assert client.get("/api/v1/feed?limit=4", headers=headers).status_code == 500
    monkeypatch.undo()
    db.session.remove()
    assert lent() == before and _impressions(viewer) == 4
    assert client.get("/api/v1/feed?limit=4", headers=headers).status_code == 200
    assert _impressions(viewer) == 8

    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/feed?limit=4", headers=headers).status_code == 401
    db.session.remove()
    assert lent() == before
    if db.engine.dialect.name != "postgresql":
        assert pages is db.engine            # SQLite: the pages use the app's own pool
        return

    def settings(own) -> tuple[bool, str, str, str]:
        cursor = own.cursor()
        cursor.execute("SELECT current_setting('synchronous_commit'), "
                       "current_setting('plan_cache_mode'), current_setting('enable_seqscan')")
        durability, plans, scans = cursor.fetchone()
        cursor.close()
        own.rollback()
        return own.driver_connection.autocommit, durability, plans, scans

    assert pages.pool is not db.engine.pool
    kept = schema.kept_page_connections(current_app)      # for the next page
    for engine, expected, also in ((db.engine, (False, "on", "auto", "on"), []),
                                   (pages, (True, "on", "force_generic_plan", "off"), kept)):
        idle = [engine.raw_connection() for _ in range(engine.pool.checkedin())]
        try:
            assert idle + also and all(settings(own) == expected for own in idle + also)
        finally:
            for own in idle:
                own.close()


def test_a_page_connection_keeps_index_plans_made_while_the_impression_log_was_empty():
    """A page connection makes each page statement's plan once and keeps it (generic plans):
    one made on a fresh database, the impression log still empty, must still read a person's
    pages by the index once the log has grown, not scan the whole log on every page."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("prepared generic plans are PostgreSQL's")
    assert db.session.scalar(select(func.count()).select_from(FeedImpressionPage)) == 0
    db.session.rollback()
    with db.engine.connect() as conn:      # a fresh database as autovacuum first sees it
        conn.execute(text("ANALYZE"))
        conn.commit()
    plans = {}
    proxy, engine = schema.lend_page_connection(current_app)
    try:
        cursor = proxy.driver_connection.cursor()
        for name in ("plan", "plan_page", "cards_any", "liked"):
            sql, names = feed._raw(engine.dialect, name).numbered
            cursor.execute(f"PREPARE zc_test_{name} AS {sql}")
            nulls = ", ".join(["NULL"] * len(names))
            cursor.execute(f"EXPLAIN (COSTS OFF) EXECUTE zc_test_{name}({nulls})")
            plans[name] = "\n".join(line for (line,) in cursor.fetchall())
            cursor.execute(f"DEALLOCATE zc_test_{name}")
        cursor.close()
    finally:
        schema.give_back_page_connection(current_app, proxy)
    assert {name: plan for name, plan in plans.items() if "Seq Scan" in plan} == {}
    assert all("ix_feed_impression_page_user_id_at" in plans[name]
               for name in ("plan", "plan_page"))
