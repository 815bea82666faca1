"""The JSON API under /api/v1, documented at /api/v1/openapi.json and /api/v1/docs."""

from __future__ import annotations

from flask import Flask

from app.api import (
    auth,
    commissions,
    creators,
    docs,
    engagement,
    events,
    feed,
    health,
    images,
    invitations,
    notes,
    notifications,
    orders,
    payments,
    products,
    search,
    social,
    users,
    wallet,
)
from app.extensions import api, csrf


def register(app: Flask) -> None:
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    for module in (auth, users, social, products, notes, engagement, images, events,
                   notifications, orders, payments, wallet, commissions, creators, invitations,
                   search, feed, health):
        # API calls authenticate with bearer tokens; session-cookie callers are checked for
        # CSRF in security.caller, where we know which kind of caller it is.
        csrf.exempt(module.bp)
        api.register_blueprint(module.bp)
    app.register_blueprint(docs.bp)
