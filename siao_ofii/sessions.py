"""Sessions read from Redis, kept in PostgreSQL (``SESSION_ENGINE`` when REDIS_URL is set).

Django's ``cached_db`` store, with two changes for a Redis outage:

- **Reading** falls back to the database and does not fail when it cannot put the session back
  into the cache (Django's ``load`` catches a failed cache read but not the write that follows):
  pages keep working, at one query more.
- **Ending** a session (logout, ``flush``, expiry cleanup) deletes the cache entry *before* the
  database row. If the cache cannot be reached the error propagates and both copies are left as
  they were: the logout fails visibly and can be retried. Django's order (row first, then
  cache) would leave a copy in Redis that a replayed cookie could use once Redis is back.
"""

import logging

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore

logger = logging.getLogger("django.contrib.sessions")


class SessionStore(cached_db.SessionStore):
    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:  # noqa: BLE001 - cache unreachable: the database has the session
            logger.warning("Sessions : cache injoignable, lecture dans la base de données.", exc_info=True)
            data = None
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date))
        except Exception:  # noqa: BLE001
            logger.warning("Sessions : cache injoignable, session non mise en cache.", exc_info=True)
        return data

    def delete(self, session_key=None):
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        self._cache.delete(self.cache_key_prefix + session_key)  # raises if Redis is unreachable
        DbSessionStore.delete(self, session_key)
