"""The personalised feed, related notes and onboarding topics over the API."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, current_app, request, url_for
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.api.schemas import NoteOut
from app.api.security import bearer_claims, caller, caller_id
from app.errors import ValidationFailed
from app.services import feed, topics

bp = Blueprint("api_feed", __name__, url_prefix="/api/v1", description="Feed")


class FeedArgs(Schema):
    cursor = fields.String(load_default=None, validate=validate.Length(max=16384),
                           metadata={"description": "Opaque cursor from the previous page"})
    limit = fields.Integer(load_default=None, validate=validate.Range(1, 50))


class ReasonOut(Schema):
    code = fields.String(metadata={"description": "similar_taste, because_liked, following, "
                                                  "trending_topic, trending, topic, new, latest"})
    text_zh = fields.String()
    text_en = fields.String()
    params = fields.Dict()


class CardImageOut(Schema):
    url = fields.String()
    thumb_url = fields.String()
    width = fields.Integer()
    height = fields.Integer()


class CardAuthorOut(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    avatar_url = fields.String(allow_none=True)


class NoteCardOut(Schema):
    """What a feed card shows; the whole note is ``GET /api/v1/notes/{id}``."""

    id = fields.Integer()
    title = fields.String()
    author = fields.Nested(CardAuthorOut)
    cover = fields.Nested(CardImageOut, allow_none=True)
    visibility = fields.String()
    counts = fields.Dict(metadata={"description": "likes, saves, comments"})
    liked = fields.Boolean(metadata={"description": "you liked it"})
    url = fields.String()
    created_at = fields.DateTime()


class FeedItemOut(Schema):
    note = fields.Nested(NoteCardOut)
    reason = fields.Nested(ReasonOut)
    source = fields.String(metadata={"description": "the source that weighed most"})
    sources = fields.List(fields.String())
    score = fields.Float()
    position = fields.Integer(metadata={"description": "slot in this feed session, from 0"})


class SourceReportOut(Schema):
    name = fields.String()
    status = fields.String(metadata={"description": "ok, empty, error, timeout or skipped"})
    candidates = fields.Integer()
    ms = fields.Float()


class FeedOut(Schema):
    items = fields.List(fields.Nested(FeedItemOut))
    request_id = fields.String(metadata={"description": "send back with clicks as "
                                                        "feed_request_id"})
    model_id = fields.String(allow_none=True)
    sources = fields.List(fields.String(), metadata={"description": "sources that served"})
    source_reports = fields.List(fields.Nested(SourceReportOut))
    removed = fields.Dict(metadata={"description": "filter name -> notes it removed"})
    next_cursor = fields.String(allow_none=True)
    planned_at = fields.DateTime(allow_none=True, metadata={
        "description": "when the pipeline ran for these pages (the feed plan)"})
    planned_now = fields.Boolean(metadata={"description": "the plan was made on this request"})


class RelatedArgs(Schema):
    limit = fields.Integer(load_default=8, validate=validate.Range(1, 30))


class TopicsIn(Schema):
    topics = fields.List(fields.String(validate=validate.Length(1, 41)), required=True,
                         metadata={"description": "hashtags, with or without #"})


class TopicsOut(Schema):
    topics = fields.List(fields.String())


def _feed_args() -> tuple[str | None, int | None]:
    """``FeedArgs`` read by hand (webargs cost a tenth of a page); the same rules and the
    same 422 answer."""
    bad: dict[str, str] = {}
    cursor = request.args.get("cursor") or None
    if cursor is not None and len(cursor) > 16384:
        bad["cursor"] = "Longer than maximum length 16384."
    limit: int | None = None
    raw = request.args.get("limit")
    if raw not in (None, ""):
        try:
            limit = int(raw)
        except ValueError:
            bad["limit"] = "Not a valid integer."
        else:
            if not 1 <= limit <= 50:
                bad["limit"] = "Must be greater than or equal to 1 and less than or equal to 50."
    if bad:
        raise ValidationFailed(bad)
    return cursor, limit


@bp.get("/feed")
@bp.doc(parameters=[{"in": "query", "schema": FeedArgs}])
@bp.response(200, FeedOut)
def get_feed():
    """Your feed (发现): a page of notes with the reason for each; pass ``next_cursor`` for
    the next page, which never repeats an earlier one. Visitors get trending and new notes."""
    cursor, limit = _feed_args()
    claims = bearer_claims()
    if claims is not None:
        # The token's revocation and account checks ride on the page's plan read.
        page = feed.build_feed(int(claims["sub"]), cursor, limit, token_id=claims["jti"])
    else:
        page = feed.build_feed(caller_id(required=False), cursor, limit)
    # Written by hand rather than dumped through FeedOut, and encoded with orjson: this is the
    # hottest response of the app (marshmallow took longer than serving the page, json.dumps
    # a sixth of it). tests/app/api/test_feed.py checks that it loads through FeedOut, so the
    # two cannot drift apart.
    return Response(orjson.dumps(page_json(page)), mimetype="application/json")


def _image(image: Any, media: str) -> dict[str, Any] | None:
    if image is None:
        return None
    return {"url": media + image.path, "thumb_url": media + image.thumb_path,
            "width": image.width, "height": image.height}


_JSON_KEY = "zhongcao.feed_json"
_CARD_JSON_MAX = 100_000


def _json_cache() -> dict[str, Any]:
    """This app's cache of what every page repeats: the URL prefixes (``url_for`` is slow and
    gives the same answer for every page under the same script root) and each card's JSON."""
    return current_app.extensions.setdefault(_JSON_KEY, {"prefixes": {}, "cards": {}})


def _prefixes(cache: dict[str, Any]) -> tuple[str, str]:
    root = request.script_root
    hit = cache["prefixes"].get(root)
    if hit is None:
        hit = cache["prefixes"][root] = (url_for("media.file", path="_")[:-1],
                                         url_for("web.note", note_id=0)[:-1])
    return hit


def _card_json(card: feed.Card, media: str, note_url: str) -> dict[str, Any]:
    author = card.author
    return {
        "id": card.id, "title": card.title,
        "author": {"id": author.id, "username": author.username,
                   "display_name": author.display_name,
                   "avatar_url": media + author.avatar.thumb_path if author.avatar else None},
        "cover": _image(card.cover, media),
        "visibility": card.visibility.value,
        "counts": {"likes": card.like_count, "saves": card.save_count,
                   "comments": card.comment_count},
        "liked": card.liked, "url": f"{note_url}{card.id}",
        "created_at": card.created_at.isoformat()}


def _card_fragment(cache: dict[str, Any], card: feed.Card, media: str, note_url: str
                   ) -> orjson.Fragment:
    """A card's JSON, made once per card object: the feed's card cache hands out the same
    (immutable) objects page after page until the card changes, so the object is the key.
    The entry holds the card, so its id is not reused while the entry lives."""
    cards = cache["cards"]
    hit = cards.get(id(card))
    if hit is not None and hit[0] is card and hit[1] == media:
        return hit[2]
    fragment = orjson.Fragment(orjson.dumps(_card_json(card, media, note_url)))
    if len(cards) >= _CARD_JSON_MAX:
        cards.clear()
    cards[id(card)] = (card, media, fragment)
    return fragment


def page_json(page: feed.FeedPage) -> dict[str, Any]:
    """The page as the API answers it (``FeedOut``): plain values, and each card as JSON
    made once (``orjson.Fragment``, written into the answer as it is)."""
    cache = _json_cache()
    media, note_url = _prefixes(cache)
    items = [{"note": _card_fragment(cache, entry.note, media, note_url),
              "reason": entry.reason, "source": entry.source, "sources": entry.sources,
              "score": entry.score, "position": entry.position}
             for entry in page.items]
    return {
        "items": items, "request_id": page.request_id, "model_id": page.model_id,
        "sources": page.sources,
        "source_reports": [{"name": r.name, "status": r.status, "candidates": r.candidates,
                            "ms": r.ms} for r in page.source_reports],
        "removed": page.removed, "next_cursor": page.next_cursor,
        "planned_at": page.planned_at.isoformat() if page.planned_at else None,
        "planned_now": page.planned_now}


@bp.get("/notes/<int:note_id>/related")
@bp.arguments(RelatedArgs, location="query")
@bp.response(200, NoteOut(many=True))
def related(args: dict, note_id: int):
    """Notes like this one (the model's similar notes, else more-like-this)."""
    return feed.related(note_id, caller_id(required=False), args["limit"])


@bp.get("/me/topics")
@bp.response(200, TopicsOut)
def my_topics():
    """The topics you picked."""
    return {"topics": topics.get_topics(caller().id)}


@bp.put("/me/topics")
@bp.arguments(TopicsIn)
@bp.response(200, TopicsOut)
def set_my_topics(data: dict):
    """Pick your topics (at sign-up or later): replaces the previous picks."""
    return {"topics": topics.set_topics(caller().id, data["topics"])}
