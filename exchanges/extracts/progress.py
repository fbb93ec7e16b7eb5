"""How far the build of an archive has gone, for the progress bar the agent sees after
« Valider » (``exchanges.views.archive_status``).

Kept in Django's cache, never in the database: the build holds its list's row locked in one
transaction until the archive is recorded, so a progress column written from inside it would
not be seen before the end (and a GET writes nothing). The embedded default builds in a thread
of the web process (``siao_ofii.background``), which shares the process's cache: the bar moves.
With a worker in another process the bar moves only if CACHES is shared (Redis); otherwise the
page says the archive is being prepared and turns to « prête » once it is recorded.
"""

from django.core.cache import cache

TIMEOUT = 3600


def _key(kind, pk):
    return f"archive-progress:{kind}:{pk}"


def reporter(kind, pk, total):
    """A callable ``(rows_written)`` for ``archive.build_archive``: 0–95 % while rows are
    written (the ZIP, its hash and the record take the rest)."""
    total = max(total or 0, 1)

    def report(done):
        cache.set(_key(kind, pk), min(95, int(95 * done / total)), TIMEOUT)

    report(0)
    return report


def done(kind, pk):
    cache.delete(_key(kind, pk))


def get(kind, pk):
    """The percentage reported, or None when no build of this process is running."""
    return cache.get(_key(kind, pk))
