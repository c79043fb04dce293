"""Runs the service's tasks on a Celery worker pool (``KYC_EXECUTOR=celery``).

The broker (``KYC_BROKER_URL``: Redis or RabbitMQ) carries only task names and ids — never
personal data. Delivery is at least once and every task is idempotent, so the settings
favour redelivery over loss:

- ``task_acks_late``: a message is acknowledged after its task returned (its results are
  recorded by then), not when a worker takes it; a worker that dies mid-task leaves it on
  the broker. ``task_reject_on_worker_lost`` puts it back at once when a pool process is
  killed, instead of acknowledging it as failed.
- ``worker_prefetch_multiplier=1``: a worker reserves one message per process, so a long
  check does not hold other messages hostage behind it.
- ``task_time_limit`` (``KYC_TASK_TIME_LIMIT``, 300 s) ends a stuck task (prefork pool; the
  thread pool relies on each adapter's own timeouts), and the broker's visibility timeout
  (Redis) is twice that, so a message is redelivered only after its first run surely ended.
- ``worker_cancel_long_running_tasks_on_connection_loss``: after the connection to the
  broker is lost the running tasks are cancelled rather than finished unacknowledged; their
  verifications' leases bring them back (each run's lease token keeps a stale duplicate
  from doing anything).
- Connection and socket timeouts on the broker, so a broker that drops packets cannot hold
  a submit request for long.

A message can still be lost (a Redis broker that keeps nothing on disk, restarted): the
service's database holds each submitted verification with a lease, and the periodic
``retry_pending`` task runs it once the lease lapses. Publishing also never fails a
request: a broker that is down is logged (no personal data) and left to the same lease.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any, Self

from celery import Celery, signals
from kombu import Exchange, Queue

from kyc_service.ports import QUEUES, TaskRunner

log = logging.getLogger(__name__)
PREFIX = "kyc."
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0.1, "interval_step": 0.3, "interval_max": 1}
TASK_RETRIES = 3
"""Times a task that raised is retried (with back-off) before the lease takes over."""


def queue_name(queue: str) -> str:
    """The broker's name of a service queue (``local`` → ``kyc.local``)."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}; queues: {', '.join(QUEUES)}")
    return PREFIX + queue


def _queue(queue: str) -> Queue:
    """A durable queue with its own direct exchange: a message reaches this queue alone."""
    name = queue_name(queue)
    return Queue(name, Exchange(name, type="direct"), routing_key=name, durable=True)


class CeleryTaskRunner(TaskRunner):
    """Enqueues tasks on a Celery broker; ``kyc-service worker`` runs them."""

    def __init__(self, broker_url: str, time_limit: float = 300.0, log_level: str = "INFO") -> None:
        if not broker_url:
            raise ValueError("KYC_EXECUTOR=celery needs KYC_BROKER_URL (redis:// or amqp://)")
        self.time_limit = float(time_limit)
        self.log_level = str(log_level or "INFO").upper()
        self.app = Celery("kyc", broker=broker_url, set_as_current=False)
        self.app.conf.update(self._conf())
        self.queues: dict[str, str] = {}

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """Build from ``broker_url`` and ``time_limit`` (``KYC_BROKER_URL``,
        ``KYC_TASK_TIME_LIMIT``)."""
        return cls(
            str(settings.get("broker_url") or ""),
            float(settings.get("time_limit") or 300),
            str(settings.get("log_level") or "INFO"),
        )

    def _conf(self) -> dict[str, Any]:
        """The reliability settings explained in the module's docstring."""
        return {
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "task_time_limit": self.time_limit,
            "task_soft_time_limit": max(1.0, self.time_limit - 10),
            "broker_transport_options": {
                "visibility_timeout": int(2 * self.time_limit),
                "socket_connect_timeout": 3,
                "socket_timeout": 10,
            },
            "broker_connection_timeout": 3,
            "worker_cancel_long_running_tasks_on_connection_loss": True,
            "broker_connection_retry_on_startup": True,
            "broker_connection_max_retries": None,
            "task_ignore_result": True,
            "task_store_errors_even_if_ignored": False,
            "task_serializer": "json",
            "accept_content": ["json"],
            "task_default_queue": queue_name("local"),
            "task_queues": [_queue(queue) for queue in QUEUES],
            "worker_enable_remote_control": False,
            "worker_hijack_root_logger": False,
            "worker_redirect_stdouts": False,
            "worker_send_task_events": False,
            "enable_utc": True,
        }

    def register(self, name: str, function: Callable[..., Any], queue: str = "local") -> None:
        """Make ``function`` a Celery task ``kyc.<name>`` routed to ``queue``."""
        routed = queue_name(queue)

        def body(task: Any, **arguments: Any) -> None:
            try:
                function(**arguments)
                return
            except Exception as exc:  # noqa: BLE001 - the class only: messages may hold data
                log.warning("task %s failed: %s", name, type(exc).__name__)
            if task.request.retries >= TASK_RETRIES:
                return  # the lease in the database runs it again later
            # raised outside the handler: no traceback of the failure is chained to it
            raise task.retry(countdown=2**task.request.retries, throw=False)

        self.app.task(name=PREFIX + name, bind=True, queue=routed, max_retries=TASK_RETRIES)(body)
        self.queues[name] = routed

    def submit(self, task: str, **arguments: Any) -> bool:
        """Publish the task; False (it runs on a worker, or after its lease if the broker
        is down)."""
        try:
            self.app.send_task(
                PREFIX + task,
                kwargs=arguments,
                queue=self.queues.get(task, queue_name("local")),
                retry=True,
                retry_policy=PUBLISH_RETRY,
            )
        except Exception as exc:  # noqa: BLE001 - any broker failure: the lease takes over
            log.warning("task %s not queued (broker unavailable): %s", task, type(exc).__name__)
        return False

    def run_worker(
        self,
        queues: list[str],
        concurrency: int,
        pool: str,
        on_process_start: Callable[[], None],
    ) -> None:
        """Run ``celery worker`` on ``queues`` in this process until it is stopped."""
        started = signals.worker_process_init if pool == "prefork" else signals.worker_init
        started.connect(lambda **_: on_process_start(), weak=False)
        self.app.worker_main(
            [
                "--quiet",  # no banner: every line on stdout/stderr is a JSON log line
                "worker",
                f"--loglevel={self.log_level}",
                f"--pool={pool}",
                f"--concurrency={concurrency}",
                f"--queues={','.join(queue_name(q) for q in queues)}",
                f"--hostname=kyc-{'-'.join(queues)}-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        )

    def run_beat(self, schedule: dict[str, float], schedule_file: str) -> None:
        """Run ``celery beat``: each registered task of ``schedule`` every so many seconds;
        a message not taken within its period expires (no pile-up while workers are down)."""
        self.app.conf.beat_schedule = {
            name: {
                "task": PREFIX + name,
                "schedule": float(seconds),
                "options": {"queue": self.queues[name], "expires": float(seconds)},
            }
            for name, seconds in schedule.items()
        }
        self.app.start(
            ["--quiet", "beat", f"--loglevel={self.log_level}", f"--schedule={schedule_file}"]
        )

    def purge(self) -> int:
        """Drop every message waiting on the service's queues (tests, and an operator
        clearing a backlog: the leases in the database bring each verification back)."""
        return int(self.app.control.purge() or 0)

    def close(self) -> None:
        """Release the broker connections of this process's producer pool."""
        self.app.close()
