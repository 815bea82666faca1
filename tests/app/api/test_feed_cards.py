"""Feed cards cached per process, and the database's feed_epoch that says when to read them
again: the triggers move it on for every change that can take a card down (whatever wrote
it: a service, a bulk UPDATE, an operator in psql) and leave it for everything else."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import FeedEpoch, FeedPlan, Note, NoteProduct, Product, ProductStatus, Visibility
from app.models.base import utcnow
from app.services import notes
from tests.app.api.test_feed import _get, _ids, _world
from tests.factories import bearer, make_note, make_product, make_user


def _epoch() -> int:
    db.session.expire_all()
    return db.session.scalar(select(FeedEpoch.value).where(FeedEpoch.id == 1))


def _bumps(change) -> bool:
    before = _epoch()
    change()
    db.session.commit()
    return _epoch() > before


@pytest.fixture
def note():
    product = make_product(stock=2)
    return make_note(make_user(), title="冬季面霜", body="好用 #护肤", product_ids=[product.id])


def test_the_counter_row_exists_after_the_migrations():
    assert _epoch() is not None


@pytest.mark.parametrize("change", [
    "delete", "hide", "private", "retitle", "sold_out", "product_hidden", "untag", "tag",
    "new_cover", "delete_service"])
def test_changes_that_take_cards_down_move_the_epoch(note, change):
    product_id = db.session.scalar(select(NoteProduct.product_id)
                                   .where(NoteProduct.note_id == note.id))
    note_id, author_id = note.id, note.author_id
    actions = {
        "delete": lambda: db.session.execute(
            update(Note).where(Note.id == note_id).values(deleted_at=utcnow())),
        "hide": lambda: db.session.execute(
            update(Note).where(Note.id == note_id).values(hidden_at=utcnow())),
        "private": lambda: db.session.execute(
            update(Note).where(Note.id == note_id).values(visibility=Visibility.PRIVATE)),
        "retitle": lambda: db.session.execute(
            update(Note).where(Note.id == note_id).values(title="新标题")),
        "sold_out": lambda: db.session.execute(
            update(Product).where(Product.id == product_id).values(stock=0)),
        "product_hidden": lambda: db.session.execute(
            update(Product).where(Product.id == product_id)
            .values(status=ProductStatus.HIDDEN)),
        "untag": lambda: db.session.get(Note, note_id).set_products([]),
        "tag": lambda: db.session.get(Note, note_id).set_products(
            [db.session.get(Product, product_id), make_product()]),
        "new_cover": lambda: db.session.get(Note, note_id).set_images(
            list(reversed([ni.image for ni in db.session.get(Note, note_id).images]))
            + [db.session.get(Note, note_id).images[0].image]),
        "delete_service": lambda: notes.delete_note(author_id, note_id),
    }
    assert _bumps(actions[change])


@pytest.mark.parametrize("change", ["likes", "stock_left", "body", "new_note"])
def test_everyday_changes_leave_the_epoch_alone(note, change):
    product_id = db.session.scalar(select(NoteProduct.product_id)
                                   .where(NoteProduct.note_id == note.id))
    note_id = note.id
    actions = {
        "likes": lambda: db.session.execute(
            update(Note).where(Note.id == note_id).values(like_count=Note.like_count + 1)),
        "stock_left": lambda: db.session.execute(
            update(Product).where(Product.id == product_id).values(stock=1)),
        "body": lambda: db.session.execute(
            update(Note).where(Note.id == note_id).values(body="改过的正文")),
        "new_note": lambda: make_note(make_user()),   # no products: nothing tagged
    }
    assert not _bumps(actions[change])


def test_pages_serve_cached_cards_until_their_time_is_up(client, settings, monkeypatch):
    """Counts on cached cards are as fresh as ``feed_cache_seconds``; a like count moved by
    someone else does not make this viewer's page read the card again."""
    monkeypatch.setattr(settings, "feed_cache_seconds", 60)
    users, _ = _world()
    viewer = users[0]
    first = _get(client, viewer, limit=4)
    upcoming = [item[0] for item in db.session.get(FeedPlan, viewer.id).items][4:8]
    db.session.execute(update(Note).where(Note.id.in_(upcoming)).values(like_count=999))
    db.session.commit()
    second = _get(client, viewer, limit=4, cursor=first["next_cursor"])
    assert set(_ids(second)) == set(upcoming)
    assert all(item["note"]["counts"]["likes"] != 999 for item in second["items"])
    # Without the cache (or once it is older than feed_cache_seconds) the count is current.
    monkeypatch.setattr(settings, "feed_cache_seconds", 0)
    third = _get(client, users[2], limit=20)
    seen = {item["note"]["id"]: item["note"]["counts"]["likes"] for item in third["items"]}
    assert any(seen.get(n) == 999 for n in upcoming) or not set(seen) & set(upcoming)


def test_a_viewer_liked_flag_comes_from_the_plan(client, settings, monkeypatch):
    monkeypatch.setattr(settings, "feed_cache_seconds", 60)
    users, groups = _world()
    viewer = users[0]
    other = make_note(make_user(), title="别人的笔记", body="#护肤")
    client.post(f"/api/v1/notes/{other.id}/like", headers=bearer(viewer))
    page = _get(client, viewer, limit=30)
    liked = {item["note"]["id"]: item["note"]["liked"] for item in page["items"]}
    # A liked note may come back only when the page would be short; when it does, it says so.
    assert all(flag is (n == other.id) for n, flag in liked.items())
    # Another viewer sharing the same cached cards sees their own flags.
    page = _get(client, users[1], limit=30)
    assert not any(item["note"]["liked"] for item in page["items"])


def test_a_warmed_process_serves_the_first_pages_without_reading_cards(client, settings,
                                                                       monkeypatch):
    """``warm_cards`` (a thread of each server at its start) reads the cards of the latest
    plans' first pages into the cache: a page then serves them without reading them (a like
    count moved since does not show until ``feed_cache_seconds`` pass)."""
    from app.services import feed

    monkeypatch.setattr(settings, "feed_cache_seconds", 60)
    users, _ = _world()
    viewer = users[0]
    feed.plan(viewer.id, commit=True)
    upcoming = db.session.get(FeedPlan, viewer.id).items.ids[:4]
    feed.clear_cache()

    cached_then: list[int] = []    # what ``then`` (wsgi.py: freeze the cache) finds
    thread = feed.start_card_warmer(client.application, then=lambda: cached_then.append(
        len(client.application.extensions[feed._CACHE_KEY]["cards"])))
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert len(cached_then) == 1 and cached_then[0] >= len(upcoming)
    db.session.execute(update(Note).where(Note.id.in_(upcoming)).values(like_count=999))
    db.session.commit()
    page = _get(client, viewer, limit=4)
    assert not page["planned_now"] and _ids(page) == upcoming
    assert all(item["note"]["counts"]["likes"] != 999 for item in page["items"])

    # Without warming, the same page (the plan dated now: nothing shown since) reads the
    # cards, and the count as it is now.
    feed.clear_cache()
    db.session.execute(update(FeedPlan).values(built_at=utcnow()))
    db.session.commit()
    again = _get(client, viewer, limit=4)
    assert _ids(again) == upcoming
    assert all(item["note"]["counts"]["likes"] == 999 for item in again["items"])


def test_warming_is_off_without_a_card_cache(settings, monkeypatch):
    from flask import current_app

    from app.services import feed

    monkeypatch.setattr(settings, "feed_cache_seconds", 0)
    users, _ = _world()
    feed.plan(users[0].id, commit=True)
    assert feed.warm_cards() == 0
    monkeypatch.setattr(settings, "feed_cache_seconds", 60)
    monkeypatch.setattr(settings, "feed_warm_plans", 0)
    assert feed.warm_cards() == 0
    assert feed.start_card_warmer(current_app._get_current_object()) is None
    assert feed.warm_cards(plans=5) >= 1


def test_warming_reads_the_first_feed_warm_pages_pages_of_each_plan(settings, monkeypatch):
    """How deep into each plan the warmer reads: ``feed_warm_pages`` pages of
    ``feed_page_size`` cards (the cards the next scrolls serve), not the whole plan."""
    from app.services import feed

    monkeypatch.setattr(settings, "feed_cache_seconds", 60)
    monkeypatch.setattr(settings, "feed_page_size", 4)
    users, _ = _world()
    feed.plan(users[0].id, commit=True)
    planned = db.session.get(FeedPlan, users[0].id).items.ids
    assert len(planned) > 8
    for pages in (1, 2):
        feed.clear_cache()
        monkeypatch.setattr(settings, "feed_warm_pages", pages)
        assert feed.warm_cards() == len(set(planned[:4 * pages]))


def test_a_process_holds_the_plans_it_read_and_never_serves_one_made_over(client, settings,
                                                                          monkeypatch):
    """A page of a plan this process holds reads the plan without its items and its report
    (the database sends neither) and serves what it would have served, with the same report;
    a plan made since (a new ``built_at``) is read whole and held in its place; with
    ``feed_plan_cache`` at 0 nothing is held. On both databases (on SQLite the next page is
    not guessed: it is read with ``plan``)."""
    from app.models.feed import PlanItems
    from app.services import feed

    users, _ = _world()
    viewer, other = users[0], users[1]
    for user in (viewer, other):
        feed.plan(user.id, commit=True)
    feed.clear_cache()
    read_whole = []      # per plan read: whether the database sent the plan's items
    run = feed._run

    def counted(name, values, on=None):
        rows = run(name, values, on)
        if name in ("plan", "plan_page"):     # plan_page: the next page of a scroll
            read_whole.append(rows[0][2] is not None)
            assert (rows[0][3] is not None) == read_whole[-1]   # the report with the items
        return rows
    monkeypatch.setattr(feed, "_run", counted)

    first = _get(client, viewer, limit=4)
    assert read_whole == [True]          # not held yet: read whole, then held
    second = _get(client, viewer, limit=4, cursor=first["next_cursor"])
    assert read_whole == [True, False]   # held: the items stayed in the database
    assert second["source_reports"] == first["source_reports"] and second["source_reports"]
    assert second["removed"].keys() >= first["removed"].keys()
    planned = db.session.get(FeedPlan, viewer.id).items
    assert _ids(first) + _ids(second) == planned.ids[:8]

    # A plan made over (as a like, a new model or the nightly batch do: a new built_at),
    # here in reverse: read whole, and served from its first item (a stale plan would go on
    # from its ninth).
    remade = PlanItems(list(reversed(list(planned))))
    db.session.execute(update(FeedPlan).where(FeedPlan.user_id == viewer.id)
                       .values(built_at=utcnow(), items=remade))
    db.session.commit()
    assert len(remade) > 9 and remade.ids[0] != planned.ids[8]
    read_whole.clear()
    third = _get(client, viewer, limit=4)
    assert read_whole == [True] and _ids(third)[0] == remade.ids[0]
    fourth = _get(client, viewer, limit=4, cursor=third["next_cursor"])
    assert read_whole == [True, False]
    assert set(_ids(third) + _ids(fourth)) <= set(remade.ids[:12])

    feed.clear_cache()
    monkeypatch.setattr(settings, "feed_plan_cache", 0)
    read_whole.clear()
    page = _get(client, other, limit=4)
    _get(client, other, limit=4, cursor=page["next_cursor"])
    assert read_whole == [True, True]
    assert isinstance(db.session.get(FeedPlan, other.id).items, PlanItems)
