"""Feed plans: the pipeline runs once for several pages and page requests serve windows of the
plan, re-checking what can change between pages; what people do drops the plan; old plans
and plans of another model are made again; the nightly batch and a real worker make them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.api.feed import FeedOut
from app.extensions import db
from app.models import FeedPlan, Note, Product, Visibility
from app.models.base import utcnow
from app.pagination import decode_cursor, encode_cursor
from app.services import feed, impressions
from tests.app.api.test_feed import _get, _ids, _train, _world
from tests.conftest import redis_up
from tests.factories import bearer, make_note, make_product, make_user
from tests.workers import celery_worker


@pytest.fixture(autouse=True)
def _generous_budgets(settings, monkeypatch):
    monkeypatch.setattr(settings, "feed_source_budget_ms", 5000)


def _plan(user) -> FeedPlan | None:
    db.session.expire_all()
    return db.session.get(FeedPlan, user.id)


def test_later_pages_and_new_sessions_are_served_from_the_plan(client):
    users, _ = _world()
    _train()
    viewer = users[0]
    first = _get(client, viewer, limit=5)
    assert first["planned_now"] is True and _plan(viewer) is not None
    planned = [item[0] for item in _plan(viewer).items]
    second = _get(client, viewer, limit=5, cursor=first["next_cursor"])
    assert second["planned_now"] is False and second["planned_at"] == first["planned_at"]
    assert _ids(first) == planned[:5] and _ids(second) == planned[5:10]
    # Opening the feed again (no cursor) continues the plan: nothing shown is shown again.
    again = _get(client, viewer, limit=5)
    assert again["planned_now"] is False and _ids(again) == planned[10:15]
    assert again["request_id"] != first["request_id"]
    assert second["model_id"] == first["model_id"] and "collaborative" in second["sources"]
    item = second["items"][0]
    assert item["reason"]["text_zh"] and item["reason"]["text_en"] and item["source"]
    assert impressions.served_count(viewer.id) == 15


def test_the_feed_json_is_what_its_schema_documents(client):
    users, _ = _world(products=True)
    first = _get(client, users[0], limit=6)
    assert FeedOut().validate(first) == {}
    card = first["items"][0]["note"]
    assert set(card) == set(FeedOut().fields["items"].inner.nested().fields["note"]
                            .nested().fields)
    assert card["cover"]["thumb_url"].startswith("/media/") and card["url"].startswith("/n/")
    assert card["author"]["username"] and card["liked"] is False
    client.post(f"/api/v1/notes/{card['id']}/like", headers=bearer(users[0]))
    assert db.session.get(FeedPlan, users[0].id) is None


@pytest.mark.parametrize("action", ["like", "save", "not_interested", "follow", "block",
                                    "topics"])
def test_what_people_do_drops_their_plan(client, action):
    users, _ = _world()
    viewer = users[0]
    first = _get(client, viewer, limit=4)
    assert _plan(viewer) is not None
    note = first["items"][0]["note"]
    headers = bearer(viewer)
    if action == "like":
        resp = client.post(f"/api/v1/notes/{note['id']}/like", headers=headers)
    elif action == "save":
        resp = client.post(f"/api/v1/notes/{note['id']}/save", headers=headers, json={})
    elif action == "not_interested":
        resp = client.post(f"/api/v1/notes/{note['id']}/not-interested", headers=headers)
    elif action == "follow":
        resp = client.post(f"/api/v1/users/{note['author']['username']}/follow",
                           headers=headers)
    elif action == "block":
        resp = client.post(f"/api/v1/users/{note['author']['username']}/block",
                           headers=headers)
    else:
        resp = client.put("/api/v1/me/topics", json={"topics": ["护肤"]}, headers=headers)
    assert resp.status_code in (200, 201, 204), resp.get_data(as_text=True)
    assert _plan(viewer) is None
    nxt = _get(client, viewer, limit=4, cursor=first["next_cursor"])
    assert nxt["planned_now"] is True and not set(_ids(nxt)) & set(_ids(first))
    if action in ("not_interested", "block"):
        assert note["id"] not in _ids(nxt)


@pytest.mark.parametrize("cache_seconds", [0, 60], ids=["no-card-cache", "card-cache"])
def test_notes_gone_since_planning_are_not_served(client, settings, monkeypatch,
                                                  cache_seconds):
    # With the card cache, page 1 cached the cards of the next notes too (its window): the
    # database's feed_epoch triggers must make page 2 read them again.
    monkeypatch.setattr(settings, "feed_cache_seconds", cache_seconds)
    users, groups = _world(products=True)
    _train()
    viewer = users[0]
    first = _get(client, viewer, limit=4)
    upcoming = [item[0] for item in _plan(viewer).items][4:8]
    deleted, hidden, private, sold = upcoming
    db.session.execute(update(Note).where(Note.id == deleted).values(deleted_at=utcnow()))
    db.session.execute(update(Note).where(Note.id == hidden).values(hidden_at=utcnow()))
    db.session.execute(update(Note).where(Note.id == private)
                       .values(visibility=Visibility.PRIVATE))
    product = make_product(stock=3)
    db.session.get(Note, sold).set_products([product])
    db.session.commit()
    db.session.execute(update(Product).where(Product.id == product.id).values(stock=0))
    db.session.commit()
    second = _get(client, viewer, limit=4, cursor=first["next_cursor"])
    assert second["planned_now"] is False and len(second["items"]) == 4
    assert not set(_ids(second)) & set(upcoming)
    assert second["removed"]["unavailable_now"] >= 4


def test_a_page_from_the_plan_keeps_the_author_cap(client, settings, monkeypatch):
    users, _ = _world()
    viewer = users[0]
    _get(client, viewer, limit=4)
    prolific = make_user()
    mine = [make_note(prolific, body="#护肤").id for _ in range(4)]
    # A plan whose next items are all by one author (the page must take two of them).
    row = _plan(viewer)
    rest = [it for it in row.items if it[0] not in mine][4:]
    row.items = [[n, prolific.id, 1.0, "trending", ["trending"], "trending", {}, False]
                 for n in mine] + rest
    db.session.commit()
    page = _get(client, viewer, limit=4)
    assert page["planned_now"] is False
    assert sum(i in mine for i in _ids(page)) == 2 and len(_ids(page)) == 4


def test_used_up_and_old_plans_are_made_again(client, settings, monkeypatch):
    users, _ = _world()
    viewer = users[0]
    monkeypatch.setattr(settings, "feed_plan_pages", 2)
    monkeypatch.setattr(settings, "feed_page_size", 5)
    first = _get(client, viewer)
    assert first["planned_now"]
    second = _get(client, viewer, cursor=first["next_cursor"])
    assert not second["planned_now"]
    third = _get(client, viewer, cursor=second["next_cursor"])   # the plan had two pages
    assert third["planned_now"] and not set(_ids(third)) & set(_ids(first) + _ids(second))
    # Older than the refresh age: without a worker, made again before serving.
    db.session.execute(update(FeedPlan).values(
        built_at=utcnow() - timedelta(minutes=settings.feed_plan_refresh_minutes + 1)))
    db.session.commit()
    assert _get(client, viewer, cursor=third["next_cursor"])["planned_now"]


def test_a_long_scroll_never_repeats_and_its_cursor_stays_short(client, settings,
                                                                monkeypatch):
    """A signed-in scroll's cursor holds how far it got and when it began, not the ids it
    served (those are in the impression log): it stays the same size page after page, and
    a plan made again in the middle of the scroll (a worker's, dated after the scroll began)
    still keeps out everything this scroll served."""
    users, _ = _world()
    viewer = users[0]
    monkeypatch.setattr(settings, "feed_plan_pages", 2)
    monkeypatch.setattr(settings, "feed_page_size", 3)
    seen: list[int] = []
    cursors: list[str] = []
    page = _get(client, viewer)
    for n in range(6):
        seen += _ids(page)
        assert [it["position"] for it in page["items"]] == list(range(3 * n, 3 * n + 3))
        cursors.append(page["next_cursor"])
        if n == 2:   # the plan is made again now, after the scroll began, as a worker would
            db.session.execute(update(FeedPlan).where(FeedPlan.user_id == viewer.id)
                               .values(built_at=utcnow()))
            db.session.commit()
        page = _get(client, viewer, cursor=page["next_cursor"])
    assert len(seen) == len(set(seen)) == 18
    # What the cursor holds does not grow with the scroll: no served ids, and the plan
    # positions the next page's guess needs (PostgreSQL: ``k``) as runs, one or two here.
    states = [decode_cursor(feed.CURSOR_KIND, cursor) for cursor in cursors]
    assert not any("s" in state for state in states)
    rest = [len(encode_cursor(feed.CURSOR_KIND, {k: v for k, v in state.items()
                                                 if k not in ("b", "n", "k")}))
            for state in states]
    assert max(rest) - min(rest) <= 4
    assert all(len(state.get("k", [])) <= 4 for state in states)
    assert max(map(len, cursors)) <= 240
    assert len(impressions.slots(page["request_id"])) == 21


def test_a_new_model_makes_plans_again(client):
    users, _ = _world()
    viewer = users[0]
    first = _get(client, viewer, limit=4)
    assert first["model_id"] is None
    _train()
    feed.clear_cache()    # the published id is re-read every few seconds
    nxt = _get(client, viewer, limit=4, cursor=first["next_cursor"])
    assert nxt["planned_now"] and nxt["model_id"]


def test_visitors_share_one_plan_while_it_is_fresh(client, settings, monkeypatch):
    _world()
    monkeypatch.setattr(settings, "feed_cache_seconds", 60)
    feed.clear_cache()
    first = _get(client, limit=5)
    second = _get(client, limit=5, cursor=first["next_cursor"])
    other = _get(client, limit=5)
    assert first["planned_at"] == second["planned_at"] == other["planned_at"]
    assert _ids(other) == _ids(first) and not set(_ids(first)) & set(_ids(second))
    feed.clear_cache()


def test_the_batch_plans_everyone_active_lately(app, settings):
    users, _ = _world(n_users=6)
    idle = make_user()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["feed", "plans", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "planned 6 feeds" in result.output
    planned = set(db.session.scalars(select(FeedPlan.user_id)))
    assert planned == {u.id for u in users} and idle.id not in planned
    plan = db.session.get(FeedPlan, users[0].id)
    assert len(plan.items) >= settings.feed_page_size and plan.report["sources"]
    # Made again, not added to: running twice is running once.
    assert runner.invoke(args=["feed", "plans", "--quiet", "--user", str(idle.id)]
                         ).exit_code == 0
    assert db.session.scalar(select(func.count(FeedPlan.user_id))) == 7


BROKER = "redis://127.0.0.1:6379/13"


@pytest.mark.slow
@pytest.mark.skipif(not redis_up(BROKER), reason="no Redis at 127.0.0.1:6379")
def test_with_a_worker_an_old_plan_is_served_and_made_again_in_the_worker(
        client, settings, monkeypatch):
    users, _ = _world()
    viewer = users[0]
    first = _get(client, viewer, limit=4)
    old = utcnow() - timedelta(minutes=settings.feed_plan_refresh_minutes + 5)
    db.session.execute(update(FeedPlan).values(built_at=old))
    db.session.commit()
    with celery_worker(settings, BROKER) as broker:
        sent = []
        monkeypatch.setattr(feed, "runs_eagerly", lambda: False)
        monkeypatch.setattr(feed, "_send_refresh", lambda uid: sent.append(
            broker.send_task("app.tasks.refresh_feed_plan", args=[uid])))
        page = _get(client, viewer, limit=4, cursor=first["next_cursor"])
        # Served at once from the old plan; the worker makes the new one.
        assert page["planned_now"] is False and len(sent) == 1
        assert sent[0].get(timeout=90) == viewer.id
        db.session.expire_all()
        assert db.session.get(FeedPlan, viewer.id).built_at > old + timedelta(minutes=1)
        # A second page at once does not queue the same refresh again.
        _get(client, viewer, limit=4, cursor=page["next_cursor"])
        assert len(sent) == 1


def test_the_first_page_of_a_plan_is_the_one_page_feed(app, settings, monkeypatch):
    """The replay's numbers (one page through the pipeline) hold for what plans serve."""
    users, _ = _world()
    _train()
    monkeypatch.setattr(feed.time, "time", lambda: 1_900_000_000.0)
    monkeypatch.setattr(settings, "feed_page_size", 6)
    for user in users[:4]:
        one = [i.note_id for i in feed.run_pipeline(user.id, 6, request_id="a").items]
        plan = feed.plan(user.id)
        assert [item[0] for item in plan.items[:6]] == one
        assert len(plan.items) > 6


def test_a_broker_that_is_down_leaves_the_old_plan_serving(client, settings, monkeypatch):
    users, _ = _world()
    viewer = users[0]
    first = _get(client, viewer, limit=4)
    db.session.execute(update(FeedPlan).values(
        built_at=utcnow() - timedelta(minutes=settings.feed_plan_refresh_minutes + 5)))
    db.session.commit()

    def down(_user_id):
        raise ConnectionError("broker at redis://127.0.0.1:6399 refused the connection")

    monkeypatch.setattr(feed, "runs_eagerly", lambda: False)
    monkeypatch.setattr(feed, "_send_refresh", down)
    page = _get(client, viewer, limit=4, cursor=first["next_cursor"])
    assert page["planned_now"] is False and len(page["items"]) == 4
    assert not set(_ids(page)) & set(_ids(first))
