"""Celery tasks: thin, idempotent wrappers around services (CONVENTIONS §10)."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from app.extensions import celery

# Shared defaults: acknowledged after the work (a crashed worker's task is redelivered, which
# is safe because every task below is idempotent), transient DB errors retried a few times
# with backoff, never forever (unbounded retries amplify an outage).
TASK_DEFAULTS = {"acks_late": True, "autoretry_for": (OperationalError,), "max_retries": 5,
                 "retry_backoff": True, "retry_jitter": True}


# -- commerce (services/orders.py, payments.py, refunds.py, ledger.py) -----------------------
# Each is safe to run twice or at once on two workers: every change they make is a
# conditional UPDATE or guarded by a unique key, so the second run finds nothing to do.

@celery.task(**TASK_DEFAULTS)
def release_unpaid_orders() -> int:
    """Cancel orders unpaid past ZC_ORDER_PAYMENT_TIMEOUT_MINUTES and restock them."""
    from app.services import orders

    return orders.release_unpaid()


@celery.task(**TASK_DEFAULTS)
def complete_shipped_orders() -> int:
    """Complete orders shipped ZC_ORDER_AUTO_COMPLETE_DAYS ago and never confirmed."""
    from app.services import orders

    return orders.complete_shipped()


@celery.task(**TASK_DEFAULTS)
def settle_commissions() -> int:
    """Settle the ledger of orders completed and past the return window."""
    from app.services import ledger

    return ledger.settle_due()


@celery.task(**TASK_DEFAULTS)
def redrive_payment_events() -> int:
    """Recovery: act on stored webhooks left unprocessed, send refunds left unsent."""
    from app.services import payments, refunds

    refunds.resend_unsent()
    return payments.redrive_events()


@celery.task(**TASK_DEFAULTS)
def purge_idempotency_keys() -> int:
    """Forget idempotency keys past ZC_IDEMPOTENCY_KEY_TTL_HOURS."""
    from app.services import idempotency

    return idempotency.purge_expired()


@celery.task(**TASK_DEFAULTS)
def deliver_webhook(provider: str, body: str, headers: dict[str, str]) -> str | None:
    """Hand a webhook from the built-in test provider to our webhook handler."""
    from app.services import payments

    return payments.receive_webhook(provider, body.encode(), headers).outcome


@celery.task(**TASK_DEFAULTS)
def send_refund(refund_id: int) -> None:
    """Ask the provider for a refund (idempotent: keyed by the refund's id)."""
    from app.services import refunds

    refunds.send_refund(refund_id)


# -- search (services/search.py) ----------------------------------------------------------------
# Upserts and deletes by document id: running a drain twice, or two at once, indexes the same
# current state twice and acknowledges rows that are already gone.

@celery.task(**TASK_DEFAULTS, time_limit=600, soft_time_limit=570)
def drain_search_outbox() -> int:
    """Apply pending search outbox rows to the index."""
    from app.services import search

    return search.drain_outbox().rows


@celery.task(**TASK_DEFAULTS)
def reconcile_search() -> dict[str, int]:
    """Repair whatever the index and the database disagree on."""
    from dataclasses import asdict

    from app.services import search

    return asdict(search.reconcile(progress=False))


# -- recommender (services/recommendations.py) ----------------------------------------------
# A retrain writes a new version directory under the store's lock and publishes by replacing
# one pointer file, so two retrains at once each store a version and the last publish wins;
# neither can leave the store half written.

@celery.task(**TASK_DEFAULTS)
def retrain_recommender(algorithm: str | None = None) -> dict[str, object]:
    """Nightly: train, evaluate, gate and (if it passes) publish."""
    from app.services import recommendations

    report = recommendations.train(algorithm, progress=False)
    if report.published:     # plan the feeds of people active lately with the new model
        build_feed_plans.delay()
    return {"version": report.version.version_id if report.version else None,
            "published": report.published, "skipped": report.skipped}


# -- feed plans (services/feed.py) ------------------------------------------------------------
# Making a plan replaces the user's previous one: running twice is the same as once.

@celery.task(**TASK_DEFAULTS)
def refresh_feed_plan(user_id: int) -> int:
    """Plan one person's feed again (queued by a page that found their plan getting old)."""
    from app.services import feed

    feed.plan(user_id, background=True, commit=True)
    return user_id


@celery.task(**TASK_DEFAULTS, time_limit=3600, soft_time_limit=3500)
def build_feed_plans(active_days: int | None = None) -> int:
    """Plan the feed of everyone active lately (after a retrain publishes a model)."""
    from app.services import feed

    return feed.build_plans(active_days=active_days)


@celery.task(**TASK_DEFAULTS)
def count_feed_impressions() -> int:
    """Roll served feed pages up into per-note daily impression counts (each page once)."""
    from app.services import impressions

    return impressions.count()
