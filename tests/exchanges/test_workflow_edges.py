"""The parts of the list workflow that the pipeline tests left untested (found by
``make mutation GROUPS=workflow``): a file that kills its worker twice, the column mapping, which
earlier uploads a new one replaces, the corrections row by row and the new version, each with
the exact French refusal and the exact journal entry (actor, object, département, address,
details)."""

import datetime
import logging

import pytest
from django.test import RequestFactory

from exchanges.models import ListRow, ListState, MonthlyList, Movement
from exchanges.services import workflow
from referentiel.models import Departement
from siao_ofii.audit.models import AuditAction, AuditEvent
from siao_ofii.privatefiles.storage import private_storage
from tests.exchanges import samples
from tests.factories import make_list

PERIOD = "2026-11"
KILLED = (
    "La lecture de ce fichier a interrompu le traitement à deux reprises : il est refusé et a été supprimé. "
    "Ouvrez-le dans votre tableur, supprimez les lignes et colonnes vides éloignées du tableau, enregistrez-le "
    "de nouveau puis déposez-le."
)
ONLY_DRAFT = "Seule une liste en brouillon peut être corrigée ligne par ligne."
REASON = "Rectification demandée par la personne (article R.744-52)"


@pytest.fixture
def dep69(db):
    return Departement.objects.get(code="69")


@pytest.fixture
def request_from():
    """A request from a known address and browser: the journal must keep both."""
    def make(user):
        request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Firefox/140.0")
        request.user = user
        return request
    return make


def journal(event):
    return (event.action, event.actor_email, event.object_type, event.object_id, event.departement,
            event.ip_address, event.user_agent, event.details)


def last_event():
    return AuditEvent.objects.latest("pk")


def received(dep, user, rows=samples.GOOD, header=samples.HEADER_FR, period=PERIOD):
    return workflow.receive_upload(dep, period, samples.csv_bytes(rows, header), name="liste.csv", user=user,
                                   run=False)


def uploaded(dep, user, rows=samples.GOOD, header=samples.HEADER_FR, period=PERIOD):
    return workflow.process_list(received(dep, user, rows, header, period).pk)


def refusal(call):
    with pytest.raises(workflow.WorkflowError) as exc:
        call()
    return str(exc.value)


# --- a file that kills its worker -----------------------------------------------------------


def test_third_delivery_refuses_the_file_and_deletes_it(demo, dep69, caplog):
    ml = received(dep69, demo["siao.69"])
    stored = workflow.upload_name(ml.source_path)
    assert workflow.start_attempt(ml.pk) is True
    assert workflow.start_attempt(ml.pk) is True
    assert MonthlyList.objects.get(pk=ml.pk).attempts == 2 and private_storage().exists(stored)
    # Counts left by a half-finished attempt are reset by the refusal.
    MonthlyList.objects.filter(pk=ml.pk).update(progress=40, row_count=5, error_count=2, warning_count=1)
    with caplog.at_level(logging.ERROR, logger="exchanges.services.workflow"):
        assert workflow.start_attempt(ml.pk) is False
    ml.refresh_from_db()
    assert (ml.state, ml.attempts, ml.progress, ml.row_count, ml.error_count, ml.warning_count, ml.source_path) == (
        ListState.FAILED, 3, 100, 0, 0, 0, "")
    assert ml.report["file_errors"] == [KILLED]
    assert not private_storage().exists(stored)
    assert [r.getMessage() for r in caplog.records] == [
        f"list {ml.pk}: processing killed its worker 2 times, marked failed"]
    assert journal(last_event()) == (
        AuditAction.UPLOAD, "siao.69@demo.test", "exchanges.MonthlyList", str(ml.pk), "69", None, "",
        {"period": PERIOD, "step": "refused_after_worker_crashes", "attempts": 2})
    assert workflow.process_list(ml.pk).state == ListState.FAILED  # a late delivery changes nothing


def test_attempts_are_counted_only_while_processing(demo, dep69):
    validated = make_list("69", PERIOD, uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], rows=1)
    assert workflow.start_attempt(validated.pk) is True
    assert workflow.start_attempt(10**9) is True  # gone: process_list says so
    validated.refresh_from_db()
    assert (validated.attempts, validated.state) == (0, ListState.VALIDATED)


# --- the column mapping ---------------------------------------------------------------------


def _needs_mapping(dep, user):
    header = list(samples.HEADER_FR)
    header[4] = "Situation au 1er du mois"
    ml = uploaded(dep, user, header=header)
    assert ml.state == ListState.FAILED and ml.report["needs_mapping"] and ml.source_path
    return ml


def test_mapping_only_for_a_failed_upload_that_asks_for_it_and_kept_its_file(demo, dep69):
    user = demo["siao.69"]
    expected = "Ce dépôt n’attend pas de correspondance de colonnes."
    draft = uploaded(dep69, user)
    draft.report["needs_mapping"] = True
    draft.source_path = "still-there.csv"
    assert refusal(lambda: workflow.set_mapping(draft, {"status": 4}, user=user, run=False)) == expected
    waiting = _needs_mapping(dep69, user)
    waiting.source_path = ""
    assert refusal(lambda: workflow.set_mapping(waiting, {"status": 4}, user=user, run=False)) == expected
    waiting.refresh_from_db()
    waiting.report = {**waiting.report, "needs_mapping": False}
    assert refusal(lambda: workflow.set_mapping(waiting, {"status": 4}, user=user, run=False)) == expected
    assert MonthlyList.objects.get(pk=waiting.pk).state == ListState.FAILED


def test_mapping_keeps_chosen_columns_and_restarts_processing(demo, dep69, request_from):
    user = demo["siao.69"]
    ml = _needs_mapping(dep69, user)
    MonthlyList.objects.filter(pk=ml.pk).update(attempts=2)
    workflow.set_mapping(ml, {"status": "4", "sex": "", "nationality": None}, user=user, request=request_from(user),
                         run=False)
    ml.refresh_from_db()
    assert (ml.state, ml.progress, ml.attempts, ml.report["mapping"]) == (ListState.PROCESSING, 0, 0, {"status": 4})
    assert journal(last_event()) == (
        AuditAction.UPLOAD, "siao.69@demo.test", "exchanges.MonthlyList", str(ml.pk), "69", "203.0.113.7",
        "Firefox/140.0", {"period": PERIOD, "step": "column_mapping"})
    assert workflow.process_list(ml.pk).state == ListState.DRAFT


# --- what a new upload replaces -------------------------------------------------------------


def test_new_upload_replaces_this_month_s_draft_and_failed_attempt_only(demo, dep69):
    user = demo["siao.69"]
    october = uploaded(dep69, user, rows=samples.GOOD[:1], period="2026-10")
    draft = uploaded(dep69, user, rows=samples.GOOD[:2])
    failed = _needs_mapping(dep69, user)
    latest = uploaded(dep69, user)
    assert set(MonthlyList.objects.values_list("pk", flat=True)) == {october.pk, latest.pk}
    event = AuditEvent.objects.filter(action=AuditAction.LIST_CORRECTED).latest("pk")
    replaced = event.details.pop("replaced_lists")
    assert sorted(replaced.split(",")) == [f"v{draft.version}:draft", f"v{failed.version}:failed"] == [
        "v1:draft", "v1:failed"]  # no version is used up before validation
    assert journal(event) == (
        AuditAction.LIST_CORRECTED, "siao.69@demo.test", "exchanges.MonthlyList", str(latest.pk), "69", None, "",
        {"deleted_rows": 2})


def test_a_newer_upload_still_processing_is_not_replaced_by_an_older_one(demo, dep69):
    user = demo["siao.69"]
    older, newer = received(dep69, user, rows=samples.GOOD[:1]), received(dep69, user)
    assert workflow.process_list(older.pk).state == ListState.DRAFT
    assert MonthlyList.objects.get(pk=newer.pk).state == ListState.PROCESSING
    assert workflow.process_list(newer.pk).state == ListState.DRAFT
    assert not MonthlyList.objects.filter(pk=older.pk).exists()


# --- corrections row by row -----------------------------------------------------------------


def _values(sample_row, **changes):
    keys = ["last_name", "first_name", "birth_date", "sex", "status", "shelter_address", "entry_date"]
    return {**dict(zip(keys, sample_row)), **changes}


def test_rows_are_corrected_only_in_a_draft(demo, dep69):
    user = demo["siao.69"]
    ml = make_list("69", PERIOD, uploaded_by=user, validated_by=user, rows=2)
    row = ml.rows.first()
    assert refusal(lambda: workflow.update_row(row, _values(samples.GOOD[0]), user=user)) == ONLY_DRAFT
    assert refusal(lambda: workflow.delete_row(row, user=user)) == ONLY_DRAFT
    assert ml.rows.count() == 2


def test_row_fix_stores_values_invalid_ones_empty_and_journals(demo, dep69, request_from):
    user = demo["siao.69"]
    ml = uploaded(dep69, user, rows=samples.GOOD[:1] + samples.BAD[:1])
    row = ml.rows.get(line_number=3)
    values = _values(samples.BAD[0], sex="X", birth_date="30/02/1991")
    del values["entry_date"]  # a field the form did not send counts as empty
    workflow.update_row(row, values, user=user, request=request_from(user))
    row.refresh_from_db()
    assert (row.last_name, row.sex, row.birth_date, row.entry_date) == ("MARTIN", "", None, None)
    assert row.raw["entry_date"] == "" and row.raw["sex"] == "X"
    assert {e["field"] for e in row.errors} == {"sex", "birth_date", "entry_date"}
    ml.refresh_from_db()
    assert (ml.row_count, ml.error_count) == (2, 1)
    assert journal(last_event()) == (
        AuditAction.LIST_CORRECTED, "siao.69@demo.test", "exchanges.MonthlyList", str(ml.pk), "69", "203.0.113.7",
        "Firefox/140.0", {"period": PERIOD, "line": 3, "remaining_errors": 1})


def test_row_fix_warns_of_a_duplicate_of_an_earlier_line_only(demo, dep69):
    user = demo["siao.69"]
    ml = uploaded(dep69, user, rows=samples.GOOD[:2] + samples.BAD[:1])
    third = workflow.update_row(ml.rows.get(line_number=4), _values(samples.GOOD[0]), user=user)
    assert third.warnings == [{"column": "NOM", "field": "last_name",
                               "message": "même personne qu’à la ligne 2 (doublon dans le fichier)"}]
    first = workflow.update_row(ml.rows.get(line_number=2), _values(samples.GOOD[0]), user=user)
    assert first.warnings == []


def test_row_fix_reads_agdref_only_when_the_list_collected_it(demo, dep69):
    user = demo["siao.69"]
    ml = uploaded(dep69, user, rows=samples.GOOD[:1])
    # An entry more than 5 years back: a warning, so that the row keeps its cells as read (kept_raw).
    values = _values(samples.GOOD[0], agdref="7501234567", nationality="Afghane", entry_date="01/01/2015")
    row = workflow.update_row(ml.rows.get(), values, user=user)
    assert row.warnings and (row.agdref, row.nationality, "agdref" in row.raw) == ("", "", False)
    assert row.raw["entry_date"] == "01/01/2015"
    MonthlyList.objects.filter(pk=ml.pk).update(report={**ml.report, "with_agdref": True})
    row = workflow.update_row(ListRow.objects.get(pk=row.pk), values, user=user)
    assert (row.agdref, row.nationality, row.raw["agdref"]) == ("7501234567", "Afghane", "7501234567")
    row = workflow.update_row(ListRow.objects.get(pk=row.pk), {**values, "agdref": "", "nationality": ""}, user=user)
    assert (row.agdref, row.nationality, row.raw["agdref"], row.raw["nationality"]) == ("", "", "", "")
    row = workflow.update_row(ListRow.objects.get(pk=row.pk), _values(samples.GOOD[0]), user=user)
    assert (row.warnings, row.raw) == ([], {})  # fixed: its cells are no longer kept


def test_row_fix_compares_with_last_month_s_validated_list(demo, dep69):
    """The fixed row is last month's person: present, not a new arrival."""
    user = demo["siao.69"]
    october = uploaded(dep69, user, rows=samples.GOOD[:1], period="2026-10")
    workflow.validate_list(october, user)
    ml = uploaded(dep69, user, rows=samples.GOOD[1:2] + samples.BAD[:1])
    row = workflow.update_row(ml.rows.get(line_number=3), _values(samples.GOOD[0]), user=user)
    assert row.movement == Movement.PRESENT


def test_row_removal_recounts_and_journals_the_line(demo, dep69, request_from):
    user = demo["siao.69"]
    ml = uploaded(dep69, user, rows=samples.GOOD[:1] + samples.BAD[:1])
    workflow.delete_row(ml.rows.get(line_number=3), user=user, request=request_from(user))
    ml.refresh_from_db()
    assert (ml.row_count, ml.error_count, list(ml.rows.values_list("line_number", flat=True))) == (1, 0, [2])
    assert journal(last_event()) == (
        AuditAction.LIST_CORRECTED, "siao.69@demo.test", "exchanges.MonthlyList", str(ml.pk), "69", "203.0.113.7",
        "Firefox/140.0", {"period": PERIOD, "line": 3, "step": "row_removed", "remaining_errors": 0})


# --- a new version of a validated list ------------------------------------------------------


def test_only_the_validated_version_is_corrected_and_with_a_reason(demo, dep69):
    user = demo["siao.69"]
    draft = uploaded(dep69, user, rows=samples.GOOD[:1])
    assert refusal(lambda: workflow.start_correction(draft, user=user, reason=REASON)) == (
        "Seule la version validée peut être corrigée.")
    workflow.validate_list(draft, user)
    draft = MonthlyList.objects.get(pk=draft.pk)
    for blank in (None, "", "  "):
        assert refusal(lambda: workflow.start_correction(draft, user=user, reason=blank)) == (
            "Indiquez le motif de la correction (par exemple : rectification demandée par la personne).")
    assert MonthlyList.objects.count() == 1


def test_new_version_copies_the_list_and_journals(demo, dep69, request_from):
    user = demo["siao.69"]
    ml = uploaded(dep69, user, rows=samples.GOOD + samples.GOOD[:1])  # line 5 repeats line 2: a warning
    workflow.validate_list(ml, user)
    ml.refresh_from_db()
    assert (ml.row_count, ml.error_count, ml.warning_count) == (4, 0, 1)
    long_reason = "R" * 2001
    draft = workflow.start_correction(ml, user=user, reason=long_reason, request=request_from(user))
    draft.refresh_from_db()
    assert (draft.version, draft.state, draft.progress, draft.source_sha256, draft.source_format, draft.source_name) == (
        2, ListState.DRAFT, 100, ml.source_sha256, "csv", "liste.csv")
    assert (draft.row_count, draft.error_count, draft.warning_count) == (4, 0, 1)
    assert draft.report == {**ml.report, "corrects_version": 1}
    assert draft.correction_reason == "R" * 2000
    copied = list(draft.rows.values_list("line_number", "last_name", "birth_date", "errors"))
    assert copied == list(ml.rows.values_list("line_number", "last_name", "birth_date", "errors"))
    assert journal(last_event()) == (
        AuditAction.LIST_CORRECTED, "siao.69@demo.test", "exchanges.MonthlyList", str(draft.pk), "69",
        "203.0.113.7", "Firefox/140.0", {"period": PERIOD, "from_version": 1, "step": "new_version"})


def test_new_version_of_a_long_list_copies_every_row(demo, dep69):
    """Rows are copied in batches of 5,000: a list of 5,001 rows loses none."""
    user = demo["siao.69"]
    ml = make_list("69", PERIOD, uploaded_by=user, validated_by=user, rows=5001)
    draft = workflow.start_correction(ml, user=user, reason=REASON)
    assert draft.rows.count() == 5001
    assert draft.rows.order_by("-line_number").values_list("line_number", flat=True).first() == 5002
    assert datetime.date(1990, 1, 1) + datetime.timedelta(days=5000) == draft.rows.get(line_number=5002).birth_date


def test_an_attempt_counts_for_its_own_list_only(demo, dep69):
    user = demo["siao.69"]
    mine, other = received(dep69, user), received(Departement.objects.get(code="01"), user)
    assert workflow.start_attempt(mine.pk) is True
    assert [MonthlyList.objects.get(pk=ml.pk).attempts for ml in (mine, other)] == [1, 0]


def test_journal_names_the_agent_when_there_is_no_request(demo, dep69):
    """A correction made outside a page (a script, a task) is still journaled under the agent."""
    user = demo["siao.69"]
    waiting = _needs_mapping(dep69, user)
    workflow.set_mapping(waiting, {"status": 4}, user=user, run=False)
    assert (last_event().actor_email, last_event().details) == ("siao.69@demo.test", {"period": PERIOD,
                                                                                      "step": "column_mapping"})
    ml = uploaded(dep69, user, rows=samples.GOOD[:2])
    workflow.delete_row(ml.rows.get(line_number=3), user=user)
    assert (last_event().actor_email, last_event().ip_address) == ("siao.69@demo.test", None)


def test_row_fix_and_new_version_journal_the_agent_without_a_request(demo, dep69):
    user = demo["siao.69"]
    ml = uploaded(dep69, user, rows=samples.GOOD[:1] + samples.BAD[:1])
    workflow.update_row(ml.rows.get(line_number=3), _values(samples.GOOD[1]), user=user)
    assert last_event().actor_email == "siao.69@demo.test"
    workflow.validate_list(MonthlyList.objects.get(pk=ml.pk), user)
    workflow.start_correction(MonthlyList.objects.get(pk=ml.pk), user=user, reason=REASON)
    assert (last_event().actor_email, last_event().details["step"]) == ("siao.69@demo.test", "new_version")


def test_a_row_without_a_message_keeps_no_copy_of_its_cells_and_is_edited_from_its_checked_values(
        client, demo, dep69):
    """Only a row with a message keeps its cells as read (``workflow.kept_raw``): the agent fixes
    it from what the file said. A clean row's form starts from its checked values (dates as
    JJ/MM/AAAA, sex and status as codes), and saving them unchanged changes nothing."""
    from exchanges.forms import RowForm

    user = demo["siao.69"]
    ml = uploaded(dep69, user, rows=[samples.GOOD[2], samples.BAD[0]])
    clean, wrong = ml.rows.order_by("line_number")
    assert (clean.errors, clean.warnings, clean.raw) == ([], [], {})
    assert wrong.raw == {"last_name": "MARTIN", "first_name": "Paul", "birth_date": "31/02/1990", "sex": "M",
                         "status": "DA", "shelter_address": "5 rue Sala, 69002 Lyon", "entry_date": "01/11/2026"}
    initial = RowForm.initial_from(clean)
    assert initial == {"last_name": "HÖFFER", "first_name": "Anne-Marie", "birth_date": "01/01/2001", "sex": "F",
                       "status": "PS", "shelter_address": "3 quai Perrache, 69002 Lyon", "entry_date": "02/11/2026",
                       "agdref": "", "nationality": ""}
    fields = ["last_name", "first_name", "birth_date", "sex", "status", "shelter_address", "entry_date", "identity_key",
              "movement", "continuous_months", "ada_flag", "errors", "warnings", "raw"]
    before = ListRow.objects.filter(pk=clean.pk).values(*fields).get()
    workflow.update_row(clean, initial, user=user)
    assert ListRow.objects.filter(pk=clean.pk).values(*fields).get() == before
    client.force_login(user)
    page = client.get(f"/listes/{ml.pk}/lignes/{clean.pk}/").content.decode()
    assert 'value="01/01/2001"' in page and "Valeur lue dans le fichier" not in page
    page = client.get(f"/listes/{ml.pk}/lignes/{wrong.pk}/").content.decode()
    assert "Valeur lue dans le fichier : « 31/02/1990 »" in page


def test_the_rows_stored_before_the_rule_lose_the_cells_of_their_clean_rows(demo, dep69):
    """Migration 0011: the rule of ``kept_raw`` applied to the rows already stored."""
    from importlib import import_module

    from django.apps import apps

    ml = make_list("69", PERIOD, uploaded_by=demo["siao.69"], rows=3)
    clean, wrong, odd = ml.rows.order_by("line_number")
    cells = {"last_name": "Dupont ", "birth_date": "03/02/1990"}
    message = [{"column": "NOM", "field": "last_name", "message": "x"}]
    ListRow.objects.filter(pk=clean.pk).update(raw=cells, errors=[], warnings=[])
    ListRow.objects.filter(pk=wrong.pk).update(raw=cells, errors=message, warnings=[])
    ListRow.objects.filter(pk=odd.pk).update(raw=cells, errors=[], warnings=message)
    import_module("exchanges.migrations.0011_clean_rows_keep_no_raw").forget_raw_of_clean_rows(apps, None)
    assert list(ml.rows.order_by("line_number").values_list("raw", flat=True)) == [{}, cells, cells]
