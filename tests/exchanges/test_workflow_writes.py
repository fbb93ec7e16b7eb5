"""What the workflow writes, and only that (survivors of ``make mutation GROUPS=workflow``):
the journal of a version superseded by the administrator's ``import_list`` command, a row fix
that rewrites the list's counts and nothing else, and the rows of an upload written with one
COPY on PostgreSQL (never row by row)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exchanges.models import ListRow, ListState, MonthlyList
from exchanges.services import workflow
from referentiel.models import Departement
from siao_ofii.audit.models import AuditAction, AuditEvent
from tests.exchanges import samples

PERIOD = "2026-11"
REASON = "Rectification demandée par la personne (article R.744-52)"


@pytest.fixture
def dep69(db):
    return Departement.objects.get(code="69")


def uploaded(dep, user, rows=samples.GOOD):
    ml = workflow.receive_upload(dep, PERIOD, samples.csv_bytes(rows), name="liste.csv", user=user, run=False)
    return workflow.process_list(ml.pk)


def test_a_version_superseded_by_the_import_command_is_journaled_with_the_administrator(demo, dep69):
    """``system=True`` (no request): the journal of the superseded version names the
    administrator who ran the command, as the validation's own entry does."""
    agent, admin = demo["siao.69"], demo["admin"]
    first = workflow.validate_list(uploaded(dep69, agent, rows=samples.GOOD[:2]), agent)
    correction = workflow.start_correction(MonthlyList.objects.get(pk=first.pk), user=agent, reason=REASON)
    workflow.validate_list(correction, admin, system=True)
    superseded = AuditEvent.objects.get(action=AuditAction.LIST_CORRECTED, object_id=str(first.pk),
                                        details__superseded_by_version=2)
    assert (superseded.actor_id, superseded.actor_email, superseded.departement, superseded.ip_address,
            superseded.details) == (admin.pk, "admin@demo.test", "69", None,
                                    {"period": PERIOD, "superseded_by_version": 2})


def test_a_row_fix_rewrites_the_counts_of_its_list_and_nothing_else(demo, dep69):
    """The row's list, loaded with the row, may be older than the database (another agent's
    request changed it meanwhile): fixing the row saves the recount only."""
    agent = demo["siao.69"]
    ml = uploaded(dep69, agent, rows=samples.BAD[:1] + samples.GOOD[:1])
    row = ListRow.objects.select_related("monthly_list", "monthly_list__departement").get(
        monthly_list=ml, line_number=2)
    MonthlyList.objects.filter(pk=ml.pk).update(source_name="renommée.csv", correction_reason="changé ailleurs")
    workflow.update_row(row, {**row.raw, "birth_date": "28/02/1990", "entry_date": "01/11/2026"}, user=agent)
    ml = MonthlyList.objects.get(pk=ml.pk)
    assert (ml.source_name, ml.correction_reason, ml.row_count, ml.error_count) == (
        "renommée.csv", "changé ailleurs", 2, 0)


def test_the_rows_of_an_upload_are_written_by_copy_on_postgresql(demo, dep69):
    """Issue 15: on PostgreSQL the rows are written by one COPY (not an INSERT per batch);
    the embedded SQLite inserts them."""
    ml = workflow.receive_upload(dep69, PERIOD, samples.csv_bytes(samples.GOOD), name="liste.csv",
                                 user=demo["siao.69"], run=False)
    with CaptureQueriesContext(connection) as queries:
        ml = workflow.process_list(ml.pk)
    assert (ml.state, ml.row_count) == (ListState.DRAFT, 3)
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "exchanges_listrow"')]
    assert len(inserts) == (0 if connection.vendor == "postgresql" else 1)
    assert ListRow.objects.filter(monthly_list=ml).count() == 3
