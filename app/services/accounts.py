"""Accounts: register, authenticate, API tokens, profiles."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_jwt_extended import create_access_token, decode_token
from sqlalchemy import bindparam, delete, func, select

from app.config import get_settings
from app.errors import Conflict, ErrorCode, NotFound, Unauthorized, ValidationFailed
from app.extensions import db
from app.models import Image, RevokedToken, Role, User
from app.models.base import utcnow
from app.services import invitations, outbox

# argon2id with the library's defaults (RFC 9106 "second recommended" profile).
_hasher = PasswordHasher()
USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{3,30}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A real hash of a random password: verifying against it when the email is unknown costs the
# same time as a real check, so response times don't reveal which emails have accounts.
_DUMMY_HASH = _hasher.hash(uuid.uuid4().hex)
SELF_SERVICE_ROLES = (Role.USER, Role.MERCHANT)


@dataclass(frozen=True, slots=True)
class Registration:
    email: str
    username: str
    password: str
    display_name: str | None = None
    role: Role = Role.USER
    invite_code: str | None = None  # someone's referral code: links them as the inviter


@dataclass(frozen=True, slots=True)
class ProfileUpdate:
    display_name: str | None = None
    bio: str | None = None
    avatar_image_id: int | None = None
    clear_avatar: bool = False


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_at: datetime
    user: User


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _check_registration(reg: Registration) -> dict[str, str]:
    settings = get_settings()
    fields: dict[str, str] = {}
    if not EMAIL_RE.match(reg.email or "") or len(reg.email) > 254:
        fields["email"] = "not a valid email address"
    if not USERNAME_RE.match(reg.username or ""):
        fields["username"] = "3 to 30 letters, digits or underscores"
    if len(reg.password or "") < settings.password_min_length:
        fields["password"] = f"at least {settings.password_min_length} characters"
    elif len(reg.password) > 256:
        fields["password"] = "at most 256 characters"
    if reg.display_name is not None and not 1 <= len(reg.display_name.strip()) <= 40:
        fields["display_name"] = "1 to 40 characters"
    if reg.role not in SELF_SERVICE_ROLES:
        fields["role"] = "must be user or merchant"
    return fields


def register_user(reg: Registration) -> User:
    """Create an account.

    Raises:
        ValidationFailed: a field is malformed, or the invite code is unknown.
        Conflict(email_taken | username_taken): someone has it already.
    """
    fields = _check_registration(reg)
    if fields:
        raise ValidationFailed(fields)
    inviter = invitations.find_inviter(reg.invite_code) if reg.invite_code else None
    email = reg.email.strip().lower()
    username = reg.username.strip()
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(ErrorCode.EMAIL_TAKEN, "An account with this email exists",
                       details={"fields": {"email": "already registered"}})
    if db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        raise Conflict(ErrorCode.USERNAME_TAKEN, "This username is taken",
                       details={"fields": {"username": "already taken"}})
    user = User(email=email, username=username,
                display_name=(reg.display_name or username).strip(),
                password_hash=hash_password(reg.password), role=reg.role, bio="")
    db.session.add(user)
    db.session.flush()
    if inviter is not None:
        invitations.link_inviter(user, inviter)  # a new user: never a cycle, never twice
    outbox.mark_stale("user", user.id)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User:
    """The active user with this email and password.

    Raises:
        Unauthorized(invalid_credentials): unknown email, wrong password or disabled account.
    """
    user = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        user = None
    if user is None or not user.is_active:
        raise Unauthorized("Wrong email or password", code=ErrorCode.INVALID_CREDENTIALS)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.session.commit()
    return user


def issue_token(user: User) -> IssuedToken:
    """A bearer token for the API; it expires after the configured TTL."""
    token = create_access_token(identity=str(user.id), additional_claims={"role": user.role.value})
    claims = decode_token(token)
    return IssuedToken(token, datetime.fromtimestamp(claims["exp"], UTC), user)


def revoke_token(jti: str, user_id: int, expires_at: datetime) -> None:
    """Revoke one token (logout). Revoking twice is harmless."""
    if db.session.get(RevokedToken, jti) is None:
        db.session.add(RevokedToken(jti=jti, user_id=user_id, expires_at=expires_at))
    # Expired rows can't be used anyway; clearing them here keeps the table small.
    db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
    db.session.commit()


def is_token_revoked(jti: str) -> bool:
    return db.session.get(RevokedToken, jti) is not None


_TOKEN_HOLDER = (
    select(User.is_active,
           select(RevokedToken.jti).where(RevokedToken.jti == bindparam("jti"))
           .exists())
    .where(User.id == bindparam("user_id")))


def check_token_holder(active: bool, revoked: bool) -> None:
    """Refuse a bearer token whose account is gone or that was revoked.

    Raises: Unauthorized (token_revoked, token_invalid).
    """
    if revoked:
        raise Unauthorized("The token was revoked: log in again", code=ErrorCode.TOKEN_REVOKED)
    if not active:
        raise Unauthorized("This account no longer exists", code=ErrorCode.TOKEN_INVALID)


def token_holder(user_id: int, jti: str) -> tuple[bool, bool]:
    """(the account exists and is active, the token is revoked), in one indexed read: every
    API call with a bearer token makes it, so it skips the ORM (no objects are loaded)."""
    row = db.session.connection().execute(_TOKEN_HOLDER, {"user_id": user_id, "jti": jti}
                                          ).first()
    if row is None:
        return False, False
    return bool(row[0]), bool(row[1])


def get_user(user_id: int) -> User:
    """Raises: NotFound."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFound("User", user_id=user_id)
    return user


def find_user(user_id: int) -> User | None:
    """The active user with this id, or None (session loaders)."""
    user = db.session.get(User, user_id)
    return user if user is not None and user.is_active else None


def get_user_by_username(username: str) -> User:
    """Raises: NotFound."""
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None or not user.is_active:
        raise NotFound("User", username=username)
    return user


def update_profile(user_id: int, change: ProfileUpdate) -> User:
    """Change display name, bio or avatar.

    Raises:
        ValidationFailed: a field is malformed or the avatar is not the user's own upload.
    """
    user = get_user(user_id)
    fields: dict[str, str] = {}
    if change.display_name is not None:
        name = change.display_name.strip()
        if not 1 <= len(name) <= 40:
            fields["display_name"] = "1 to 40 characters"
        else:
            user.display_name = name
    if change.bio is not None:
        if len(change.bio) > 300:
            fields["bio"] = "at most 300 characters"
        else:
            user.bio = change.bio
    if change.clear_avatar:
        user.avatar_image_id = None
    elif change.avatar_image_id is not None:
        image = db.session.get(Image, change.avatar_image_id)
        if image is None or image.owner_id != user.id:
            fields["avatar_image_id"] = "no such image of yours"
        else:
            user.avatar_image_id = image.id
    if fields:
        db.session.rollback()
        raise ValidationFailed(fields)
    outbox.mark_stale("user", user.id)
    db.session.commit()
    return user


def set_role(email: str, role: Role) -> User:
    """Operator tool: grant a role (the only way to make an operator).

    Raises: NotFound.
    """
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound("User", email=email)
    user.role = role
    db.session.commit()
    return user
