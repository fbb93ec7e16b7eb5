import datetime
import zoneinfo
from contextlib import contextmanager
from pathlib import Path

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from referentiel.models import Agent, Departement, Habilitation, Role
from referentiel.services import grant_habilitation

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
# The instant every test starts at: no test reads the real clock, so no expected value depends
# on the day the suite runs. A Tuesday in the second half of November 2026, after the 10th (the
# November list is late from now on), in winter time. Tests that need another instant move the
# clock themselves (``time_machine.move_to(..., tick=False)``).
FROZEN_NOW = datetime.datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)
DEMO_EMAILS = {
    "admin": "admin@demo.test",
    "siege": "siege@demo.test",
    "dt.lyon": "dt.lyon@demo.test",
    "dt.paris": "dt.paris@demo.test",
    "siao.69": "siao.69@demo.test",
    "siao.75": "siao.75@demo.test",
    "siao-dna.69": "siao-dna.69@demo.test",
    "prefecture.69": "prefecture.69@demo.test",
}
EXPIRED = "expire.69@demo.test"
NOHAB = "sans.habilitation@demo.test"


class DemoAccounts(dict):
    """name → Agent, for the demo accounts plus ``expired`` (SIAO 69, ended yesterday) and
    ``nohab`` (no habilitation at all)."""

    @classmethod
    def get(cls):
        """The accounts, created once per test database (see conftest.django_db_setup) and
        again after a transactional test emptied the tables."""
        agents = {a.email: a for a in Agent.objects.filter(email__in=[*DEMO_EMAILS.values(), EXPIRED, NOHAB])}
        if len(agents) < len(DEMO_EMAILS) + 2:
            return cls.create()
        accounts = cls({name: agents[email] for name, email in DEMO_EMAILS.items()})
        accounts["expired"] = agents[EXPIRED]
        accounts["nohab"] = agents[NOHAB]
        return accounts

    @classmethod
    def create(cls):
        call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))
        accounts = cls({name: Agent.objects.get(email=email) for name, email in DEMO_EMAILS.items()})
        expired = Agent.objects.create_user(EXPIRED, "x-not-used-123")
        today = timezone.localdate()
        grant_habilitation(
            agent=expired, role=Role.SIAO, granted_by=accounts["admin"], reason="test",
            departements=Departement.objects.filter(code="69"),
            valid_from=today - datetime.timedelta(days=30), valid_until=today - datetime.timedelta(days=1),
        )
        accounts["expired"] = expired
        accounts["nohab"] = Agent.objects.create_user(NOHAB, "x-not-used-123")
        return accounts


def login(client, agent, verified=True):
    """Log ``agent`` in; with ``verified``, also pass the second factor (a confirmed TOTP device)."""
    client.force_login(agent)
    if verified:
        device, _ = TOTPDevice.objects.get_or_create(user=agent, name="test", defaults={"confirmed": True})
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@contextmanager
def count_queries():
    with CaptureQueriesContext(connection) as ctx:
        yield ctx


def assert_constant_queries(fetch, grow, times=2):
    """``fetch()`` must issue as many queries after ``grow()`` added rows as before."""
    with count_queries() as before:
        fetch()
    for _ in range(times):
        grow()
    with count_queries() as after:
        fetch()
    assert len(after) == len(before), (
        f"{len(before)} requêtes avant, {len(after)} après : le nombre de requêtes croît avec les lignes.\n"
        + "\n".join(q["sql"] for q in after.captured_queries)
    )


def active_roles(agent):
    return set(Habilitation.objects.active().filter(agent=agent).values_list("role", flat=True))


# --- the private storage (STORAGES["private"]), whatever its backend ----------------------

def stored_bytes(name):
    from siao_ofii.privatefiles.storage import private_storage

    with private_storage().open(name) as fh:
        return fh.read()


def archive_file(extract):
    """A local copy of the stored archive (pyzipper and 7-Zip read files), beside the test's
    private root (a per-test folder)."""
    from django.conf import settings

    folder = Path(settings.PRIVATE_STORAGE_ROOT).parent / "copies"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / extract.file_name
    path.write_bytes(stored_bytes(extract.file_path))
    return path


def backdate_stored(name, when):
    """Make a stored file look last modified at ``when`` (aware datetime)."""
    import os

    from siao_ofii.privatefiles.models import StoredFile
    from siao_ofii.privatefiles.storage import DatabaseStorage, private_storage

    storage = private_storage()
    if isinstance(storage, DatabaseStorage):
        assert StoredFile.objects.filter(name=name).update(modified_at=when) == 1
    else:
        os.utime(storage.path(name), (when.timestamp(), when.timestamp()))


def fetch_minutes(client, meeting, fmt):
    """Ask for the minutes of ``meeting`` as the client's agent, run the build (the Celery task,
    queued after the commit) and download the result: the response of the download."""
    from django.test import TestCase
    from django.urls import resolve, reverse

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("meetings:minutes_request", args=[meeting.pk, fmt]))
    assert response.status_code == 302, response.status_code
    pk = resolve(response["Location"]).kwargs["pk"]
    page = client.get(response["Location"])
    assert page.status_code == 200 and page.context["doc"].state == "ready", page.context["doc"].state
    return client.get(reverse("meetings:minutes_download", args=[pk]))
