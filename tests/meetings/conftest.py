import datetime

import pytest
from django.utils import timezone

from exchanges.models import ListRow, Movement
from meetings.models import Meeting
from referentiel.models import Departement
from tests.factories import make_list


def aware(y, m, d, hh=14, mm=0):
    return timezone.make_aware(datetime.datetime(y, m, d, hh, mm))


@pytest.fixture
def dep69(db):
    return Departement.objects.get(code="69")


@pytest.fixture
def make_meeting(demo, dep69):
    def make(starts_at=None, departement=None, **kw):
        kw.setdefault("place", "Préfecture du Rhône, salle 3")
        return Meeting.objects.create(
            departement=departement or dep69, starts_at=starts_at or aware(2026, 11, 17),
            created_by=demo["prefecture.69"], **kw,
        )
    return make


@pytest.fixture
def validated_list(demo):
    """A validated list of 69 for ``period`` with ``rows`` rows; rows[i] attributes set by ``facts``."""
    def make(period="2026-11", rows=3, departement="69", start=0, facts=None, **kw):
        ml = make_list(departement, period, uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], rows=rows,
                       start=start, **kw)
        for i, row in enumerate(ListRow.objects.filter(monthly_list=ml).order_by("line_number")):
            f = (facts or {}).get(i, {})
            row.movement = f.get("movement", Movement.PRESENT)
            row.continuous_months = f.get("continuous_months", 2)
            row.ada_flag = f.get("ada_flag", False)
            for k in ("last_name", "status"):
                if k in f:
                    setattr(row, k, f[k])
            row.save()
        return ml
    return make
