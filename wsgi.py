"""Entry point for WSGI servers: ``gunicorn wsgi:app``."""

import gc

from app import create_app
from app.schema import start_checkpointer
from app.services.feed import start_card_warmer
from app.services.impressions import start_counter

# The published model's store (numpy, scipy, implicit), which the first feed page asks for:
# loaded here, before the freeze at the end, rather than by that page (a third of a second,
# and 25,000 more objects in every full collection of the garbage collector).
from app.services import recommendations as _model_store  # noqa: F401  isort: skip

app = create_app(require_current_schema=True)
# On SQLite, WAL checkpoints in a thread of each serving process rather than on a request
# (app.schema.Checkpointer). A process forked after this line (gunicorn --preload) would not
# have the thread: the connections' own autocheckpoint still bounds the WAL.
checkpointer = start_checkpointer(app)
# Served feed pages' impressions rolled up into per-note daily counts every few seconds, from a
# thread of each serving process (app.services.impressions).
impression_counter = start_counter(app)


def _freeze_warm_cache() -> None:
    """Once the card cache is warm: the cards (tens of thousands of objects that stay until
    they change) out of the collector's sight too. Before, a full collection walked 68,000
    objects (13 ms, on a page) instead of 7,000 (BENCHMARKS.md, 2026-12-07)."""
    gc.collect()
    gc.freeze()


# The feed's card cache filled with what the next pages will serve, from a thread, so that a
# restarted process does not read its cards page by page (app.services.feed.warm_cards). Under
# gunicorn --preload this runs in the master only: workers then fill their caches as they go.
card_warmer = start_card_warmer(app, then=_freeze_warm_cache)

# Everything loaded so far (the app, SQLAlchemy's metadata, numpy and implicit for serving the
# model) lives as long as the process: move it out of the garbage collector's sight, so a
# full collection walks only what requests create. Without this, a full collection in a
# serving worker took up to 170 ms, the slowest 1% of feed pages (BENCHMARKS.md).
gc.freeze()
