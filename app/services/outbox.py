"""Mark entities stale for search in the same transaction as the change (the outbox).

After the transaction commits, a drain is kicked: in-process in the embedded default, a Celery
task with a broker. If the kick fails or the drain dies half way, the rows stay and the next
drain (or the periodic one, or ``flask search reconcile``) repairs the index.
"""

from __future__ import annotations

import logging

from flask import current_app

from app.db import on_commit, on_rollback
from app.extensions import db
from app.jobs import runs_eagerly
from app.models import SearchOutbox

log = logging.getLogger(__name__)
_KICKED = "zhongcao.outbox_kicked"
ENTITY_TYPES = ("note", "product", "user")


def mark_stale(entity_type: str, entity_id: int) -> None:
    """Queue ``entity`` for reindexing; flushes nothing, commits nothing."""
    if entity_type not in ENTITY_TYPES:
        raise ValueError(f"unknown entity type {entity_type!r}")
    db.session.add(SearchOutbox(entity_type=entity_type, entity_id=entity_id))
    if not db.session.info.get(_KICKED):
        db.session.info[_KICKED] = True
        on_commit(_kick)
        on_rollback(db.session.info.pop, _KICKED, None)


def _kick() -> None:
    db.session.info.pop(_KICKED, None)
    try:
        if runs_eagerly():
            # In-process: run the drain directly, in a fresh app context (so a fresh session:
            # the committing one can't emit SQL here). Celery's eager path keeps process-wide
            # state that is not thread-safe, and requests run in threads.
            from app.services import search

            with current_app.app_context():
                search.drain_outbox()
        else:
            from app.tasks import drain_search_outbox

            drain_search_outbox.delay()
    except Exception:  # noqa: BLE001 - the rows stay; the next drain picks them up
        log.exception("could not drain the search outbox now; it will run later")
