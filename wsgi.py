"""Entry point for WSGI servers: ``gunicorn wsgi:app``."""

import gc

from app import create_app

app = create_app(require_current_schema=True)

# Everything loaded so far (the app, SQLAlchemy's metadata, numpy and implicit for serving the
# model) lives as long as the process: move it out of the garbage collector's sight, so a
# full collection walks only what requests create. Without this, a full collection in a
# serving worker took up to 170 ms, the slowest 1% of feed pages (BENCHMARKS.md).
gc.freeze()
