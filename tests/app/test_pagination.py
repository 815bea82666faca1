"""Cursors: opaque, signed, bound to one kind of list, and still read in the older format."""

from __future__ import annotations

import pytest
from itsdangerous import URLSafeSerializer

from app.errors import ZhongcaoError
from app.pagination import decode_cursor, encode_cursor


def test_a_cursor_reads_back_what_was_written(app):
    with app.app_context():
        key = {"o": 40, "t": 1765000000, "r": "a" * 32, "u": 7}
        cursor = encode_cursor("feed", key)
        assert decode_cursor("feed", cursor) == key
        assert decode_cursor("feed", None) is None
        # a URL's own alphabet: nothing to escape
        assert all(c.isalnum() or c in "-_." for c in cursor)


def test_a_long_cursor_is_deflated_and_reads_back(app):
    with app.app_context():
        served = list(range(100_000, 100_600))
        cursor = encode_cursor("feed", {"s": served})
        assert cursor.startswith(".")
        assert len(cursor) < len(",".join(map(str, served)))
        assert decode_cursor("feed", cursor) == {"s": served}


@pytest.mark.parametrize("change", [
    lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),   # the signature
    lambda c: "x" + c,                                                 # the payload
    lambda c: c.split(".")[0],                                         # no signature
    lambda c: "%%%",
])
def test_a_changed_cursor_is_refused(app, change):
    with app.app_context():
        cursor = encode_cursor("notes", [5, 9])
        with pytest.raises(ZhongcaoError) as err:
            decode_cursor("notes", change(cursor))
        assert err.value.code == "invalid_cursor"


def test_a_cursor_of_another_list_or_secret_is_refused(app):
    with app.app_context():
        cursor = encode_cursor("notes", [5, 9])
        with pytest.raises(ZhongcaoError):
            decode_cursor("feed", cursor)
        secret = app.config["SECRET_KEY"]
        app.config["SECRET_KEY"] = "another secret, another server"
        try:
            with pytest.raises(ZhongcaoError):
                decode_cursor("notes", cursor)
        finally:
            app.config["SECRET_KEY"] = secret


def test_a_cursor_in_the_earlier_format_is_still_read(app):
    """Written by the serializer used before 2026-12-06: a scroll in flight during an
    upgrade goes on."""
    with app.app_context():
        old = URLSafeSerializer(app.config["SECRET_KEY"], salt="zhongcao.cursor").dumps(
            {"k": "feed", "v": {"u": 3, "o": 20}})
        assert decode_cursor("feed", old) == {"u": 3, "o": 20}
        forged = URLSafeSerializer("guessed", salt="zhongcao.cursor").dumps(
            {"k": "feed", "v": {"u": 3, "o": 20}})
        with pytest.raises(ZhongcaoError):
            decode_cursor("feed", forged)


def test_cursors_are_signed_as_itsdangerous_signs_them_with_its_default_key_derivation(app):
    """The cursor signer derives its key once; a cursor it signs is exactly what itsdangerous'
    own Signer (deriving the key each time) signs, so cursors from before keep reading."""
    import hashlib

    from itsdangerous import Signer

    with app.app_context():
        stock = Signer(app.config["SECRET_KEY"], salt="zhongcao.cursor.v2",
                       digest_method=hashlib.sha256)
        cursor = encode_cursor("feed", {"u": 3, "o": 20})
        assert stock.unsign(cursor)
        payload = cursor.rsplit(".", 1)[0]
        assert stock.sign(payload).decode() == cursor
        assert decode_cursor("feed", stock.sign(payload).decode()) == {"u": 3, "o": 20}
