"""Zhongcao (种草): the Flask application. ``create_app`` is the only way to build one."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask

from app.config import Settings

log = logging.getLogger(__name__)

# Scripts only from our own origin (no inline script anywhere); styles likewise; images may be
# data: URLs (previews of files chosen for upload are blob: URLs).
CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def create_app(config: Settings | Mapping[str, Any] | None = None, *,
               require_current_schema: bool = False) -> Flask:
    """Build the app.

    ``config`` is a Settings object or a mapping of overrides on the environment's settings.
    ``require_current_schema`` (set by wsgi.py for servers) refuses to start on a database
    whose migrations are not applied, with a message saying what to run.
    """
    settings = config if isinstance(config, Settings) else Settings(**dict(config or {}))
    app = Flask(__name__, instance_path=str(settings.instance_path), instance_relative_config=False)
    app.config.from_mapping(settings.flask_config())
    app.extensions["zhongcao.settings"] = settings
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)

    from app import db as _session_hooks  # noqa: F401  (registers after-commit listeners)
    from app.extensions import api, babel, csrf, db, jwt, limiter, login, migrate, talisman
    from app.schema import MIGRATIONS_DIR, enable_sqlite_pragmas, ping_when_idle

    db.init_app(app)
    if settings.is_sqlite:
        with app.app_context():
            enable_sqlite_pragmas(db.engine)
    ping_when_idle(app, settings.database_ping_idle_seconds)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True,
                     compare_type=True)
    jwt.init_app(app)
    login.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    talisman.init_app(app, force_https=False, strict_transport_security=settings.env == "prod",
                      session_cookie_secure=settings.session_cookie_secure,
                      content_security_policy=CSP, frame_options="DENY",
                      referrer_policy="strict-origin-when-cross-origin")
    from app.web.i18n import select_locale
    babel.init_app(app, locale_selector=select_locale)
    api.init_app(app)

    from app import api as api_package
    from app import cli, errors, media, web
    from app.api.security import init_jwt_callbacks

    init_jwt_callbacks()
    api_package.register(app)
    web.register(app)
    app.register_blueprint(media.bp)
    errors.register_error_handlers(app)
    cli.register(app)
    from app.jobs import init_celery

    init_celery(app, settings)

    if require_current_schema:
        from app.schema import require_migrated
        require_migrated(app)
    return app
