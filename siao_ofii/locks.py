"""Serialising a check-then-act on counters read from the audit journal (login delays, password
reveal limits): the check, the action and its journal entry run in one transaction holding
PostgreSQL transaction-level advisory locks, so simultaneous requests are taken one at a time
instead of all passing the check before any of them is journaled.

SQLite (the embedded default, one process) already serialises its writers."""

import contextlib
import hashlib

from django.db import connection, transaction


def _key(name):
    """A signed 64-bit key (what ``pg_advisory_xact_lock(bigint)`` takes) for a lock name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def serialized(*names):
    """Hold the named locks until the enclosing transaction ends. Several names are always
    taken in the same order (no deadlock between two callers naming the same locks)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for key in sorted({_key(name) for name in names}):
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
        yield
