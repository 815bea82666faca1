"""Onboarding topics: the hashtags a person picked at sign-up, which the feed's "topics"
source ranks popular notes in (until a topic model exists, a topic is a hashtag)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.errors import ValidationFailed
from app.extensions import db
from app.models import Hashtag, UserTopic
from app.services import feed_plans
from app.services.text import MAX_HASHTAG_LENGTH, normalize_hashtag

MAX_TOPICS = 20


def get_topics(user_id: int) -> list[str]:
    """The user's topics as hashtags (display form), alphabetical."""
    return list(db.session.scalars(
        select(Hashtag.display).join(UserTopic, UserTopic.hashtag_id == Hashtag.id)
        .where(UserTopic.user_id == user_id).order_by(Hashtag.display)))


def _hashtag(display: str) -> Hashtag:
    name = normalize_hashtag(display)
    tag = db.session.scalar(select(Hashtag).where(Hashtag.name == name))
    if tag is None:
        try:
            with db.session.begin_nested():
                tag = Hashtag(name=name, display=display.lstrip("#＃"))
                db.session.add(tag)
        except IntegrityError:
            tag = db.session.scalar(select(Hashtag).where(Hashtag.name == name))
    assert tag is not None
    return tag


def set_topics(user_id: int, topics: list[str]) -> list[str]:
    """Replace the user's topics with ``topics`` (hashtags, with or without '#').

    Raises: ValidationFailed (too many, empty or too long).
    """
    cleaned = list(dict.fromkeys(t.strip().lstrip("#＃") for t in topics))
    bad = {}
    if len(cleaned) > MAX_TOPICS:
        bad["topics"] = f"at most {MAX_TOPICS} topics"
    for i, topic in enumerate(cleaned):
        if not topic or len(topic) > MAX_HASHTAG_LENGTH or not normalize_hashtag(topic):
            bad[f"topics.{i}"] = f"1 to {MAX_HASHTAG_LENGTH} characters"
    if bad:
        raise ValidationFailed(bad)
    tags = {tag.id: tag for tag in (_hashtag(t) for t in cleaned)}
    db.session.execute(delete(UserTopic).where(UserTopic.user_id == user_id))
    db.session.add_all(UserTopic(user_id=user_id, hashtag_id=tag_id) for tag_id in tags)
    feed_plans.forget(user_id)
    db.session.commit()
    return get_topics(user_id)
