"""Health checks for load balancers and operators: is the process up, can it serve."""

from __future__ import annotations

from flask import jsonify
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import text

from app.extensions import db, limiter

bp = Blueprint("api_health", __name__, url_prefix="/api/v1/health",
               description="Health checks")


class HealthOut(Schema):
    status = fields.String(metadata={"description": "ok, or unavailable"})
    database = fields.String(metadata={"description": "readiness only: ok or unavailable"})


@bp.get("")
@limiter.exempt
@bp.response(200, HealthOut)
def live():
    """Liveness: the process answers (no database read)."""
    return {"status": "ok"}


@bp.get("/ready")
@limiter.exempt
@bp.response(200, HealthOut)
@bp.alt_response(503, schema=HealthOut, description="The database does not answer")
def ready():
    """Readiness: the process can reach its database."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means "not ready"
        db.session.rollback()
        return jsonify({"status": "unavailable", "database": "unavailable"}), 503
    return {"status": "ok", "database": "ok"}
