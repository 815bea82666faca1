"""Who is calling: a bearer token (API clients) or the session cookie (our own pages).

Bearer tokens are issued by flask-jwt-extended (``accounts.issue_token``) and checked here
with PyJWT directly: the signature, the expiry and the token type, then the revocation list
and the account in **one** read (``accounts.token_holder``). flask-jwt-extended's own check
decoded each token several times and read the database twice through the ORM; on the hottest
calls (the feed) that cost more than the page itself. The error codes and messages are the
ones its callbacks gave (``token_expired``, ``token_revoked``, ``token_invalid``,
``unauthorized``), and ``current_token_claims`` still answers for the request's token.
"""

from __future__ import annotations

import time
from typing import Any

import jwt as pyjwt
from flask import current_app, g, request
from flask_jwt_extended import get_jwt
from flask_login import current_user

from app.errors import ErrorCode, Unauthorized, error_response
from app.extensions import csrf, jwt
from app.models import User
from app.services import accounts

_SAFE = {"GET", "HEAD", "OPTIONS"}
_NOBODY = object()


def bearer_claims() -> dict[str, Any] | None:
    """The verified claims of the request's bearer token, or None when none was sent.

    Checks the signature, the expiry and that it is an access token; not the revocation
    list (``caller`` and ``caller_id`` do, with the account, in one read).

    Raises: Unauthorized (token_expired, token_invalid, unauthorized).
    """
    header = request.headers.get("Authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme != "Bearer" or not token:
        raise Unauthorized("Log in first: Missing 'Bearer' type in 'Authorization' header",
                           code=ErrorCode.UNAUTHORIZED)
    config = current_app.config
    leeway = config.get("JWT_DECODE_LEEWAY", 0)
    verified = current_app.extensions.setdefault(_VERIFIED_KEY, {})
    claims = verified.get(token)
    if claims is not None:   # signature and type checked before; the expiry every time
        if claims["exp"] + _seconds(leeway) < time.time():
            raise Unauthorized("The token has expired: log in again",
                               code=ErrorCode.TOKEN_EXPIRED)
        return claims
    try:
        claims = pyjwt.decode(token, config["JWT_SECRET_KEY"],
                              algorithms=[config["JWT_ALGORITHM"]],
                              options={"require": ["exp", "sub", "jti"]},
                              leeway=leeway)
    except pyjwt.ExpiredSignatureError:
        raise Unauthorized("The token has expired: log in again",
                           code=ErrorCode.TOKEN_EXPIRED) from None
    except pyjwt.InvalidTokenError as exc:
        raise Unauthorized(f"The token is not valid: {exc}", code=ErrorCode.TOKEN_INVALID) \
            from None
    subject = claims["sub"]
    if claims.get("type") != "access" or not isinstance(subject, str) or not subject.isdigit():
        raise Unauthorized("The token is not valid: not an access token",
                           code=ErrorCode.TOKEN_INVALID)
    if len(verified) >= _VERIFIED_MAX:
        verified.clear()
    verified[token] = claims
    return claims


# Tokens whose signature this process has checked, with their claims (per app: apps may have
# different keys). A feed scroll sends the same token page after page; decoding it each time
# cost a tenth of a page. Revocation and the account are still checked on every request.
_VERIFIED_KEY = "zhongcao.verified_tokens"
_VERIFIED_MAX = 50_000


def _seconds(leeway: Any) -> float:
    return leeway.total_seconds() if hasattr(leeway, "total_seconds") else float(leeway)


def _token_user_id() -> int | None:
    """The id of the bearer token's account after the revocation and account checks (once
    per request), or None when no token was sent."""
    cached = request.environ.get("zhongcao.token_user", _NOBODY)
    if cached is not _NOBODY:
        return cached  # type: ignore[return-value]
    claims = bearer_claims()
    user_id = None
    if claims is not None:
        user_id = int(claims["sub"])
        accounts.check_token_holder(*accounts.token_holder(user_id, claims["jti"]))
    # What flask-jwt-extended's get_jwt() reads (set for every request: tests may share g).
    g._jwt_extended_jwt = claims
    g._jwt_extended_jwt_header = {}
    request.environ["zhongcao.token_user"] = user_id
    return user_id


def caller(required: bool = True) -> User | None:
    """The authenticated user, or None when ``required`` is false and nobody is logged in.

    A bearer token wins when sent. Our own pages call the API with their session cookie; such
    calls must carry the CSRF token (header ``X-CSRFToken``) for anything but reads.

    Raises: Unauthorized.
    """
    user_id = _token_user_id()
    if user_id is not None:
        user = accounts.find_user(user_id)
        if user is None:
            raise Unauthorized("This account no longer exists", code=ErrorCode.TOKEN_INVALID)
        return user
    if current_user.is_authenticated:
        if request.method not in _SAFE:
            csrf.protect()
        return current_user._get_current_object()  # type: ignore[no-any-return]
    if required:
        raise Unauthorized()
    return None


def caller_id(required: bool = True) -> int | None:
    """The authenticated user's id: ``caller`` without loading the account for token calls."""
    user_id = _token_user_id()
    if user_id is not None:
        return user_id
    user = caller(required)
    return user.id if user else None


def current_token_claims() -> dict:
    """The claims of the request's bearer token ({} when the caller used the session)."""
    try:
        return get_jwt()
    except RuntimeError:
        return {}


def init_jwt_callbacks() -> None:
    """flask-jwt-extended's answers, for anything that still goes through its decorators."""
    @jwt.token_in_blocklist_loader
    def _is_revoked(_header: dict, payload: dict) -> bool:
        return accounts.is_token_revoked(payload["jti"])

    @jwt.expired_token_loader
    def _expired(_header: dict, _payload: dict):
        return error_response(ErrorCode.TOKEN_EXPIRED, "The token has expired: log in again", 401)

    @jwt.revoked_token_loader
    def _revoked(_header: dict, _payload: dict):
        return error_response(ErrorCode.TOKEN_REVOKED, "The token was revoked: log in again", 401)

    @jwt.invalid_token_loader
    def _invalid(reason: str):
        return error_response(ErrorCode.TOKEN_INVALID, f"The token is not valid: {reason}", 401)

    @jwt.unauthorized_loader
    def _missing(reason: str):
        return error_response(ErrorCode.UNAUTHORIZED, f"Log in first: {reason}", 401)
