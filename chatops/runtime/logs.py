"""structlog set-up: JSON lines for machines, readable lines for people, never a secret.

Command handlers bind `platform`, `user`, `command` and `draft_id` with
`bind_command_context`; structlog's contextvars carry them onto every line logged while
the command runs, in whatever module logs it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

import structlog

REDACTED = "[redacted]"


class SecretScrubber:
    """A processor that replaces every configured secret value wherever it appears."""

    def __init__(self, secrets: Sequence[str]) -> None:
        # Longest first: a secret inside another (a password and its encoded form) must not
        # be replaced first and leave the rest of the longer one behind.
        self._secrets = sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True)

    def __call__(
        self, logger: object, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> Mapping[str, Any]:
        if not self._secrets:
            return event_dict
        return {key: self._scrub(value) for key, value in event_dict.items()}

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._secrets:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return {key: self._scrub(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._scrub(item) for item in value)
        if isinstance(value, BaseException):
            return self._scrub(repr(value))
        return value


def configure_logging(
    *, level: str = "INFO", secrets: Sequence[str] = (), stream: TextIO | None = None
) -> None:
    """Configure structlog and route the standard library's logging through it."""
    output = stream or sys.stderr
    renderer: structlog.types.Processor
    if output.isatty():
        renderer = structlog.dev.ConsoleRenderer(colors=True)
    else:
        renderer = structlog.processors.JSONRenderer()
    numeric_level = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        SecretScrubber(secrets),
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(file=output),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(output)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(max(numeric_level, logging.WARNING))


@contextmanager
def bind_command_context(
    *, platform: str, user: str, command: str, draft_id: int | None = None
) -> Iterator[None]:
    """Bind the command's identity onto every log line emitted inside the block."""
    values: dict[str, Any] = {"platform": platform, "user": user, "command": command}
    if draft_id is not None:
        values["draft_id"] = draft_id
    with structlog.contextvars.bound_contextvars(**values):
        try:
            yield
        finally:
            if draft_id is None:
                structlog.contextvars.unbind_contextvars("draft_id")


def bind_draft(draft_id: int) -> None:
    """Add the draft id once a handler knows it (after creating or resolving it)."""
    structlog.contextvars.bind_contextvars(draft_id=draft_id)
