import datetime
import zoneinfo

import pytest
import time_machine

FROZEN = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))


def pin_demo_habilitations(demo, today):
    """The demo accounts are created once per test database, dated by the real clock: pin their
    validity around the frozen ``today`` (``expired`` ended the day before)."""
    from referentiel.models import Habilitation

    Habilitation.objects.filter(agent__in=[a for k, a in demo.items() if k != "expired"]).update(
        valid_from=today - datetime.timedelta(days=300), valid_until=today + datetime.timedelta(days=300))
    Habilitation.objects.filter(agent=demo["expired"]).update(
        valid_from=today - datetime.timedelta(days=30), valid_until=today - datetime.timedelta(days=1))


@pytest.fixture(autouse=True)
def frozen(demo):
    """The return-flow tests are written for 20 November 2026, noon, Paris."""
    with time_machine.travel(FROZEN, tick=False) as traveller:
        pin_demo_habilitations(demo, FROZEN.date())
        yield traveller
