"""The social graph: follow, unfollow, block, unblock, and the lists people see."""

from __future__ import annotations

from sqlalchemy import Select, and_, delete, func, or_, select, union

from app.errors import Conflict, ErrorCode, NotFound, ZhongcaoError
from app.extensions import db
from app.models import Block, Follow, NotificationKind, User
from app.pagination import Page, decode_cursor, encode_cursor
from app.services import feed_plans, notifications
from app.services.accounts import get_user_by_username


def follows(follower_id: int, followee_id: int) -> bool:
    return db.session.get(Follow, (follower_id, followee_id)) is not None


def blocked_either_way(user_id: int) -> Select:
    """Ids of users ``user_id`` blocked or was blocked by, as a subquery."""
    return union(select(Block.blocked_id).where(Block.blocker_id == user_id),
                 select(Block.blocker_id).where(Block.blocked_id == user_id)).subquery().select()


def is_blocked_between(a: int, b: int) -> bool:
    stmt = select(Block.blocker_id).where(or_(
        and_(Block.blocker_id == a, Block.blocked_id == b),
        and_(Block.blocker_id == b, Block.blocked_id == a))).limit(1)
    return db.session.scalar(stmt) is not None


def follow_user(follower_id: int, username: str) -> bool:
    """Follow someone; following again is harmless. Returns whether a follow was added.

    Raises:
        NotFound: no such user.
        ZhongcaoError(cannot_follow_self, 422): following yourself.
        Conflict(blocked): one of you blocked the other.
    """
    followee = get_user_by_username(username)
    if followee.id == follower_id:
        raise ZhongcaoError(ErrorCode.CANNOT_FOLLOW_SELF, "You can't follow yourself", 422)
    if is_blocked_between(follower_id, followee.id):
        raise Conflict(ErrorCode.BLOCKED, "You can't follow this user")
    if follows(follower_id, followee.id):
        return False
    db.session.add(Follow(follower_id=follower_id, followee_id=followee.id))
    feed_plans.forget(follower_id)
    notifications.notify(followee.id, follower_id, NotificationKind.FOLLOW)
    db.session.commit()
    return True


def unfollow_user(follower_id: int, username: str) -> None:
    """Stop following; harmless when not following. Raises: NotFound."""
    followee = get_user_by_username(username)
    db.session.execute(delete(Follow).where(Follow.follower_id == follower_id,
                                            Follow.followee_id == followee.id))
    feed_plans.forget(follower_id)
    db.session.commit()


def block_user(blocker_id: int, username: str) -> None:
    """Block someone: follows both ways end, and neither sees or reaches the other.

    Raises: NotFound, ZhongcaoError(cannot_block_self, 422).
    """
    blocked = get_user_by_username(username)
    if blocked.id == blocker_id:
        raise ZhongcaoError(ErrorCode.CANNOT_BLOCK_SELF, "You can't block yourself", 422)
    if db.session.get(Block, (blocker_id, blocked.id)) is None:
        db.session.add(Block(blocker_id=blocker_id, blocked_id=blocked.id))
    db.session.execute(delete(Follow).where(or_(
        and_(Follow.follower_id == blocker_id, Follow.followee_id == blocked.id),
        and_(Follow.follower_id == blocked.id, Follow.followee_id == blocker_id))))
    feed_plans.forget(blocker_id, blocked.id)
    db.session.commit()


def unblock_user(blocker_id: int, username: str) -> None:
    """Lift a block (follows are not restored). Raises: NotFound."""
    blocked = get_user_by_username(username)
    db.session.execute(delete(Block).where(Block.blocker_id == blocker_id,
                                           Block.blocked_id == blocked.id))
    feed_plans.forget(blocker_id, blocked.id)
    db.session.commit()


def _user_page(stmt: Select, kind: str, order_col, cursor: str | None, limit: int) -> Page[User]:
    after = decode_cursor(kind, cursor)
    if after is not None:
        stmt = stmt.where(order_col < after)
    rows = db.session.execute(stmt.order_by(order_col.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(kind, rows[-1][1]) if more else None
    return Page([r[0] for r in rows], next_cursor)


def list_followers(username: str, viewer_id: int | None = None, cursor: str | None = None,
                   limit: int = 20) -> Page[User]:
    """Who follows ``username``, most recent first. Raises: NotFound, invalid_cursor."""
    user = get_user_by_username(username)
    _check_not_blocked(user.id, viewer_id)
    # Follow rows are keyed by pair; the follower's id orders ties deterministically enough
    # for a cursor because (followee, follower) is unique.
    stmt = (select(User, Follow.follower_id).join(Follow, Follow.follower_id == User.id)
            .where(Follow.followee_id == user.id, User.is_active.is_(True)))
    return _user_page(stmt, f"followers:{user.id}", Follow.follower_id, cursor, limit)


def list_following(username: str, viewer_id: int | None = None, cursor: str | None = None,
                   limit: int = 20) -> Page[User]:
    """Whom ``username`` follows. Raises: NotFound, invalid_cursor."""
    user = get_user_by_username(username)
    _check_not_blocked(user.id, viewer_id)
    stmt = (select(User, Follow.followee_id).join(Follow, Follow.followee_id == User.id)
            .where(Follow.follower_id == user.id, User.is_active.is_(True)))
    return _user_page(stmt, f"following:{user.id}", Follow.followee_id, cursor, limit)


def _check_not_blocked(user_id: int, viewer_id: int | None) -> None:
    if viewer_id is not None and viewer_id != user_id and is_blocked_between(user_id, viewer_id):
        raise NotFound("User", user_id=user_id)


def relationship(viewer_id: int | None, user_id: int) -> dict[str, bool]:
    """How the viewer stands to a user, for profile pages and buttons."""
    if viewer_id is None or viewer_id == user_id:
        return {"is_following": False, "is_followed_by": False, "is_blocked": False}
    return {"is_following": follows(viewer_id, user_id),
            "is_followed_by": follows(user_id, viewer_id),
            "is_blocked": db.session.get(Block, (viewer_id, user_id)) is not None}


def follower_counts(user_id: int) -> dict[str, int]:
    followers = db.session.scalar(select(func.count()).where(Follow.followee_id == user_id))
    following = db.session.scalar(select(func.count()).where(Follow.follower_id == user_id))
    return {"followers": followers or 0, "following": following or 0}


