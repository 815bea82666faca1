"""Dropping a viewer's feed plan (``app.models.feed``) when they do something that should
change their feed: kept apart from ``app.services.feed`` so the services that call it (likes,
saves, follows, blocks, topics) need not import the feed pipeline."""

from __future__ import annotations

from sqlalchemy import delete

from app.extensions import db
from app.models import FeedPlan


def forget(*user_ids: int) -> None:
    """Drop these viewers' plans in the caller's transaction: their next page is planned
    again, with what they just did."""
    db.session.execute(delete(FeedPlan).where(FeedPlan.user_id.in_(user_ids)))
