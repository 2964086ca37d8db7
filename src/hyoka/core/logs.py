"""Libraries' own log lines kept off the user's terminal while hyoka speaks for them."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def quiet_logger(name: str, level: int = logging.ERROR) -> Iterator[None]:
    """Raise logger `name` to `level` for the block: warnings a library logs (retries,
    annotations it skipped) are not what hyoka reports, and no user can act on them."""
    logger = logging.getLogger(name)
    before = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(before)
