"""Races run as races: threads released together by a barrier, each with its own app context and
database session (or its own test client), so they meet in the database as two requests would."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from solidarity.extensions import db

WAIT = 20  # seconds: a bound for a stuck thread, never a pause


def at_once(app, work: Callable[[int], Any], threads: int = 2) -> list[Any]:
    """Run work(0) .. work(threads - 1) together; each one's result, or the exception it raised."""
    barrier = threading.Barrier(threads)
    results: list[Any] = [None] * threads

    def run(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=WAIT)
                results[i] = work(i)
            except Exception as exc:  # returned to the test, which names what it expected
                db.session.rollback()
                results[i] = exc
            finally:
                db.session.remove()

    started = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=WAIT * 3)
    assert not any(thread.is_alive() for thread in started), "a racing thread is stuck"
    return results
