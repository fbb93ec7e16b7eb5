"""Plain factories for tests that need lists without going through a file upload."""

import datetime

from django.utils import timezone

from exchanges.models import ListRow, ListState, MonthlyList, Status
from referentiel.models import Departement


def make_list(departement="69", period="2026-11", *, uploaded_by, state=ListState.VALIDATED, rows=3, version=1,
              validated_by=None, first_line=2, start=0):
    dep = Departement.objects.get(code=departement) if isinstance(departement, str) else departement
    ml = MonthlyList.objects.create(
        departement=dep, period=period, version=version, state=state, uploaded_by=uploaded_by,
        validated_by=validated_by if state == ListState.VALIDATED else None,
        validated_at=timezone.now() if state == ListState.VALIDATED else None, row_count=rows, progress=100,
    )
    statuses = [Status.DA, Status.REFUGIE, Status.PROTECTION_SUBSIDIAIRE]
    ListRow.objects.bulk_create(
        ListRow(
            monthly_list=ml, line_number=first_line + i, last_name=f"NOM{start + i}", first_name=f"Prénom{start + i}",
            birth_date=datetime.date(1990, 1, 1) + datetime.timedelta(days=start + i), sex="F" if i % 2 else "M",
            status=statuses[i % 3], shelter_address=f"{i + 1} rue de la Paix, 69001 Lyon",
            entry_date=datetime.date(2026, 10, 1), identity_key=f"key-{start + i}",
        )
        for i in range(rows)
    )
    return ml


def get_or_make_list(departement, period, *, uploaded_by, rows=2):
    """The validated list of ``departement`` for ``period``, made if missing (matrix contexts
    of several apps share it: only one validated list per département and month may exist)."""
    existing = MonthlyList.objects.filter(departement__code=departement, period=period,
                                          state=ListState.VALIDATED).first()
    return existing or make_list(departement, period, uploaded_by=uploaded_by, validated_by=uploaded_by, rows=rows)
