"""Reactions to notes: like, save into collections, comment and reply, "not interested".

Every reaction is idempotent (liking twice leaves one like), updates its counter on the note
in the same transaction, appends to the interactions log and notifies the note's author.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

import nh3
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from app.errors import Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.models import (
    Collection,
    Comment,
    InteractionKind,
    Like,
    Note,
    NotificationKind,
    NotInterested,
    Save,
)
from app.models.base import utcnow
from app.pagination import Page, decode_cursor, page_of
from app.services import feed_plans, interactions, notifications, outbox
from app.services.notes import can_view

COMMENT_MAX = 1000
COLLECTION_NAME_MAX = 40
DEFAULT_COLLECTION = "默认收藏夹"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def actionable_note(note_id: int, user_id: int) -> Note:
    """A note the user may act on: visible to them and not hidden by moderation.

    Raises:
        NotFound: deleted, private to someone else, followers-only, hidden, or the author and
            the user blocked one another (all look the same from outside).
    """
    note = db.session.get(Note, note_id)
    if note is None or not can_view(note, user_id) or note.is_hidden:
        raise NotFound("Note", note_id=note_id)
    return note


def _insert_once(row: object) -> bool:
    """Add a row whose primary key makes it unique; False if it already existed."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
        return True
    except IntegrityError:
        return False


# -- likes ----------------------------------------------------------------------------------

def like_note(user_id: int, note_id: int) -> Note:
    """Like a note; liking again changes nothing. Raises: NotFound."""
    note = actionable_note(note_id, user_id)
    if db.session.get(Like, (user_id, note_id)) is None and _insert_once(
            Like(user_id=user_id, note_id=note_id)):
        interactions.bump(note_id, "like_count", 1)
        interactions.record(user_id, note_id, InteractionKind.LIKE)
        outbox.mark_stale("note", note_id)  # search sorts by likes
        feed_plans.forget(user_id)
        notifications.notify(note.author_id, user_id, NotificationKind.LIKE, note_id=note_id)
    db.session.commit()
    db.session.refresh(note)
    return note


def unlike_note(user_id: int, note_id: int) -> Note:
    """Take a like back; harmless when there is none. Raises: NotFound."""
    note = actionable_note(note_id, user_id)
    removed = db.session.execute(delete(Like).where(Like.user_id == user_id,
                                                    Like.note_id == note_id)).rowcount
    if removed:
        interactions.bump(note_id, "like_count", -removed)
        outbox.mark_stale("note", note_id)
        feed_plans.forget(user_id)
    db.session.commit()
    db.session.refresh(note)
    return note


# -- collections and saves ------------------------------------------------------------------

def _clean_name(name: str) -> str:
    name = unicodedata.normalize("NFC", _CONTROL.sub("", name or "")).strip()
    if not 1 <= len(name) <= COLLECTION_NAME_MAX:
        raise ValidationFailed({"name": f"1 to {COLLECTION_NAME_MAX} characters"})
    return name


def default_collection(user_id: int) -> Collection:
    """The user's default collection, made on first use (flushes only)."""
    found = db.session.scalar(select(Collection).where(Collection.owner_id == user_id,
                                                       Collection.is_default.is_(True)))
    if found is None:
        found = Collection(owner_id=user_id, name=DEFAULT_COLLECTION, is_default=True)
        if not _insert_once(found):
            found = db.session.scalar(select(Collection).where(Collection.owner_id == user_id,
                                                               Collection.is_default.is_(True)))
    return found  # type: ignore[return-value]


def create_collection(user_id: int, name: str) -> Collection:
    """A new named collection; an existing one of that name is returned as it is.

    Raises: ValidationFailed.
    """
    name = _clean_name(name)
    existing = db.session.scalar(select(Collection).where(Collection.owner_id == user_id,
                                                          Collection.name == name))
    if existing is not None:
        return existing
    collection = Collection(owner_id=user_id, name=name)
    db.session.add(collection)
    db.session.commit()
    return collection


def list_collections(user_id: int) -> list[tuple[Collection, int]]:
    """The user's collections with how many notes each holds, default first."""
    default_collection(user_id)
    db.session.commit()
    rows = db.session.execute(
        select(Collection, func.count(Save.note_id))
        .outerjoin(Save, Save.collection_id == Collection.id)
        .where(Collection.owner_id == user_id)
        .group_by(Collection.id)
        .order_by(Collection.is_default.desc(), Collection.id))
    return [(c, n) for c, n in rows.all()]


def save_note(user_id: int, note_id: int, collection_id: int | None = None) -> Note:
    """Save a note into a collection (the default one unless named); saving it again moves it.

    Raises: NotFound (note, or a collection that is not the user's).
    """
    note = actionable_note(note_id, user_id)
    if collection_id is None:
        collection = default_collection(user_id)
    else:
        collection = db.session.get(Collection, collection_id)
        if collection is None or collection.owner_id != user_id:
            raise NotFound("Collection", collection_id=collection_id)
    existing = db.session.get(Save, (user_id, note_id))
    if existing is not None:
        existing.collection_id = collection.id
    elif _insert_once(Save(user_id=user_id, note_id=note_id, collection_id=collection.id)):
        interactions.bump(note_id, "save_count", 1)
        interactions.record(user_id, note_id, InteractionKind.SAVE)
        feed_plans.forget(user_id)
        notifications.notify(note.author_id, user_id, NotificationKind.SAVE, note_id=note_id)
    db.session.commit()
    db.session.refresh(note)
    return note


def unsave_note(user_id: int, note_id: int) -> Note:
    """Remove a note from the user's saves; harmless when not saved. Raises: NotFound."""
    note = actionable_note(note_id, user_id)
    removed = db.session.execute(delete(Save).where(Save.user_id == user_id,
                                                    Save.note_id == note_id)).rowcount
    if removed:
        interactions.bump(note_id, "save_count", -removed)
        feed_plans.forget(user_id)
    db.session.commit()
    db.session.refresh(note)
    return note


def list_collection_notes(user_id: int, collection_id: int, cursor: str | None = None,
                          limit: int = 20) -> Page[Note]:
    """Notes in one of the user's collections, most recently saved first, still readable.

    Raises: NotFound, ZhongcaoError(invalid_cursor).
    """
    from app.services.notes import visible_to

    collection = db.session.get(Collection, collection_id)
    if collection is None or collection.owner_id != user_id:
        raise NotFound("Collection", collection_id=collection_id)
    kind = f"collection:{collection_id}"
    after = decode_cursor(kind, cursor)
    stmt = (select(Note).join(Save, Save.note_id == Note.id)
            .where(Save.collection_id == collection_id, Save.user_id == user_id,
                   visible_to(user_id)))
    if after is not None:
        stmt = stmt.where(Note.id < int(after))
    rows = list(db.session.scalars(stmt.order_by(Note.id.desc()).limit(limit + 1)).unique())
    return page_of(kind, rows, limit, lambda n: n.id)


def reaction_state(user_id: int | None, note_ids: list[int]) -> dict[int, dict[str, bool]]:
    """For each note, whether the user liked and saved it (for buttons)."""
    state = {nid: {"liked": False, "saved": False} for nid in note_ids}
    if user_id is None or not note_ids:
        return state
    for (nid,) in db.session.execute(select(Like.note_id).where(
            Like.user_id == user_id, Like.note_id.in_(note_ids))):
        state[nid]["liked"] = True
    for (nid,) in db.session.execute(select(Save.note_id).where(
            Save.user_id == user_id, Save.note_id.in_(note_ids))):
        state[nid]["saved"] = True
    return state


# -- comments -------------------------------------------------------------------------------

def clean_comment(body: str) -> str:
    """Plain text, as typed, minus markup and invisible control characters.

    nh3 strips any HTML (a comment is text, never markup); unescaping its output gives back
    the characters people typed ("1 < 2"), which pages escape when they render them.
    """
    text = html.unescape(nh3.clean(body or "", tags=set()))
    text = _CONTROL.sub("", unicodedata.normalize("NFC", text)).replace("\r\n", "\n")
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


@dataclass(frozen=True, slots=True)
class CommentDraft:
    body: str
    parent_id: int | None = None


def add_comment(user_id: int, note_id: int, draft: CommentDraft) -> Comment:
    """Comment on a note, or reply to a comment (replies stay one level deep).

    Raises: NotFound (note or parent), ValidationFailed (empty or too long).
    """
    note = actionable_note(note_id, user_id)
    body = clean_comment(draft.body)
    if not 1 <= len(body) <= COMMENT_MAX:
        raise ValidationFailed({"body": f"1 to {COMMENT_MAX} characters of text"})
    parent = None
    if draft.parent_id is not None:
        parent = db.session.get(Comment, draft.parent_id)
        if parent is None or parent.note_id != note_id or parent.deleted_at is not None:
            raise NotFound("Comment", comment_id=draft.parent_id)
        if parent.parent_id is not None:  # a reply to a reply joins the same thread
            parent = db.session.get(Comment, parent.parent_id)
    comment = Comment(note_id=note_id, author_id=user_id, body=body,
                      parent_id=parent.id if parent else None)
    db.session.add(comment)
    db.session.flush()
    interactions.bump(note_id, "comment_count", 1)
    interactions.record(user_id, note_id, InteractionKind.COMMENT)
    if parent is not None:
        notifications.notify(parent.author_id, user_id, NotificationKind.REPLY,
                             note_id=note_id, comment_id=comment.id)
    if parent is None or parent.author_id != note.author_id:
        notifications.notify(note.author_id, user_id, NotificationKind.COMMENT,
                             note_id=note_id, comment_id=comment.id)
    db.session.commit()
    return comment


def delete_comment(user_id: int, comment_id: int) -> None:
    """Delete a comment: its author may, and so may the note's author.

    Raises: NotFound, Forbidden.
    """
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.deleted_at is not None:
        raise NotFound("Comment", comment_id=comment_id)
    note = db.session.get(Note, comment.note_id)
    if note is None or note.is_deleted:
        raise NotFound("Comment", comment_id=comment_id)
    if user_id not in (comment.author_id, note.author_id):
        raise Forbidden("Only the comment's author or the note's author can delete it")
    comment.deleted_at = utcnow()
    interactions.bump(note.id, "comment_count", -1)
    db.session.commit()


@dataclass(frozen=True, slots=True)
class CommentThread:
    """A top-level comment and its replies; reads like the comment itself."""

    comment: Comment
    replies: list[Comment]

    def __getattr__(self, name: str):
        return getattr(self.comment, name)


def list_comments(note_id: int, viewer_id: int | None = None, cursor: str | None = None,
                  limit: int = 20) -> Page[CommentThread]:
    """Top-level comments oldest first, each with its replies; blocked authors left out.

    Raises: NotFound (note not readable), ZhongcaoError(invalid_cursor).
    """
    from app.services import notes, social

    notes.get_note(note_id, viewer_id)
    kind = f"comments:{note_id}"
    after = decode_cursor(kind, cursor)
    stmt = select(Comment).where(Comment.note_id == note_id, Comment.parent_id.is_(None),
                                 Comment.deleted_at.is_(None))
    if viewer_id is not None:
        stmt = stmt.where(Comment.author_id.not_in(social.blocked_either_way(viewer_id)))
    if after is not None:
        stmt = stmt.where(Comment.id > int(after))
    top = list(db.session.scalars(stmt.order_by(Comment.id).limit(limit + 1)))
    page = page_of(kind, top, limit, lambda c: c.id)
    ids = [c.id for c in page.items]
    replies: dict[int, list[Comment]] = {i: [] for i in ids}
    if ids:
        rstmt = select(Comment).where(Comment.parent_id.in_(ids), Comment.deleted_at.is_(None))
        if viewer_id is not None:
            rstmt = rstmt.where(Comment.author_id.not_in(social.blocked_either_way(viewer_id)))
        for reply in db.session.scalars(rstmt.order_by(Comment.id)):
            replies[reply.parent_id].append(reply)  # type: ignore[index]
    return Page([CommentThread(c, replies[c.id]) for c in page.items], page.next_cursor)


# -- not interested -------------------------------------------------------------------------

def mark_not_interested(user_id: int, note_id: int, whole_author: bool = False) -> None:
    """"Show me less": this note, or (``whole_author``) everything by its author.

    Raises: NotFound.
    """
    note = actionable_note(note_id, user_id)
    author_id = note.author_id if whole_author else None
    target_note = None if whole_author else note_id
    exists = db.session.scalar(select(NotInterested.id).where(
        NotInterested.user_id == user_id,
        NotInterested.note_id.is_(None) if target_note is None
        else NotInterested.note_id == target_note,
        NotInterested.author_id.is_(None) if author_id is None
        else NotInterested.author_id == author_id))
    if exists is None:
        db.session.add(NotInterested(user_id=user_id, note_id=target_note, author_id=author_id))
        interactions.record(user_id, note_id, InteractionKind.NOT_INTERESTED)
        feed_plans.forget(user_id)
    db.session.commit()
