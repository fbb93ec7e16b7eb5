"""Issue 15, goal 3: a GET never writes to the database, and a page without a list costs at
most 4 queries.

Every GET URL of the permission matrix (tests/matrix) is walked for several accounts; the SQL
each request sends must hold no INSERT, UPDATE or DELETE, with one documented exception: the
audit journal (siao_ofii/audit), for the events the law or the security rules require on a
read, listed in JOURNALED_READS. Nothing else may write, not even the session (its idle expiry
is refreshed at most once a minute, siao_ofii.middleware.IdleSessionRefreshMiddleware)."""

import datetime
import re

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from siao_ofii.audit.models import AuditAction, AuditEvent
from tests.helpers import FROZEN_NOW, count_queries, login
from tests.test_permission_matrix import ROUTES, _do

pytestmark = pytest.mark.django_db

# The only writes a GET may make: journal entries.
# - NOMINATIVE_READ: every consultation of nominative data is journaled (R744-47, DESIGN §2).
# - DOWNLOAD: the download of a list, archive or return file is such a consultation too.
# - AUDIT_EXPORT: the export of the journal (names of agents, objects read) is journaled too.
# - ACCESS_DENIED / PERIMETER_DENIED: every refusal is journaled (issue 10, point 8).
# - API_CALL: every call of the system-to-system API is journaled, refused ones included (issue 14).
JOURNALED_READS = {AuditAction.NOMINATIVE_READ, AuditAction.DOWNLOAD, AuditAction.AUDIT_EXPORT,
                   AuditAction.ACCESS_DENIED, AuditAction.PERIMETER_DENIED, AuditAction.API_CALL}
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
JOURNAL_INSERT = re.compile(r'^\s*INSERT INTO "audit_auditevent"', re.IGNORECASE)
GET_ROUTES = [r for r in ROUTES if r.method == "get"]
ACCOUNTS = ["admin", "siege", "dt.lyon", "siao.69", "siao-dna.69", "prefecture.69", "expired", "anonymous"]


@pytest.mark.parametrize("account", ACCOUNTS)
def test_no_get_of_the_matrix_writes_anything_but_the_journal(client, demo, matrix_context, account, time_machine):
    time_machine.move_to(FROZEN_NOW, tick=False)  # no idle refresh falls due during the walk
    if account != "anonymous":
        login(client, demo[account])
    walked = 0
    for route in GET_ROUTES:
        before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        with count_queries() as queries:
            response = _do(client, route, matrix_context)
        assert response.status_code < 500, (route.id, response.status_code)
        writes = [q["sql"] for q in queries.captured_queries if WRITE.match(q["sql"])]
        others = [sql for sql in writes if not JOURNAL_INSERT.match(sql)]
        assert not others, f"GET {route.id} en tant que {account} écrit en base : {others}"
        journaled = set(AuditEvent.objects.filter(pk__gt=before).values_list("action", flat=True))
        assert journaled <= JOURNALED_READS, (route.id, account, journaled)
        assert len(writes) == AuditEvent.objects.filter(pk__gt=before).count(), (route.id, writes)
        walked += 1
    assert walked == len(GET_ROUTES) > 30


def test_second_factor_enrolment_page_writes_nothing(client, demo, time_machine):
    """The enrolment page of an agent without a device (the QR code) stores no device on GET."""
    time_machine.move_to(FROZEN_NOW, tick=False)
    login(client, demo["siege"], verified=False)
    with count_queries() as queries:
        response = client.get(reverse("second_factor"))
    assert response.status_code == 200 and response.context["enrolling"]
    assert not [q["sql"] for q in queries.captured_queries if WRITE.match(q["sql"])]


def test_list_free_page_costs_at_most_four_queries(client, demo, time_machine):
    """/mentions-legales/ logged in with a second factor: session, agent with their valid
    habilitations (one query, referentiel.backends.AgentBackend), OTP device. Three since the
    agent and the habilitations are read together (issue 15); the session is read from Redis,
    not from the database, when REDIS_URL is set (tests/test_sessions_redis.py)."""
    time_machine.move_to(FROZEN_NOW, tick=False)
    login(client, demo["siege"])
    client.get(reverse("legal_notice"))  # warm-up (content types, settings rows cached per process)
    with count_queries() as queries:
        response = client.get(reverse("legal_notice"))
    assert response.status_code == 200
    assert len(queries) == 3, "\n".join(q["sql"] for q in queries.captured_queries)


def test_idle_expiry_is_refreshed_at_most_once_a_minute(client, demo, time_machine):
    time_machine.move_to(FROZEN_NOW, tick=False)
    login(client, demo["siao.69"])
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    first = Session.objects.get(session_key=key).expire_date
    time_machine.move_to(FROZEN_NOW + datetime.timedelta(seconds=59), tick=False)
    client.get(reverse("home"))
    assert Session.objects.get(session_key=key).expire_date == first  # not written
    time_machine.move_to(FROZEN_NOW + datetime.timedelta(minutes=20), tick=False)
    client.get(reverse("home"))
    refreshed = Session.objects.get(session_key=key).expire_date
    assert refreshed == timezone.now() + datetime.timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES)
    # 40 minutes after login but 20 after the last request: still logged in.
    time_machine.move_to(FROZEN_NOW + datetime.timedelta(minutes=40), tick=False)
    assert client.get(reverse("home")).status_code == 200
    # 31 minutes later without a request: the session is gone.
    time_machine.move_to(FROZEN_NOW + datetime.timedelta(minutes=71), tick=False)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_platform_settings_are_read_without_a_write(client, demo, time_machine):
    """PlatformSettings.load() used get_or_create: the first GET that read the settings (the
    list template, the agdref columns) inserted the row. It now reads them, or their defaults
    while no administrator has saved them; the row is created by the first save."""
    from referentiel.models import PlatformSettings

    time_machine.move_to(FROZEN_NOW, tick=False)
    login(client, demo["siao.69"])
    assert not PlatformSettings.objects.exists()
    with count_queries() as queries:
        response = client.get(reverse("exchanges:template"))
    assert response.status_code == 200
    assert not [q["sql"] for q in queries.captured_queries if WRITE.match(q["sql"])]
    assert not PlatformSettings.objects.exists()
    defaults = PlatformSettings.load()
    assert (defaults.pk, defaults.retention_months, defaults.collect_agdref_nationality) == (1, 24, False)
    defaults.retention_months = 36
    defaults.save()  # the write path (the administration) creates the row
    assert list(PlatformSettings.objects.values_list("pk", "retention_months")) == [(1, 36)]
    assert PlatformSettings.load().retention_months == 36
