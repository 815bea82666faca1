"""Celery, bound to the app: every task runs inside an app context.

Embedded default: no broker configured, tasks run in-process at once (``task_always_eager``),
so one command runs everything on a laptop. With ``CELERY_BROKER_URL`` set (Redis or RabbitMQ),
tasks go to real workers: ``celery -A worker worker`` and ``celery -A worker beat``.
"""

from __future__ import annotations

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask, current_app

from app.config import Settings

_EAGER = "zhongcao.jobs_eager"


def runs_eagerly() -> bool:
    """Whether the current app's jobs run in-process at once (no broker), as ``init_celery``
    decided it: read on every feed page, where Celery's own settings lookup cost more than the
    page's other checks."""
    return current_app.extensions[_EAGER]  # type: ignore[no-any-return]


def _cron(expr: str) -> crontab:
    minute, hour, day_of_month, month, day_of_week = expr.split()
    return crontab(minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month,
                   day_of_week=day_of_week)


def init_celery(app: Flask, settings: Settings) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    from app.extensions import celery

    celery.Task = FlaskTask  # type: ignore[misc]
    broker = settings.celery_broker_url
    celery.conf.update(
        broker_url=broker or "memory://",
        result_backend=settings.celery_result_backend,
        task_always_eager=broker is None,
        task_eager_propagates=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=settings.task_time_limit_seconds,
        task_soft_time_limit=max(settings.task_time_limit_seconds - 30, 30),
        timezone="UTC",
        beat_schedule=settings.beat_schedule(),
        broker_connection_retry_on_startup=True,
    )
    from app import tasks  # noqa: F401  (registers the tasks)

    app.extensions["celery"] = celery
    app.extensions[_EAGER] = broker is None
    return celery


