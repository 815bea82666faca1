"""One typed Settings object, read from the environment, every value with an embedded default."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import orjson
from flask import current_app
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER_SECRET = "dev-only-insecure-secret-change-me"  # noqa: S105 (refused outside dev/test)


DEFAULT_WEIGHTS: dict[str, float] = {
    "impression": 0.0,      # seen, not chosen: no evidence either way
    "click": 1.0,           # opened the note
    "like": 4.0,
    "comment": 5.0,
    "save": 6.0,            # saving is the strongest "I want this" short of buying
    "share": 6.0,
    "purchase": 10.0,
    "not_interested": -5.0,  # kept apart as an exclusion by the recommender
}


class Settings(BaseSettings):
    """Every knob of the platform. Standard names are unprefixed; our own take ``ZC_``."""

    model_config = SettingsConfigDict(env_prefix="ZC_", populate_by_name=True, extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    secret_key: str = Field(PLACEHOLDER_SECRET, validation_alias="SECRET_KEY")
    database_url: str | None = Field(None, validation_alias="DATABASE_URL")
    # A pooled database connection that sat idle longer than this is pinged before it is
    # lent out (a restarted or failed-over server drops idle connections); one used more
    # recently is lent as is, and a request that finds it dead gets a fresh one
    # (app.schema.ping_when_idle). 0: every checkout is pinged, SQLAlchemy's pool_pre_ping.
    database_ping_idle_seconds: float = Field(1.0, ge=0)
    redis_url: str | None = Field(None, validation_alias="REDIS_URL")
    elasticsearch_url: str | None = Field(None, validation_alias="ELASTICSEARCH_URL")
    instance_path: Path = PROJECT_ROOT / "instance"
    datasets_dir: Path = Field(PROJECT_ROOT.parent / "shared" / "datasets",
                               validation_alias="ZHONGCAO_DATASETS")

    # Auth
    token_ttl_minutes: int = Field(60 * 24, ge=1)
    password_min_length: int = Field(8, ge=6)
    rate_limit_auth: str = "10 per minute"
    rate_limit_default: str = "600 per minute"
    session_cookie_secure: bool = False

    # Uploads and request size
    max_image_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    max_request_bytes: int = Field(40 * 1024 * 1024, ge=1024)
    max_image_side: int = Field(8000, ge=64)
    min_image_side: int = Field(32, ge=1)
    thumbnail_side: int = Field(480, ge=64)

    # Interactions: the weight each signal gives the recommender (README has the table).
    interaction_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    dwell_weight_per_second: float = 0.1
    dwell_weight_max: float = 3.0
    event_batch_max: int = Field(500, ge=1, le=5000)
    event_max_age_days: int = Field(7, ge=1)
    event_max_future_seconds: int = Field(300, ge=0)
    attribution_window_days: int = Field(7, ge=1)

    # Jobs (Celery). No broker: tasks run in-process, at once.
    celery_broker_url_override: str | None = Field(None, validation_alias="CELERY_BROKER_URL")
    celery_result_backend: str | None = Field(None, validation_alias="CELERY_RESULT_BACKEND")
    task_time_limit_seconds: int = Field(3600, ge=60)
    retrain_schedule: str = "0 3 * * *"   # cron, UTC: nightly at 03:00

    # Commerce: orders, payments, commissions (README "Orders, payments and commissions").
    order_payment_timeout_minutes: int = Field(30, ge=1)  # unpaid by then: cancelled, restocked
    order_auto_complete_days: int = Field(10, ge=1)       # shipped this long ago: completed
    return_window_days: int = Field(7, ge=0)   # after completion; commissions settle after it
    platform_fee_bps: int = Field(500, ge=0, le=10000)    # the platform's cut of every sale
    max_commission_bps: int = Field(5000, ge=0, le=10000)  # creator + sharer + inviter rates
    order_max_lines: int = Field(20, ge=1, le=100)
    order_max_quantity: int = Field(99, ge=1, le=10000)
    idempotency_key_ttl_hours: int = Field(24, ge=24)     # Stripe and Spree keep them 24 h
    webhook_tolerance_seconds: int = Field(300, ge=30)    # older signed webhooks are refused
    webhook_max_attempts: int = Field(10, ge=1)           # re-drives of a failing event
    # The built-in `test` provider (nothing is charged). On by default, except with
    # ZC_ENV=prod where only an explicit ZC_TEST_PAYMENTS_ENABLED=true turns it on (a demo).
    test_payments_enabled: bool = True
    # None: derived from SECRET_KEY, so a fresh install signs and verifies out of the box.
    test_payments_webhook_secret: str | None = None
    # Options of other providers by name, as JSON: {"stripe": {"api_key": ..., ...}}.
    payment_providers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    commerce_batch_size: int = Field(200, ge=1, le=10000)
    commerce_schedule: str = "* * * * *"   # cron, UTC: release, re-drive, complete, settle

    # Recommender
    recommender_algorithm: str = "als"
    # Overrides of the algorithm's library defaults, e.g. {"factors": 128} (JSON in the env).
    recommender_params: dict[str, Any] = Field(default_factory=dict)
    recommender_half_life_days: float | None = None  # off: see BENCHMARKS.md
    recommender_cap: float = 20.0
    recommender_tune_seconds: float = Field(60.0, gt=0)
    gate_tolerance: float = Field(0.005, ge=0)
    gate_baseline_lift: float = Field(1.05, ge=1)
    models_keep: int = Field(5, ge=1)

    # Search
    search_index_prefix: str = "zhongcao"
    search_reconcile_schedule: str = "30 * * * *"   # cron, UTC: hourly

    # Feed (README "The feed"; app/feed/ranking.py documents the blend)
    feed_page_size: int = Field(20, ge=1, le=100)
    feed_source_budget_ms: int = Field(150, ge=1)      # each source's time budget
    feed_source_budgets_ms: dict[str, int] = Field(default_factory=dict)  # per source name
    feed_candidates_per_source: int = Field(200, ge=10, le=2000)
    feed_seen_window_hours: int = Field(72, ge=0)      # impressions this recent are not re-shown
    feed_fresh_days: float = Field(3.0, gt=0)          # a note this new counts as fresh
    feed_fresh_max_impressions: int = Field(50, ge=0)  # ... while it has had few impressions
    feed_fresh_quota: float = Field(0.1, ge=0, le=1)   # share of each page kept for fresh notes
    feed_max_per_author: int = Field(2, ge=1)
    feed_mmr_lambda: float = Field(0.8, ge=0, le=1)    # 1: score only; 0: topic spread only
    feed_trending_half_life_hours: float = Field(48.0, gt=0)
    feed_trending_window_days: int = Field(7, ge=1)
    feed_freshness_half_life_hours: float = Field(72.0, gt=0)
    feed_cache_seconds: float = Field(60.0, ge=0)      # shared lists (trending, fresh, topics)
    feed_served_memory: int = Field(600, ge=20)        # ids a cursor remembers as served
    # Served pages' impressions (one row per page) are rolled up into per-note daily counts by
    # a thread of each server process this often (app.services.impressions); 0: only by
    # `flask feed impressions` and the nightly job.
    feed_impression_count_seconds: float = Field(10.0, ge=0)
    # A serving process starts by reading into its card cache the cards of the first
    # ``feed_warm_pages`` pages of this many of the latest plans (a thread,
    # app.services.feed.warm_cards), so that after a restart the pages do not each read their
    # cards from the database; 0: off.
    feed_warm_plans: int = Field(2000, ge=0)
    feed_warm_pages: int = Field(5, ge=1, le=50)
    # PostgreSQL: plans a serving process holds (their text, about 17 kB each: the warmer's
    # latest, then the ones its pages read; 34 MB at 2,000), so that a page of a held plan
    # reads the plan without its items; 0: off.
    feed_plan_cache: int = Field(2000, ge=0)
    # Feed plans (app.models.feed): the pipeline runs once for this many pages, and page
    # requests serve windows of the plan. An older plan is still served while a worker plans
    # again (refresh); one past the max age is planned again before serving.
    feed_plan_pages: int = Field(10, ge=1, le=50)
    feed_plan_refresh_minutes: float = Field(30.0, gt=0)
    feed_plan_max_age_hours: float = Field(24.0, gt=0)
    feed_plan_active_days: int = Field(14, ge=1)       # the batch plans for people this recent
    # The blend: score = sum(source weight * rank score) + feature weights * features.
    feed_source_weights: dict[str, float] = Field(default_factory=lambda: {
        "collaborative": 1.0, "following": 0.6, "similar": 0.6, "topics": 0.5,
        "trending": 0.3, "fresh": 0.3, "latest": 0.05})
    feed_feature_weights: dict[str, float] = Field(default_factory=lambda: {
        "freshness": 0.1, "engagement": 0.2, "conversion": 0.1, "affinity": 0.2})

    # Paging
    page_size_default: int = Field(20, ge=1, le=100)
    page_size_max: int = Field(50, ge=1, le=500)

    @field_validator("database_url")
    @classmethod
    def _normalize_db_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        # psycopg 3 is the driver we ship; plain postgres URLs would pick psycopg2.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix):]
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        weak = self.secret_key == PLACEHOLDER_SECRET or len(self.secret_key) < 32
        if self.env == "prod" and weak:
            raise ValueError("SECRET_KEY must be set to a random string of 32+ characters "
                             "when ZC_ENV=prod")
        return self

    @model_validator(mode="after")
    def _fees_fit_in_a_price(self) -> Settings:
        if self.platform_fee_bps + self.max_commission_bps > 10000:
            raise ValueError("ZC_PLATFORM_FEE_BPS + ZC_MAX_COMMISSION_BPS must not exceed 10000 "
                             "(100 % of the price)")
        if self.env == "prod" and "test_payments_enabled" not in self.model_fields_set:
            self.test_payments_enabled = False
        return self

    @field_validator("interaction_weights")
    @classmethod
    def _complete_weights(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = set(value) - set(DEFAULT_WEIGHTS) - {"dwell"}
        if unknown:
            raise ValueError(f"unknown interaction kinds: {', '.join(sorted(unknown))}")
        return {**DEFAULT_WEIGHTS, **value}

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.instance_path / 'zhongcao.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    @property
    def celery_broker_url(self) -> str | None:
        # Only an explicit broker turns on real workers: REDIS_URL alone (rate limits) must
        # not leave tasks queued where no worker runs.
        return self.celery_broker_url_override

    def beat_schedule(self) -> dict[str, Any]:
        from app.jobs import _cron

        commerce = _cron(self.commerce_schedule)
        return {"retrain-recommender": {"task": "app.tasks.retrain_recommender",
                                        "schedule": _cron(self.retrain_schedule)},
                "reconcile-search": {"task": "app.tasks.reconcile_search",
                                     "schedule": _cron(self.search_reconcile_schedule)},
                # The outbox drains after every commit; this catches what a lost kick missed.
                "drain-search-outbox": {"task": "app.tasks.drain_search_outbox",
                                        "schedule": 60.0},
                "release-unpaid-orders": {"task": "app.tasks.release_unpaid_orders",
                                          "schedule": commerce},
                "redrive-payment-events": {"task": "app.tasks.redrive_payment_events",
                                           "schedule": commerce},
                "complete-shipped-orders": {"task": "app.tasks.complete_shipped_orders",
                                            "schedule": commerce},
                "settle-commissions": {"task": "app.tasks.settle_commissions",
                                       "schedule": commerce},
                "purge-idempotency-keys": {"task": "app.tasks.purge_idempotency_keys",
                                           "schedule": _cron("17 * * * *")},
                # Server processes count every few seconds; this catches what they left.
                "count-feed-impressions": {"task": "app.tasks.count_feed_impressions",
                                           "schedule": 300.0}}

    @property
    def uploads_dir(self) -> Path:
        return self.instance_path / "uploads"

    @property
    def rate_limit_storage_uri(self) -> str:
        return self.redis_url or "memory://"

    def flask_config(self) -> dict[str, Any]:
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.sqlalchemy_url,
            # JSON columns (a feed plan's report is read on every feed page; its items are
            # lines of their own, ``app.models.feed.PlanItems``) through orjson, several
            # times faster than the json module either way.
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": self.database_ping_idle_seconds == 0,
                                          "json_serializer": _json_dumps,
                                          "json_deserializer": orjson.loads},
            "MAX_CONTENT_LENGTH": self.max_request_bytes,
            "TESTING": self.env == "test",
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.session_cookie_secure,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "JWT_SECRET_KEY": self.secret_key,
            "JWT_ACCESS_TOKEN_EXPIRES": self.token_ttl_minutes * 60,
            "JWT_TOKEN_LOCATION": ["headers"],
            "JWT_ALGORITHM": "HS256",
            "RATELIMIT_STORAGE_URI": self.rate_limit_storage_uri,
            "RATELIMIT_HEADERS_ENABLED": True,
            "RATELIMIT_STRATEGY": "fixed-window",
            "RATELIMIT_SWALLOW_ERRORS": True,
            "API_TITLE": "Zhongcao API",
            "API_VERSION": "v1",
            "OPENAPI_VERSION": "3.0.3",
            "OPENAPI_URL_PREFIX": "/api/v1",
            "OPENAPI_JSON_PATH": "openapi.json",
            "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
            "WTF_CSRF_TIME_LIMIT": None,
        }


def _json_dumps(value: Any) -> str:
    """JSON columns' serializer (SQLAlchemy wants text): orjson, dict keys of any kind."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def get_settings() -> Settings:
    """The Settings instance of the current app."""
    return current_app.extensions["zhongcao.settings"]
