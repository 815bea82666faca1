"""Opaque, signed cursors for keyset pagination of every list."""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
from flask import current_app
from itsdangerous import BadData, BadSignature, Signer, URLSafeSerializer
from itsdangerous.encoding import base64_decode, base64_encode

from app.errors import ErrorCode, ZhongcaoError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


_SIGNER_KEY = "zhongcao.cursor_signer"
_SALT = b"zhongcao.cursor.v2"
_COMPRESS_OVER = 200        # payloads longer than this (bytes of JSON) are deflated if it helps


def _legacy_serializer() -> URLSafeSerializer:
    """Cursors as they were written before 2026-12-06 (still read: a scroll in flight
    during an upgrade goes on)."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="zhongcao.cursor")


def _signer() -> Signer:
    """This app's cursor signer (HMAC-SHA256), made once per secret key: every list page
    signs one cursor and checks another, and building itsdangerous' serializer for each cost
    more than the signing."""
    secret = current_app.config["SECRET_KEY"]
    held = current_app.extensions.get(_SIGNER_KEY)
    if held is None or held[0] != secret:
        # The key derived once by itsdangerous' own derivation (which a Signer otherwise runs
        # on every signature): the same signatures, without a hash of the secret for each.
        key = Signer(secret, salt=_SALT, digest_method=hashlib.sha256).derive_key()
        held = current_app.extensions[_SIGNER_KEY] = (
            secret, Signer(key, salt=_SALT, key_derivation="none",
                           digest_method=hashlib.sha256))
    return held[1]


def encode_cursor(kind: str, key: Any) -> str:
    """A cursor that only this server can read back, bound to one kind of list: the JSON of
    ``{"k": kind, "v": key}`` (deflated when long, marked by a leading ".") in URL-safe
    base64, signed with itsdangerous' ``Signer``."""
    raw = orjson.dumps({"k": kind, "v": key}, option=orjson.OPT_NON_STR_KEYS)
    prefix = b""
    if len(raw) > _COMPRESS_OVER:
        packed = zlib.compress(raw)
        if len(packed) < len(raw) - 1:
            raw, prefix = packed, b"."
    return _signer().sign(prefix + base64_encode(raw)).decode("ascii")


def _read(cursor: str) -> Any:
    try:
        payload = _signer().unsign(cursor)
    except BadSignature:
        return _legacy_serializer().loads(cursor)
    try:
        if payload.startswith(b"."):
            return orjson.loads(zlib.decompress(base64_decode(payload[1:])))
        return orjson.loads(base64_decode(payload))
    except (ValueError, zlib.error) as exc:   # signed but unreadable: treat as tampered
        raise BadData("unreadable cursor") from exc


def decode_cursor(kind: str, cursor: str | None) -> Any:
    """The key inside ``cursor``; None for the first page.

    Raises:
        ZhongcaoError(invalid_cursor, 400): tampered, foreign or unreadable cursor.
    """
    if not cursor:
        return None
    try:
        data = _read(cursor)
    except BadData:       # a bad signature, or base64 or JSON that cannot be read
        data = None
    if not isinstance(data, dict) or data.get("k") != kind:
        raise ZhongcaoError(ErrorCode.INVALID_CURSOR, "The cursor is not valid for this list",
                            400)
    return data.get("v")


def page_of(kind: str, rows: list[T], limit: int, key_of) -> Page[T]:
    """Cut a fetched ``limit + 1`` rows into a page and the cursor of the next one."""
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(rows, encode_cursor(kind, key_of(rows[-1])))
    return Page(rows, None)
