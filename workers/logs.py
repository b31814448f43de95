"""Log set-up for worker processes: one line per event, never a password."""

from __future__ import annotations

import logging

from store.storage import scrub


class ScrubPasswords(logging.Filter):
    """Removes the storage URL's password from every record, whatever wrote it."""

    def __init__(self, url: str | None) -> None:
        super().__init__()
        self.url = url

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        cleaned = scrub(message, self.url)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_text:
            record.exc_text = scrub(record.exc_text, self.url)
        return True


def configure_logging(url: str | None, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler.addFilter(ScrubPasswords(url))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("optuna", "jax"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
