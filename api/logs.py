"""Logging for ``pcsearch api``: uvicorn's format, and no password in any line."""

from __future__ import annotations

import logging
from typing import Any

from store.storage import scrub


class ScrubFilter(logging.Filter):
    """Removes the database password from every record (message, arguments, traceback)."""

    def __init__(self, url: str | None = None) -> None:
        super().__init__()
        self.url = url

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg, self.url)
        if isinstance(record.args, tuple):
            record.args = tuple(self._clean(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: self._clean(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = scrub(text, self.url)
        return True

    def _clean(self, value: Any) -> Any:
        """Strings and objects (errors) as scrubbed text; numbers as they are (formats
        such as ``%d`` need them)."""
        if isinstance(value, int | float) or value is None:
            return value
        return scrub(str(value), self.url)


def log_config(url: str | None, level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn and everything else in the process."""
    scrubbed = {"scrub": {"()": ScrubFilter, "url": url}}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": scrubbed,
        "formatters": {
            "default": {
                "()": "uvicorn.logging.DefaultFormatter",
                "fmt": "%(levelprefix)s %(message)s",
                "use_colors": None,
            },
            "access": {
                "()": "uvicorn.logging.AccessFormatter",
                "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s',
            },
        },
        "handlers": {
            "default": {
                "formatter": "default",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "filters": ["scrub"],
            },
            "access": {
                "formatter": "access",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "filters": ["scrub"],
            },
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            "pcsearch": {"handlers": ["default"], "level": level.upper(), "propagate": False},
        },
    }
