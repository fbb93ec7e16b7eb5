"""Rules of validation and of the OFII cross-département warning that the other workflow tests
left unchecked (survivors of ``make mutation GROUPS=workflow``): the recap shown before an
agent validates (what is sent, to whom: article L.744-6 CESEDA, instruction II.A.4), who may
validate and the exact refusals, the version that replaces the previous one, the journal, the
signal, and the "same person in another département" warning for OFII only.

The clock is frozen at 2026-11-24 10:00 Paris (tests/helpers.py): the November list is late
(deadline: 10 November), the December one is not."""

import datetime
import logging
import zoneinfo

import pytest
from django.test import RequestFactory

from exchanges.models import ListRow, ListState, MonthlyList, Movement
from exchanges.services import workflow
from exchanges.signals import list_validated
from referentiel.models import Departement, DirectionTerritoriale
from siao_ofii.audit.models import AuditAction, AuditEvent
from tests.exchanges import samples
from tests.factories import make_list

PERIOD = "2026-11"
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NOT_AGENT = "Seul un agent du SIAO de ce département peut agir sur cette liste."
ONLY_DRAFT = "Seule une liste en brouillon peut être validée."
EMPTY = "La liste ne contient aucune ligne."
REASON = "Rectification demandée par la personne (article R.744-52)"


def other_dep(code):
    return f"même personne dans la liste du même mois d’un autre département ({code})"


def warning(code):
    return {"kind": "other_departement", "column": "", "message": other_dep(code)}


@pytest.fixture
def dep69(db):
    return Departement.objects.get(code="69")


def with_request(user):
    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Firefox/140.0")
    request.user = user
    return request


def journal(event):
    return (event.action, event.actor_email, event.object_type, event.object_id, event.departement,
            event.ip_address, event.user_agent, event.details)


def uploaded(dep, user, rows=samples.GOOD, period=PERIOD):
    ml = workflow.receive_upload(dep, period, samples.csv_bytes(rows), name="liste.csv", user=user, run=False)
    return workflow.process_list(ml.pk)


def refusal(call):
    with pytest.raises(workflow.WorkflowError) as exc:
        call()
    return str(exc.value)


# --- the recap shown before validating ------------------------------------------------------


def test_recap_of_a_first_late_list_sent_to_the_dt_and_headquarters(demo, dep69):
    ml = uploaded(dep69, demo["siao.69"], rows=samples.GOOD + samples.GOOD[:1])  # line 5 repeats line 2 (2 DA)
    recap = workflow.validation_recap(MonthlyList.objects.select_related("departement").get(pk=ml.pk))
    assert recap == {
        "rows": 4, "errors": 0, "warnings": 1, "ada": 2, "version": 1, "replaces": False, "late": True,
        "deadline": datetime.datetime(2026, 11, 10, 23, 59, 59, 999999, tzinfo=PARIS),
        "dt": DirectionTerritoriale.objects.get(name="DT Lyon"),
    }


def test_recap_counts_errors_and_ada_and_is_on_time_before_the_10th(demo, dep69):
    ml = uploaded(dep69, demo["siao.69"], rows=samples.GOOD[:2] + samples.BAD, period="2026-12")
    ml.report["ada_count"] = 0
    recap = workflow.validation_recap(ml)
    assert (recap["rows"], recap["errors"], recap["warnings"], recap["ada"], recap["late"], recap["deadline"]) == (
        4, 2, 0, 0, False, datetime.datetime(2026, 12, 10, 23, 59, 59, 999999, tzinfo=PARIS))


def test_recap_of_a_correction_replaces_this_month_s_version_only(demo, dep69):
    user = demo["siao.69"]
    make_list("69", "2026-10", uploaded_by=user, validated_by=user, rows=1)  # another month
    make_list("01", PERIOD, uploaded_by=user, validated_by=user, rows=1)  # another département
    draft = uploaded(dep69, user, rows=samples.GOOD[:1])
    recap = workflow.validation_recap(draft)
    assert (recap["version"], recap["replaces"]) == (1, False)
    workflow.validate_list(draft, user)
    correction = workflow.start_correction(MonthlyList.objects.get(pk=draft.pk), user=user, reason=REASON)
    recap = workflow.validation_recap(correction)
    assert (recap["version"], recap["replaces"]) == (2, True)


def test_recap_of_a_departement_without_dt_goes_to_headquarters_alone(demo, dep69):
    Departement.objects.filter(code="69").update(dt=None)
    ml = uploaded(Departement.objects.get(code="69"), demo["siao.69"], rows=samples.GOOD[:1])
    assert workflow.validation_recap(MonthlyList.objects.get(pk=ml.pk))["dt"] is None


# --- who validates what ---------------------------------------------------------------------


def test_only_an_agent_of_the_departement_validates(demo, dep69):
    ml = uploaded(dep69, demo["siao.69"], rows=samples.GOOD[:1])
    for name in ("siao.75", "dt.lyon", "siege", "prefecture.69"):
        assert refusal(lambda: workflow.validate_list(ml, demo[name])) == NOT_AGENT
    assert MonthlyList.objects.get(pk=ml.pk).state == ListState.DRAFT
    assert not AuditEvent.objects.filter(action=AuditAction.LIST_VALIDATED).exists()


def test_only_a_draft_with_rows_and_without_errors_is_validated(demo, dep69):
    user = demo["siao.69"]
    validated = make_list("69", "2026-10", uploaded_by=user, validated_by=user, rows=1)
    assert refusal(lambda: workflow.validate_list(validated, user)) == ONLY_DRAFT
    empty = make_list("69", PERIOD, uploaded_by=user, state=ListState.DRAFT, rows=0)
    assert refusal(lambda: workflow.validate_list(empty, user)) == EMPTY
    with_errors = uploaded(dep69, user, rows=samples.GOOD[:1] + samples.BAD)
    assert refusal(lambda: workflow.validate_list(with_errors, user)) == (
        "La liste contient encore 2 ligne(s) en erreur : corrigez-les avant de valider.")
    assert [MonthlyList.objects.get(pk=m.pk).state for m in (validated, with_errors)] == [
        ListState.VALIDATED, ListState.DRAFT]


def test_validation_journals_version_rows_and_late_flag(demo, dep69):
    user = demo["siao.69"]
    ml = uploaded(dep69, user, rows=samples.GOOD)
    validated = workflow.validate_list(ml, user, request=with_request(user))
    ml.refresh_from_db()
    assert (ml.state, ml.version, ml.validated_by, ml.is_late) == (ListState.VALIDATED, 1, user, True)
    assert ml.validated_at.replace(microsecond=0) == datetime.datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)
    assert validated.pk == ml.pk
    event = AuditEvent.objects.filter(action=AuditAction.LIST_VALIDATED).get()
    assert journal(event) == (
        AuditAction.LIST_VALIDATED, "siao.69@demo.test", "exchanges.MonthlyList", str(ml.pk), "69", "203.0.113.9",
        "Firefox/140.0", {"period": PERIOD, "version": 1, "rows": 3, "late": True})


def test_list_validated_on_time_is_not_late(demo, dep69):
    user = demo["siao.69"]
    ml = workflow.validate_list(uploaded(dep69, user, rows=samples.GOOD[:1], period="2026-12"), user)
    assert MonthlyList.objects.get(pk=ml.pk).is_late is False
    assert AuditEvent.objects.filter(action=AuditAction.LIST_VALIDATED).get().details == {
        "period": "2026-12", "version": 1, "rows": 1, "late": False}


def test_validation_by_the_import_command_is_journaled_as_such(demo, dep69):
    """``system=True``: the administrator's ``import_list`` command, not an agent of the département."""
    admin = demo["admin"]
    ml = uploaded(dep69, demo["siao.69"], rows=samples.GOOD[:2])
    workflow.validate_list(ml, admin, system=True)
    event = AuditEvent.objects.filter(action=AuditAction.LIST_VALIDATED).get()
    assert (event.actor_email, event.details) == (
        "admin@demo.test", {"period": PERIOD, "version": 1, "rows": 2, "late": True, "via": "import_list"})


def test_validating_a_correction_supersedes_this_month_s_version_only(demo, dep69):
    user = demo["siao.69"]
    october = make_list("69", "2026-10", uploaded_by=user, validated_by=user, rows=1)
    other = make_list("01", PERIOD, uploaded_by=user, validated_by=user, rows=1, start=100)
    first = workflow.validate_list(uploaded(dep69, user, rows=samples.GOOD[:2]), user)
    correction = workflow.start_correction(MonthlyList.objects.get(pk=first.pk), user=user, reason=REASON)
    second = workflow.validate_list(correction, user, request=with_request(user))
    states = dict(MonthlyList.objects.values_list("pk", "state"))
    assert states == {october.pk: ListState.VALIDATED, other.pk: ListState.VALIDATED,
                      first.pk: ListState.SUPERSEDED, second.pk: ListState.VALIDATED}
    assert MonthlyList.objects.get(pk=second.pk).version == 2
    superseded = AuditEvent.objects.filter(action=AuditAction.LIST_CORRECTED, object_id=str(first.pk)).get()
    assert journal(superseded) == (
        AuditAction.LIST_CORRECTED, "siao.69@demo.test", "exchanges.MonthlyList", str(first.pk), "69", "203.0.113.9",
        "Firefox/140.0", {"period": PERIOD, "superseded_by_version": 2})
    assert AuditEvent.objects.filter(action=AuditAction.LIST_VALIDATED).latest("pk").details == {
        "period": PERIOD, "version": 2, "rows": 2, "late": True}


def test_validation_derives_again_when_last_month_was_validated_after_the_upload(demo, dep69):
    """Uploaded before October was validated, the person was a new arrival; validated after, she
    is present since October (the movements compare with the previous validated list)."""
    user = demo["siao.69"]
    november = uploaded(dep69, user, rows=samples.GOOD[:1])
    assert november.rows.get().movement == Movement.NEW
    workflow.validate_list(uploaded(dep69, user, rows=samples.GOOD[:1], period="2026-10"), user)
    workflow.validate_list(MonthlyList.objects.get(pk=november.pk), user)
    assert ListRow.objects.get(monthly_list=november).movement == Movement.PRESENT


def test_validation_signal_is_sent_after_commit_for_the_monthly_list(demo, dep69, django_capture_on_commit_callbacks):
    user = demo["siao.69"]
    received = []

    def receiver(sender, monthly_list, **kwargs):
        received.append((sender, monthly_list.pk, monthly_list.state))

    list_validated.connect(receiver, sender=MonthlyList, weak=False)
    try:
        ml = uploaded(dep69, user, rows=samples.GOOD[:1])
        with django_capture_on_commit_callbacks(execute=True):
            workflow.validate_list(ml, user)
            assert received == []
    finally:
        list_validated.disconnect(receiver, sender=MonthlyList)
    assert received == [(MonthlyList, ml.pk, ListState.VALIDATED)]


# --- the same person in another département's list (OFII only) ------------------------------


def ofii(ml):
    return {r.line_number: r.ofii_warnings for r in ListRow.objects.filter(monthly_list=ml).order_by("line_number")}


def test_a_list_alone_in_its_month_has_no_cross_departement_warning(demo, dep69, django_assert_num_queries):
    user = demo["siao.69"]
    make_list("01", "2026-10", uploaded_by=user, validated_by=user, rows=1)
    make_list("38", PERIOD, uploaded_by=user, state=ListState.FAILED, rows=1)
    ml = uploaded(dep69, user, rows=samples.GOOD[:2])
    assert ofii(ml) == {2: [], 3: []}
    assert "ofii_warning_count" not in MonthlyList.objects.get(pk=ml.pk).report
    ml = MonthlyList.objects.get(pk=ml.pk)
    with django_assert_num_queries(1):  # the other lists of the month: none, so no row is looked at
        assert workflow.cross_departement_warnings(ml) == 0


def test_same_person_in_two_then_three_departements_is_warned_on_every_side(demo, dep69):
    user = demo["siao.69"]
    ain = uploaded(Departement.objects.get(code="01"), user, rows=samples.GOOD[:1])
    rhone = uploaded(dep69, user, rows=samples.GOOD[:2])
    assert ofii(rhone) == {2: [warning("01")], 3: []}
    assert ofii(ain) == {2: [warning("69")]}
    assert MonthlyList.objects.get(pk=rhone.pk).report["ofii_warning_count"] == 1
    paris = uploaded(Departement.objects.get(code="75"), user, rows=samples.GOOD[:1])
    assert ofii(paris) == {2: [{"kind": "other_departement", "column": "", "message": other_dep("01, 69")}]}
    assert ofii(ain) == {2: [warning("69"), warning("75")]}
    assert ofii(rhone) == {2: [warning("01"), warning("75")], 3: []}


def test_cross_departement_warning_is_replaced_not_repeated_and_keeps_other_warnings(demo, dep69):
    user = demo["siao.69"]
    uploaded(Departement.objects.get(code="01"), user, rows=samples.GOOD[:1])
    rhone = uploaded(dep69, user, rows=samples.GOOD[:1])
    row = rhone.rows.get()
    kept = {"kind": "ofii_note", "column": "", "message": "à vérifier"}
    ListRow.objects.filter(pk=row.pk).update(ofii_warnings=[kept, warning("02")])
    ml = MonthlyList.objects.select_related("departement").get(pk=rhone.pk)
    assert workflow.cross_departement_warnings(ml) == 1
    assert ofii(rhone) == {2: [kept, warning("01")]}
    assert ofii(MonthlyList.objects.get(departement__code="01")) == {2: [warning("69")]}  # not added twice


def test_only_drafts_and_validated_lists_of_the_month_count(demo, dep69):
    user = demo["siao.69"]
    ain = uploaded(Departement.objects.get(code="01"), user, rows=samples.GOOD[:1])
    key = ain.rows.get().identity_key
    MonthlyList.objects.filter(pk=ain.pk).update(state=ListState.SUPERSEDED)
    october = make_list("75", "2026-10", uploaded_by=user, validated_by=user, rows=1)
    failed = make_list("38", PERIOD, uploaded_by=user, state=ListState.FAILED, rows=1)
    ListRow.objects.filter(monthly_list__in=[october, failed]).update(identity_key=key)
    rhone = uploaded(dep69, user, rows=samples.GOOD[:1])
    assert ofii(rhone) == {2: []}
    assert [r.ofii_warnings for r in ListRow.objects.exclude(monthly_list=rhone)] == [[], [], []]


# --- calendar -------------------------------------------------------------------------------


def test_a_list_validated_at_the_last_instant_of_the_10th_is_on_time():
    assert workflow.is_late("2026-12", datetime.datetime(2026, 12, 10, 23, 59, 59, 999999, tzinfo=PARIS)) is False


def test_selectable_periods_follow_the_given_day_not_the_clock():
    assert workflow.current_period(datetime.date(2027, 3, 5)) == "2027-03"
    assert workflow.selectable_periods(datetime.date(2027, 3, 5)) == ["2027-03", "2027-02"]


# --- receiving a file -----------------------------------------------------------------------


def test_upload_is_stored_encrypted_and_journaled_with_its_fingerprint(demo, dep69):
    import hashlib

    from siao_ofii.privatefiles.crypto import open_encrypted

    user = demo["siao.69"]
    make_list("69", PERIOD, uploaded_by=user, validated_by=user, rows=1)  # this month's v1
    data = samples.csv_bytes(samples.GOOD)
    ml = workflow.receive_upload(dep69, PERIOD, data, name="C:/Mes documents/" + "n" * 300 + ".csv", user=user,
                                 request=with_request(user), run=False)
    ml.refresh_from_db()
    assert (ml.state, ml.version, ml.progress, ml.source_format, ml.source_name, ml.uploaded_by) == (
        ListState.PROCESSING, 2, 0, "csv", "n" * 255, user)
    assert ml.source_sha256 == hashlib.sha256(data).hexdigest()
    assert ml.source_path.endswith(".csv") and len(ml.source_path) == 36
    assert open_encrypted(workflow.upload_name(ml.source_path)) == data
    assert journal(AuditEvent.objects.latest("pk")) == (
        AuditAction.UPLOAD, "siao.69@demo.test", "exchanges.MonthlyList", str(ml.pk), "69", "203.0.113.9",
        "Firefox/140.0", {"period": PERIOD, "format": "csv", "size": len(data), "sha256": ml.source_sha256})


def test_upload_without_a_name_keeps_an_empty_name(demo, dep69):
    ml = workflow.receive_upload(dep69, PERIOD, samples.csv_bytes(samples.GOOD), name=None, user=demo["siao.69"],
                                 run=False)
    assert MonthlyList.objects.get(pk=ml.pk).source_name == ""


def test_size_limit_is_inclusive_and_stated_in_megabytes(db, settings):
    data = samples.csv_bytes(samples.GOOD)
    settings.UPLOAD_MAX_BYTES = len(data)
    assert workflow.store_upload(data)[1] == "csv"
    settings.UPLOAD_MAX_BYTES = 2 * 1024 * 1024
    with pytest.raises(workflow.FileRejected) as exc:
        workflow.store_upload(b"x" * (2 * 1024 * 1024 + 1))
    assert str(exc.value) == "Le fichier dépasse la taille maximale (2 Mo)."


# --- processing -----------------------------------------------------------------------------


def test_a_file_gone_before_processing_fails_with_a_french_message(demo, dep69):
    from siao_ofii.privatefiles.storage import private_storage

    ml = workflow.receive_upload(dep69, PERIOD, samples.csv_bytes(samples.GOOD), name="liste.csv",
                                 user=demo["siao.69"], run=False)
    private_storage().delete(workflow.upload_name(ml.source_path))
    result = workflow.process_list(ml.pk)
    assert (result.state, result.source_path, result.report["file_errors"]) == (
        ListState.FAILED, "", ["Le fichier déposé n’est plus disponible : déposez-le à nouveau."])
    ml.refresh_from_db()
    assert (ml.state, ml.progress, ml.source_path, ml.report) == (
        ListState.FAILED, 100, "", {"file_errors": ["Le fichier déposé n’est plus disponible : déposez-le à nouveau."]})


def test_unrecognised_columns_are_named_in_the_message(demo, dep69):
    header = list(samples.HEADER_FR)
    header[3], header[4] = "Colonne D", "Situation au 1er du mois"
    ml = workflow.receive_upload(dep69, PERIOD, samples.csv_bytes(samples.GOOD, header), name="liste.csv",
                                 user=demo["siao.69"], run=False)
    ml = workflow.process_list(ml.pk)
    assert ml.report["file_errors"] == [
        "Colonnes obligatoires non reconnues : Sexe, Statut. Indiquez quelle colonne de votre fichier correspond "
        "à chacune."]
    assert ml.report["missing"] == ["sex", "status"]


def test_report_after_the_column_mapping_keeps_the_mapping_and_drops_the_failure(demo, dep69):
    user = demo["siao.69"]
    header = list(samples.HEADER_FR)
    header[4] = "Situation au 1er du mois"
    extra = [f"Colonne {i}" for i in range(60)]
    rows = [r + [""] * 60 for r in samples.GOOD]
    ml = workflow.receive_upload(dep69, PERIOD, samples.csv_bytes(rows, header + extra), name="liste.csv",
                                 user=user, run=False)
    ml = workflow.process_list(ml.pk)
    workflow.set_mapping(ml, {"status": 4}, user=user, run=False)
    workflow.process_list(ml.pk)
    ml.refresh_from_db()
    assert (ml.state, ml.progress, ml.row_count) == (ListState.DRAFT, 100, 3)
    assert not {"file_errors", "needs_mapping", "missing"} & set(ml.report)
    assert ml.report["mapping"] == {"status": 4}
    assert ml.report["ignored_columns"] == extra[:50]
    assert ml.report["with_agdref"] is False
    assert ml.report["columns"]["status"] == "Situation au 1er du mois"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_progress_is_seen_by_the_polling_page_while_the_rows_are_stored(demo, monkeypatch):
    """5 % once read, then 5 + 90 × n / total as the rows are validated (1,000 at a time, at
    most every 5 points), 100 % with the draft. On PostgreSQL the rows are sent to the COPY
    while they are validated, inside the import's transaction: each step is written through a
    second connection, so that the page polling the list (a connection of its own, here
    ``page``) sees it at once, while it sees no row before the commit."""
    from django.db import DEFAULT_DB_ALIAS, connections

    dep69 = Departement.objects.get(code="69")
    user = demo["siao.69"]
    page = connections.create_connection(DEFAULT_DB_ALIAS)
    seen = []
    original = workflow.RowValidator.validate_rows

    def polled(pk):
        with page.cursor() as cursor:
            cursor.execute("SELECT progress FROM exchanges_monthlylist WHERE id = %s", [pk])
            progress = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM exchanges_listrow WHERE monthly_list_id = %s", [pk])
            return progress, cursor.fetchone()[0]

    copying = []

    def spy(validator, table_rows, columns):
        seen.append(polled(current))
        if page.vendor == "postgresql":  # the COPY is already running while each slice is validated
            with page.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                               "AND query LIKE 'COPY exchanges_listrow %%'")
                copying.append(cursor.fetchone()[0])
        return original(validator, table_rows, columns)

    monkeypatch.setattr(workflow.RowValidator, "validate_rows", spy)
    try:
        ml = workflow.receive_upload(dep69, PERIOD, samples.csv_bytes(samples.GOOD[:1] * 2999), name="liste.csv",
                                     user=user, run=False)
        current = ml.pk
        workflow.process_list(ml.pk)
        # 5 + 90 × 1000 // 2999 = 35 ; 5 + 90 × 2000 // 2999 = 65 ; no row seen before the commit
        assert seen == [(5, 0), (35, 0), (65, 0)]
        assert copying == ([1, 1, 1] if page.vendor == "postgresql" else [])
        assert polled(ml.pk) == (100, 2999)
        seen.clear()
        quiet = workflow.receive_upload(dep69, PERIOD, samples.csv_bytes(samples.GOOD[:1] * 2000), name="liste.csv",
                                        user=user, run=False)
        current = quiet.pk
        workflow.process_list(quiet.pk, progress=False)
        assert seen == [(0, 0), (0, 0)]
        assert polled(quiet.pk) == (100, 2000)
    finally:
        page.close()


def test_an_error_while_storing_leaves_nothing_but_the_report(demo, dep69, monkeypatch, caplog):
    import gc
    import logging

    def broken(derivation, rows):
        raise RuntimeError("disque plein")

    # Raised while the rows are being sent (PostgreSQL's COPY reads them as they are validated).
    monkeypatch.setattr(workflow.derive_mod.Derivation, "add", broken)
    ml = workflow.receive_upload(dep69, PERIOD, samples.csv_bytes(samples.GOOD), name="liste.csv",
                                 user=demo["siao.69"], run=False)
    with caplog.at_level(logging.ERROR, logger="exchanges.services.workflow"):
        result = workflow.process_list(ml.pk)
    assert gc.isenabled() is True
    assert [r.getMessage() for r in caplog.records] == [f"storing list {ml.pk} failed"]
    assert caplog.records[0].exc_info[0] is RuntimeError  # itself, not psycopg2's QueryCanceled
    ml.refresh_from_db()
    assert (ml.state, ml.row_count, ml.source_path, result.report["file_errors"]) == (
        ListState.FAILED, 0, "", ["Une erreur interne a empêché l’enregistrement de la liste : rien n’a été "
                                  "enregistré. Réessayez ou contactez l’assistance."])
    assert not ListRow.objects.filter(monthly_list=ml).exists()


def test_a_stopped_process_keeps_the_file_an_error_does_not(demo, dep69, monkeypatch):
    from siao_ofii.privatefiles.storage import private_storage

    user = demo["siao.69"]
    for exc, kept in ((SystemExit(1), True), (RuntimeError("bogue"), False)):
        def stop(*args, exc=exc, **kwargs):
            raise exc

        monkeypatch.setattr(workflow, "match_headers", stop)
        ml = workflow.receive_upload(dep69, PERIOD, samples.csv_bytes(samples.GOOD), name="liste.csv", user=user,
                                     run=False)
        path = workflow.upload_name(ml.source_path)
        with pytest.raises(type(exc)):
            workflow.process_list(ml.pk)
        assert (private_storage().exists(path), bool(MonthlyList.objects.get(pk=ml.pk).source_path)) == (kept, kept)


def test_a_process_stopped_while_its_rows_are_stored_keeps_its_file(demo, dep69, monkeypatch):
    """Stopped while the rows are validated, which on PostgreSQL happens inside the COPY
    (psycopg2 would turn the stop into an ordinary ``QueryCanceled``): still a stop, the file
    is kept for the next delivery, the list still in processing, no row stored. An error at
    the same place stays an error, as itself (not a ``QueryCanceled``): file deleted, list
    refused."""
    from siao_ofii.privatefiles.storage import private_storage

    user = demo["siao.69"]
    for exc, kept in ((SystemExit(1), True), (KeyboardInterrupt(), True), (ZeroDivisionError("x"), False)):
        def stop(derivation, rows, exc=exc):
            if rows[0]["line_number"] > 1000:  # the second slice: the first one is already sent
                raise exc

        monkeypatch.setattr(workflow.derive_mod.Derivation, "add", stop)
        ml = workflow.receive_upload(dep69, PERIOD, samples.csv_bytes(samples.GOOD[:1] * 2500), name="liste.csv",
                                     user=user, run=False)
        path = workflow.upload_name(ml.source_path)
        if kept:
            with pytest.raises(type(exc)):
                workflow.process_list(ml.pk)
        else:
            assert workflow.process_list(ml.pk).state == ListState.FAILED
        stored = MonthlyList.objects.get(pk=ml.pk)
        assert (private_storage().exists(path), bool(stored.source_path)) == (kept, kept)
        assert stored.state == (ListState.PROCESSING if kept else ListState.FAILED)
        assert not ListRow.objects.filter(monthly_list=ml).exists()


def test_an_invalid_sex_is_stored_empty(demo, dep69):
    ml = uploaded(dep69, demo["siao.69"], rows=samples.BAD[:2])
    assert list(ml.rows.order_by("line_number").values_list("sex", "last_name")) == [("M", "MARTIN"), ("", "")]


# --- corrections row by row -----------------------------------------------------------------


def test_a_row_fix_marks_the_report_counts_out_of_date(demo, dep69):
    user = demo["siao.69"]
    ml = uploaded(dep69, user, rows=samples.GOOD[:1] + samples.BAD[:1])
    MonthlyList.objects.filter(pk=ml.pk).update(report={**ml.report, "counts_current": True})
    values = dict(zip(["last_name", "first_name", "birth_date", "sex", "status", "shelter_address", "entry_date"],
                      samples.GOOD[1]))
    workflow.update_row(ListRow.objects.get(monthly_list=ml, line_number=3), values, user=user)
    assert MonthlyList.objects.get(pk=ml.pk).report["counts_current"] is False
    report = MonthlyList.objects.get(pk=ml.pk).report
    del report["counts_current"], report["with_agdref"]
    MonthlyList.objects.filter(pk=ml.pk).update(report=report)
    row = workflow.update_row(ListRow.objects.get(monthly_list=ml, line_number=3),
                              {**values, "agdref": "7501234567"}, user=user)
    assert (row.agdref, "agdref" in row.raw) == ("", False)  # AGDREF is read only when the list collected it
    assert "counts_current" not in MonthlyList.objects.get(pk=ml.pk).report


def test_only_an_agent_of_the_departement_fixes_a_row(demo, dep69):
    ml = uploaded(dep69, demo["siao.69"], rows=samples.GOOD[:1])
    row = ml.rows.get()
    assert refusal(lambda: workflow.update_row(row, {}, user=demo["siao.75"])) == NOT_AGENT
    assert refusal(lambda: workflow.delete_row(row, user=demo["siao.75"])) == NOT_AGENT
    assert refusal(lambda: workflow.start_correction(ml, user=demo["siao.75"], reason=REASON)) == NOT_AGENT


# --- months ---------------------------------------------------------------------------------


def test_months_are_read_strictly():
    from exchanges import periods

    assert (periods.is_valid("2026-11"), periods.is_valid(""), periods.is_valid(None), periods.is_valid("11/2026")) == (
        True, False, False, False)
    with pytest.raises(ValueError) as exc:
        periods.parse("11/2026")
    assert str(exc.value) == "Mois invalide : « 11/2026 » (attendu AAAA-MM)."
    assert periods.bounds("2028-02") == (datetime.date(2028, 2, 1), datetime.date(2028, 2, 29))


def test_a_mapped_column_without_a_heading_is_named_by_its_field(demo, dep69):
    user = demo["siao.69"]
    header = list(samples.HEADER_FR)
    header[4] = ""
    ml = workflow.receive_upload(dep69, PERIOD, samples.csv_bytes(samples.GOOD, header), name="liste.csv",
                                 user=user, run=False)
    ml = workflow.process_list(ml.pk)
    assert ml.report["missing"] == ["status"]
    workflow.set_mapping(ml, {"status": 4}, user=user, run=False)
    ml = workflow.process_list(ml.pk)
    assert (ml.state, ml.report["columns"]["status"], ml.report["columns"]["sex"]) == (
        ListState.DRAFT, "Statut", "Sexe")


def test_validation_does_not_derive_again_when_last_month_is_unchanged(demo, dep69, monkeypatch):
    user = demo["siao.69"]
    workflow.validate_list(uploaded(dep69, user, rows=samples.GOOD[:1], period="2026-10"), user)
    november = uploaded(dep69, user, rows=samples.GOOD[:2])
    assert november.rows.get(line_number=2).movement == Movement.PRESENT
    calls = []
    original = workflow.derive_mod.derive
    monkeypatch.setattr(workflow.derive_mod, "derive", lambda ml, *a, **k: (calls.append(ml.pk), original(ml, *a, **k)))
    workflow.validate_list(MonthlyList.objects.get(pk=november.pk), user)
    assert calls == []
    assert MonthlyList.objects.get(pk=november.pk).state == ListState.VALIDATED


def test_the_progress_steps_of_the_validation():
    """5 + 90 × (rows validated) // (rows), told after each slice of 1,000 rows when it is at
    least 5 points above the last one told (5 % being told once the file is read), never for
    the last slice (its 100 % comes with the draft). Expected values worked out by hand."""
    from exchanges.services.reading import Table
    from exchanges.services.validation import RowValidator

    class Derivation:
        def add(self, rows):
            pass

    columns = {f: i for i, f in enumerate(["last_name", "first_name", "birth_date", "sex", "status",
                                           "shelter_address", "entry_date"])}

    def told_for(n):
        names = ("".join(chr(65 + i // 26 ** p % 26) for p in range(4)) for i in range(n))  # AAAA, BAAA…
        table = Table("csv", list(columns), [(i + 2, [name, *samples.GOOD[0][1:]]) for i, name in enumerate(names)])
        told, counts = [], workflow._Counts()
        rows = list(workflow._validated_rows(table, RowValidator(PERIOD), columns, Derivation(), counts, told.append))
        assert (len(rows), counts.rows, counts.errors, counts.warnings) == (n, n, 0, 0)
        return told

    assert told_for(1) == []  # one slice, the last
    assert told_for(1011) == [94]  # 5 + 90 000 // 1 011 = 5 + 89
    # 5 + 90 000 k // 30 001 for k = 1…30: 7, 10, 13, 16…; told from 10 on, every 6 points.
    assert told_for(30001) == [10, 16, 22, 28, 34, 40, 46, 52, 58, 64, 70, 76, 82, 88, 94]


def test_a_progress_that_cannot_be_written_does_not_stop_the_import(monkeypatch, caplog):
    """The second connection that writes the progress during the COPY may be refused (no
    connection left on the server): the bar stays where it was, the import goes on; said once
    in the log."""
    import logging

    from django.db import OperationalError, connection

    opened = []

    class Refused:
        ops = connection.ops

        def cursor(self):
            opened.append("cursor")
            raise OperationalError("too many clients already")

        def close(self):
            opened.append("closed")

    monkeypatch.setattr(workflow.connections, "create_connection", lambda alias: Refused())
    with caplog.at_level(logging.WARNING, logger="exchanges.services.workflow"):
        with workflow._progress_writer(41, side=True) as tell:
            tell(35)
            tell(65)
    assert opened == ["cursor", "closed"]
    assert [r.getMessage() for r in caplog.records] == ["list 41: progress not recorded (second connection refused)"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_import_inside_a_caller_s_transaction_does_not_wait_for_its_progress(demo, caplog):
    """A caller that processes a list inside its own transaction, after writing the list's row
    (which it then holds): the progress, which another connection would write and which nobody
    could see before the commit, is not written, and the import does not wait for that lock."""
    from django.db import transaction

    ml = workflow.receive_upload(Departement.objects.get(code="69"), PERIOD,
                                 samples.csv_bytes(samples.GOOD[:1] * 2500), name="liste.csv",
                                 user=demo["siao.69"], run=False)
    with transaction.atomic(), caplog.at_level(logging.WARNING, logger="exchanges.services.workflow"):
        MonthlyList.objects.filter(pk=ml.pk).update(progress=1)
        done = workflow.process_list(ml.pk)
    assert (done.state, done.row_count) == (ListState.DRAFT, 2500)
    assert caplog.records == []  # no progress tried (it would have waited for the lock, then given up)
    assert MonthlyList.objects.values_list("state", "progress").get(pk=ml.pk) == (ListState.DRAFT, 100)
