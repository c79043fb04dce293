"""Runs a task in the calling process, before the request answers (``KYC_EXECUTOR=inline``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kyc_service.ports import TaskRunner


class InlineTaskRunner(TaskRunner):
    """Calls registered task functions directly (queues do not matter here)."""

    runs_in_process = True

    def __init__(self) -> None:
        self.tasks: dict[str, Callable[..., Any]] = {}

    def register(self, name: str, function: Callable[..., Any], queue: str = "local") -> None:
        """Make ``function`` runnable as ``name``."""
        self.tasks[name] = function

    def submit(self, task: str, **arguments: Any) -> bool:
        """Run the task now; True, since it has completed when this returns."""
        self.tasks[task](**arguments)
        return True
