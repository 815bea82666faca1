"""A scroll's next page in one round trip (PostgreSQL): worked out before anything is read
(``feed._guess``: the held plan, the cursor's served positions, the cached cards) and written
by the plan read itself (``plan_page``) when what it assumed still holds; when it does not
(a page from another device or tab, a plan made over, a card taken down, a revoked token),
nothing is written by that read and the page is worked out from it as before. Either way the
page is the one the two-statement path serves."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from app.extensions import db
from app.models import FeedImpressionPage, FeedPlan, Note
from app.models.base import utcnow
from app.models.feed import PlanItems
from app.services import feed, impressions
from tests.app.api.test_feed import _get, _ids, _world
from tests.factories import bearer


@pytest.fixture(autouse=True)
def _postgresql_and_cards(settings, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("plans are held, and pages guessed, on PostgreSQL only")
    monkeypatch.setattr(settings, "feed_cache_seconds", 60)


@pytest.fixture
def trips(monkeypatch):
    """Per page: which plan read ran and whether it wrote the page, and how many pages
    ``impressions.log_page`` wrote after it ("plan", 0, 1: two round trips; "plan_page",
    1, 0: one)."""
    seen: list[list] = []
    run, log_page = feed._run, impressions.log_page

    def counted_run(name, values, on=None):
        rows = run(name, values, on)
        if name in ("plan", "plan_page"):
            seen.append([name, rows[0][9] if name == "plan_page" else 0, 0])
        return rows

    def counted_log(*args, **kwargs):
        seen[-1][2] += 1
        return log_page(*args, **kwargs)
    monkeypatch.setattr(feed, "_run", counted_run)
    monkeypatch.setattr(impressions, "log_page", counted_log)
    return seen


def _scroll(client, user, pages: int, limit: int = 4) -> list[list[int]]:
    out, cursor = [], None
    for _ in range(pages):
        page = _get(client, user, limit=limit, **({"cursor": cursor} if cursor else {}))
        out.append(_ids(page))
        cursor = page["next_cursor"]
    return out


def _pages(user) -> list[tuple[int, str]]:
    db.session.expire_all()
    return [(p.first_position, p.note_ids) for p in db.session.scalars(
        select(FeedImpressionPage).where(FeedImpressionPage.user_id == user.id)
        .order_by(FeedImpressionPage.id))]


def test_a_scrolls_next_pages_are_written_by_their_plan_read(client, trips, monkeypatch):
    users, _ = _world()
    viewer = users[0]
    feed.plan(viewer.id, commit=True)
    planned = db.session.get(FeedPlan, viewer.id).items.ids
    assert len(planned) >= 16
    guessed = _scroll(client, viewer, 4)
    assert trips == [["plan", 0, 1]] + [["plan_page", 1, 0]] * 3
    # Every author here has one note (no cap): the plan in order, never repeated, each page
    # logged once at its position.
    assert sum(guessed, []) == planned[:16]
    assert _pages(viewer) == [(4 * i, ",".join(map(str, planned[4 * i:4 * i + 4])))
                              for i in range(4)]
    assert impressions.uncounted_pages() == 4

    # The same scroll worked out the old way (no guesses), from the same state: the same pages.
    db.session.execute(delete(FeedImpressionPage))
    db.session.commit()
    feed.clear_cache()
    monkeypatch.setattr(feed, "_guess", lambda *args: None)
    trips.clear()
    assert _scroll(client, viewer, 4) == guessed
    assert trips == [["plan", 0, 1]] * 4


def test_a_page_from_another_device_makes_the_guess_miss(client, trips):
    users, _ = _world()
    viewer = users[0]
    feed.plan(viewer.id, commit=True)
    first = _get(client, viewer, limit=4)
    elsewhere = _get(client, viewer, limit=4)        # a second scroll (another phone)
    trips.clear()
    second = _get(client, viewer, limit=4, cursor=first["next_cursor"])
    assert trips == [["plan_page", 0, 1]]            # guessed, missed, logged as before
    assert not set(_ids(second)) & set(_ids(first) + _ids(elsewhere))
    assert len(_ids(second)) == 4
    third = _get(client, viewer, limit=4, cursor=second["next_cursor"])
    assert trips[-1] == ["plan_page", 1, 0]          # nothing since: guessed again
    assert not set(_ids(third)) & set(_ids(first) + _ids(elsewhere) + _ids(second))
    # The other scroll goes on without repeating what this one served since.
    later = _get(client, viewer, limit=4, cursor=elsewhere["next_cursor"])
    assert trips[-1] == ["plan_page", 0, 1]
    assert not set(_ids(later)) & set(_ids(first) + _ids(elsewhere) + _ids(second)
                                      + _ids(third))


def test_a_plan_made_over_makes_the_guess_miss(client, trips):
    users, _ = _world()
    viewer = users[0]
    feed.plan(viewer.id, commit=True)
    first = _get(client, viewer, limit=4)
    planned = db.session.get(FeedPlan, viewer.id).items
    remade = PlanItems(list(reversed(list(planned))))
    db.session.execute(update(FeedPlan).where(FeedPlan.user_id == viewer.id)
                       .values(built_at=utcnow(), items=remade))
    db.session.commit()
    trips.clear()
    second = _get(client, viewer, limit=4, cursor=first["next_cursor"])
    assert trips == [["plan_page", 0, 1]]
    assert _ids(second) == [n for n in remade.ids if n not in _ids(first)][:4]
    third = _get(client, viewer, limit=4, cursor=second["next_cursor"])
    assert trips[-1] == ["plan_page", 1, 0]
    assert _ids(third) == [n for n in remade.ids if n not in _ids(first) + _ids(second)][:4]


def test_a_card_taken_down_makes_the_guess_miss(client, trips):
    users, _ = _world()
    viewer = users[0]
    feed.plan(viewer.id, commit=True)
    planned = db.session.get(FeedPlan, viewer.id).items.ids
    first = _get(client, viewer, limit=4)
    assert _ids(first) == planned[:4]
    db.session.execute(update(Note).where(Note.id == planned[5]).values(hidden_at=utcnow()))
    db.session.commit()                 # the card stays cached; the epoch moves on
    trips.clear()
    second = _get(client, viewer, limit=4, cursor=first["next_cursor"])
    assert trips == [["plan_page", 0, 1]]
    assert _ids(second) == [planned[4]] + planned[6:9]
    third = _get(client, viewer, limit=4, cursor=second["next_cursor"])
    assert trips[-1] == ["plan_page", 1, 0] and _ids(third) == planned[9:13]


@pytest.mark.parametrize("page", ["next", "first"])
def test_a_revoked_token_gets_no_guessed_page(client, trips, page):
    """A scroll's next page, and a first page guessed from a held plan not served from."""
    users, _ = _world()
    viewer = users[0]
    feed.plan(viewer.id, commit=True)
    headers = bearer(viewer)
    query = {"limit": 4}
    if page == "next":
        query["cursor"] = client.get("/api/v1/feed?limit=4", headers=headers).json[
            "next_cursor"]
    else:
        feed.warm_cards()               # holds the plan, serves nothing
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    trips.clear()
    resp = client.get("/api/v1/feed", headers=headers, query_string=query)
    assert resp.status_code == 401 and resp.json["error"]["code"] == "token_revoked"
    assert trips == [["plan_page", 0, 0]]
    assert len(_pages(viewer)) == (1 if page == "next" else 0)


def test_no_guess_without_the_held_plan(client, trips, settings, monkeypatch):
    """A process that does not hold the plan (another server, or it was dropped) reads the
    plan as before; the next page is guessed. Cards not cached are read by the guess (the
    page then takes two round trips, not three)."""
    users, _ = _world()
    viewer = users[0]
    feed.plan(viewer.id, commit=True)
    first = _get(client, viewer, limit=4)
    feed.clear_cache()
    trips.clear()
    second = _get(client, viewer, limit=4, cursor=first["next_cursor"])
    third = _get(client, viewer, limit=4, cursor=second["next_cursor"])
    assert trips == [["plan", 0, 1], ["plan_page", 1, 0]]
    monkeypatch.setattr(settings, "feed_cache_seconds", 0)
    fourth = _get(client, viewer, limit=4, cursor=third["next_cursor"])
    assert trips[-1] == ["plan_page", 1, 0]
    assert len(set(sum((_ids(p) for p in (first, second, third, fourth)), []))) == 16


def test_a_scrolls_first_page_is_guessed_from_a_held_plan_not_served_from(client, trips):
    """The first look after the nightly plans: this process holds the plan (the card warmer
    holds the latest) and has served none of it, so the first page is worked out ahead too
    and written by its plan read. A second scroll from the same plan is not guessed (this
    process served from it) and repeats nothing."""
    users, _ = _world()
    viewer = users[0]
    feed.plan(viewer.id, commit=True)
    planned = db.session.get(FeedPlan, viewer.id).items.ids
    feed.warm_cards()                               # holds the plan, serves nothing
    assert _scroll(client, viewer, 3) == [planned[0:4], planned[4:8], planned[8:12]]
    assert trips == [["plan_page", 1, 0]] * 3
    assert _pages(viewer) == [(4 * i, ",".join(map(str, planned[4 * i:4 * i + 4])))
                              for i in range(3)]
    trips.clear()
    again = _scroll(client, viewer, 2)
    assert trips == [["plan", 0, 1], ["plan_page", 1, 0]]
    assert again == [planned[12:16], planned[16:20]]


def test_a_first_page_served_elsewhere_makes_the_guess_miss(client, trips):
    """Another server or device served from the plan first: the first page's guess (nothing
    served yet) misses, nothing is written by the read, and the page leaves out what was
    served."""
    users, _ = _world()
    viewer = users[0]
    feed.plan(viewer.id, commit=True)
    planned = db.session.get(FeedPlan, viewer.id).items.ids
    feed.warm_cards()
    db.session.add(FeedImpressionPage(user_id=viewer.id, request_id="elsewhere",
                                      first_position=0, note_ids=",".join(map(str, planned[:4])),
                                      at=utcnow()))
    db.session.commit()
    first = _get(client, viewer, limit=4)
    assert trips == [["plan_page", 0, 1]]
    assert _ids(first) == planned[4:8]
    second = _get(client, viewer, limit=4, cursor=first["next_cursor"])
    assert trips[-1] == ["plan_page", 1, 0] and _ids(second) == planned[8:12]
