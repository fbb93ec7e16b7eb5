"""Per-account login throttling, whatever address the attempts come from (issue 10, item 11).

django-axes locks an (account, address) pair after AXES_FAILURE_LIMIT failures: 80 wrong
passwords spread over 20 addresses, then the right one from a 21st, logged in (SIAO accounts
have no second factor). On top of it, an account must wait before each new password attempt
once it has failed LOGIN_ACCOUNT_FREE_FAILURES times: 1 minute after the 10th failure, then 2,
4, 8… up to LOGIN_ACCOUNT_MAX_DELAY_MINUTES, counted over the last 24 hours and since the
account's last successful login or password reset.

Why a growing delay and not a lock: anyone who knows an agent's e-mail address could lock the
account for good. A delay bounds a guesser to a few dozen passwords a day (nothing against 12
characters) while the agent can always get in: between two attempts, or at once through
« Mot de passe oublié » (a reset lifts the delay) or ProConnect. Attempts refused during the
delay are journaled but do not count (retrying does not make the wait longer). Unknown
addresses are throttled exactly like real accounts (no account enumeration).

The failures are read from the audit journal (LOGIN_FAILURE, indexed by e-mail and date),
so every web process sees the same count without a shared cache. On PostgreSQL, the check, the
password test and the journal entry of one account run under a transaction-level advisory lock
on its address (``serialized``): simultaneous attempts on one account are taken one at a time,
so a burst of parallel requests cannot all pass the check before the first failure is counted.
"""

import datetime
import math

from django.conf import settings
from django.utils import timezone

from siao_ofii import locks
from siao_ofii.audit.models import AuditAction, AuditEvent
from siao_ofii.audit.services import record

WINDOW = datetime.timedelta(hours=24)


def _since(email, now):
    from .models import Agent

    since = now - WINDOW
    agent = Agent.objects.filter(email__iexact=email).only("last_login").first()
    if agent is not None and agent.last_login and agent.last_login > since:
        since = agent.last_login
    reset = (
        AuditEvent.objects.filter(action=AuditAction.AGENT_CHANGED, actor_email__iexact=email,
                                  timestamp__gt=since, details__step="password_reset")
        .order_by("-timestamp").values_list("timestamp", flat=True).first()
    )
    return reset or since


def serialized(email):
    """One attempt at a time per account (addresses folded to lower case), until the enclosing
    transaction ends."""
    return locks.serialized("login:" + (email or "").strip().lower())


def delay_after(failures):
    """The wait imposed after ``failures`` counted failures (zero below the free ones)."""
    free = settings.LOGIN_ACCOUNT_FREE_FAILURES
    if failures < free:
        return datetime.timedelta(0)
    minutes = min(2 ** min(failures - free, 20), settings.LOGIN_ACCOUNT_MAX_DELAY_MINUTES)
    return datetime.timedelta(minutes=minutes)


def wait_for(email, now=None):
    """How long this account must still wait before a password attempt (zero: go ahead)."""
    now = now or timezone.now()
    email = (email or "").strip().lower()
    if not email:
        return datetime.timedelta(0)
    failures = (
        AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILURE, actor_email=email, timestamp__gt=_since(email, now))
        .exclude(details__has_key="throttled")
    )
    count = failures.count()
    delay = delay_after(count)
    if not delay:
        return delay
    last = failures.order_by("-timestamp").values_list("timestamp", flat=True).first()
    return max(last + delay - now, datetime.timedelta(0))


def refuse(request, email, wait):
    """Journal the refused attempt (not counted) and return the French message."""
    record(AuditAction.LOGIN_FAILURE, request=request, attempted_email=email[:254], throttled=True)
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return (
        "Trop de tentatives de connexion ont échoué pour ce compte : par sécurité, attendez "
        f"{minutes} minute{'s' if minutes > 1 else ''} avant de réessayer, ou choisissez un nouveau mot de passe "
        "avec « Mot de passe oublié »."
    )
