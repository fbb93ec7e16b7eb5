"""The rules of the return flow, word for word (issue 11, "tests that bite"): only the II.B.2
columns (R744-48 2°, "pour les seules données prévues"), every row message with its column,
the limits at their bound and one past it, the versions, the dashboards, the retention, and the
recipients: only the SIAO agents the prefect designated for the département (R744-48 2°)."""

import datetime

import pytest
import time_machine
from django.core import mail

from exchanges.models import ListState, ReturnArchive, ReturnFile, ReturnRow, ReturnState
from exchanges.returns import columns, services
from exchanges.returns.crosscheck import cross_check, default_crosscheck_period
from exchanges.returns.notifications import archive_ready, remind_ofii, siao_dna_recipients
from exchanges.returns.validation import ReturnRowValidator
from exchanges.services.workflow import upload_name
from referentiel.models import Agent, Departement, Role
from referentiel.services import approve_habilitation, grant_habilitation, revoke_habilitation
from siao_ofii.audit.models import AuditAction, AuditEvent
from siao_ofii.privatefiles.storage import private_storage
from tests.exchanges_returns.helpers import FULL_ROW, HEADERS, SAMPLE, minimal, to_csv, upload_and_process
from tests.factories import make_list

D = datetime.date
TODAY = D(2026, 11, 20)  # the frozen day of this folder (conftest.FROZEN)
PERSON = {"birth_name": "TESTOVA", "first_name": "Irina", "birth_date": "01/02/1990", "refused_on": "08/11/2026"}

# The 21 data of instruction II.B.2 (annexe 7-2: I 1° to 5°, II 4° to 6°, III 5° to 8°), in the
# order of the archive. Written here from the instruction, not read from the code.
II_B_2 = [
    "birth_name", "usage_name", "first_name", "birth_date", "sex", "birth_place", "nationality",
    "certificate_issued_on", "certificate_valid_until", "certificate_renewed_on", "certificate_withdrawn_on",
    "offer_place", "offer_type", "offer_notified_on", "accepted_on", "non_presentation_on", "refused_on",
    "entry_date", "exit_date", "entry_modality", "exit_modality",
]
DATES = ["birth_date", "certificate_issued_on", "certificate_valid_until", "certificate_renewed_on",
         "certificate_withdrawn_on", "offer_notified_on", "accepted_on", "non_presentation_on", "refused_on",
         "entry_date", "exit_date"]
LABEL = dict(zip(II_B_2, HEADERS))


def validate(raw, *, line=2, validator=None, period="2026-11", names=None):
    validator = validator or ReturnRowValidator(period, column_names=names, today=TODAY)
    return validator.validate(line, raw)


def errors(row):
    return [(e["column"], e["message"]) for e in row["errors"]]


def warnings(row):
    return [(e["column"], e["message"]) for e in row["warnings"]]


# --- columns: II.B.2 and nothing else ------------------------------------------------------

def test_the_archive_and_the_file_know_exactly_the_twenty_one_data_of_ii_b_2():
    assert [f.name for f in columns.FIELDS] == II_B_2
    assert [f.label for f in columns.FIELDS] == HEADERS
    assert [c.header for c in services.ARCHIVE_COLUMNS] == HEADERS
    assert [c.kind for c in services.ARCHIVE_COLUMNS] == ["date" if f in DATES else "text" for f in II_B_2]
    assert [c.width for c in services.ARCHIVE_COLUMNS] == [22, 20, 20, 16, 6, 20, 18, 16, 16, 16, 16, 30, 14, 16,
                                                           16, 16, 16, 16, 16, 20, 20]
    assert columns.match_headers(HEADERS) == ({f: i for i, f in enumerate(II_B_2)}, [], [])


# Each spelling an OFII extraction may use, as a person would type it (case, accents, apostrophes).
SPELLINGS = {
    "birth_name": ["Nom de naissance", "NOM", "Nom patronymique", "Nom de famille", "Birth name", "Last name"],
    "usage_name": ["Nom d’usage", "Nom usage", "Nom marital", "Usage name"],
    "first_name": ["Prénom", "Prénoms", "First name"],
    "birth_date": ["Date de naissance", "Date naissance", "DDN", "Né le", "Née le", "Birth date"],
    "sex": ["Sexe", "Genre", "Sex"],
    "birth_place": ["Lieu de naissance", "Lieu naissance", "Ville de naissance", "Pays de naissance", "Birth place"],
    "nationality": ["Nationalité", "Pays de nationalité", "Nationality"],
    "certificate_issued_on": [
        "Date de délivrance de l’attestation de demande d’asile", "Date de délivrance de l’attestation",
        "Date délivrance attestation", "Délivrance attestation", "Date de délivrance ADA", "Date de délivrance"],
    "certificate_valid_until": [
        "Fin de validité de l’attestation", "Date de fin de validité de l’attestation",
        "Durée de validité de l’attestation", "Validité de l’attestation", "Validité attestation",
        "Fin de validité", "Date de fin de validité", "Valable jusqu’au"],
    "certificate_renewed_on": ["Date de renouvellement de l’attestation", "Date de renouvellement",
                               "Renouvellement attestation", "Date renouvellement"],
    "certificate_withdrawn_on": ["Date de retrait de l’attestation", "Date de retrait", "Retrait attestation",
                                 "Date retrait"],
    "offer_place": ["Lieu de l’hébergement proposé", "Lieu hébergement proposé", "Hébergement proposé",
                    "Lieu de l’hébergement", "Lieu d’hébergement proposé"],
    "offer_type": ["Typologie de l’hébergement proposé", "Typologie de l’hébergement", "Typologie",
                   "Type d’hébergement", "Type de l’hébergement proposé", "Type hébergement"],
    "offer_notified_on": ["Date de notification de l’offre d’hébergement", "Date de notification de l’offre",
                          "Date notification offre", "Notification de l’offre", "Date de l’offre"],
    "accepted_on": ["Date d’acceptation", "Date acceptation", "Date de la décision d’acceptation", "Acceptation"],
    "non_presentation_on": ["Date du constat de non-présentation", "Date de non-présentation",
                            "Date non présentation", "Non-présentation", "Constat de non-présentation"],
    "refused_on": ["Date de refus", "Date refus", "Date du refus", "Refus", "Date de refus du demandeur"],
    "entry_date": ["Date d’entrée dans l’hébergement", "Date d’entrée dans le lieu d’hébergement",
                   "Date d’entrée", "Date entrée", "Entrée"],
    "exit_date": ["Date de sortie de l’hébergement", "Date de sortie du lieu d’hébergement", "Date de sortie",
                  "Date sortie", "Sortie"],
    "entry_modality": ["Modalités d’entrée", "Modalité d’entrée", "Modalité entrée", "Motif d’entrée"],
    "exit_modality": ["Modalités de sortie", "Modalité de sortie", "Modalité sortie", "Motif de sortie"],
}


@pytest.mark.parametrize("field", II_B_2)
def test_every_spelling_of_a_field_is_recognised(field):
    assert {name: columns.match_header(name) for name in SPELLINGS[field]} == {
        name: field for name in SPELLINGS[field]}


@pytest.mark.parametrize("header", [
    "Numéro AGDREF", "AGDREF", "Adresse", "Téléphone", "Courriel", "Montant ADA", "Allocation pour demandeur d’asile",
    "Situation familiale", "Composition familiale", "Vulnérabilité", "Numéro étranger", "Statut", "Procédure",
    "Date d’enregistrement", "Nom du père", "Observations", "Date",
])
def test_a_datum_outside_ii_b_2_is_no_field(header):
    assert columns.match_header(header) is None


def test_match_headers_names_every_extra_column_and_the_missing_mandatory_ones():
    header = ["Nom", "Téléphone", "", None, "Nom de famille", "Date de refus", "  "]
    found, missing, extra = columns.match_headers(header)
    assert found == {"birth_name": 0, "refused_on": 5}
    assert missing == ["first_name", "birth_date"]
    assert extra == ["Téléphone", "colonne 3 (sans titre)", "colonne 4 (sans titre)",
                     "Nom de famille (deuxième colonne « Nom de naissance »)", "colonne 7 (sans titre)"]
    assert columns.match_headers(["Prénom", "DDN"]) == ({"first_name": 0, "birth_date": 1}, ["birth_name"], [])


# --- the row checks, word for word ---------------------------------------------------------

def test_a_complete_row_keeps_the_twenty_one_data_and_nothing_else():
    row = validate(dict(zip(II_B_2, FULL_ROW)))
    assert row["errors"] == [] and row["warnings"] == []
    assert set(row) == {"line_number", "errors", "warnings", "birth_name_key", "usage_name_key", *II_B_2}
    assert {f: row[f] for f in II_B_2} == {
        "birth_name": "TESTOVA", "usage_name": "EXEMPLAIRE", "first_name": "Ирина Zoé", "birth_date": D(1990, 2, 1),
        "sex": "F", "birth_place": "Minsk", "nationality": "biélorusse", "certificate_issued_on": D(2026, 4, 3),
        "certificate_valid_until": D(2026, 10, 2), "certificate_renewed_on": D(2026, 10, 1),
        "certificate_withdrawn_on": D(2026, 10, 15), "offer_place": "CADA Fictif, 1 rue de l’Exemple, Lyon",
        "offer_type": "CADA", "offer_notified_on": D(2026, 9, 5), "accepted_on": D(2026, 9, 6),
        "non_presentation_on": D(2026, 9, 7), "refused_on": D(2026, 9, 8), "entry_date": D(2026, 9, 9),
        "exit_date": D(2026, 10, 10), "entry_modality": "orientation OFII", "exit_modality": "exclusion",
    }
    assert row["line_number"] == 2 and len(row["birth_name_key"]) == 64 and len(row["usage_name_key"]) == 64
    assert row["birth_name_key"] != row["usage_name_key"]


def test_the_keys_match_the_same_person_however_written_and_nobody_without_a_name():
    a = validate({**PERSON, "usage_name": "Leblanc"})
    b = validate({**PERSON, "birth_name": "testova", "first_name": "IRINA", "usage_name": "LEBLANC"})
    assert (a["birth_name_key"], a["usage_name_key"]) == (b["birth_name_key"], b["usage_name_key"])
    assert validate(PERSON)["usage_name_key"] == ""
    assert validate({**PERSON, "first_name": "Irène"})["birth_name_key"] != a["birth_name_key"]


@pytest.mark.parametrize("field", ["birth_name", "first_name", "birth_date"])
def test_each_mandatory_datum_missing_is_an_error_in_its_column(field):
    row = validate({**PERSON, field: "  "})
    assert errors(row) == [(LABEL[field], "valeur manquante")]
    named = validate({**PERSON, field: ""}, names={field: "Colonne du fichier"})
    assert errors(named) == [("Colonne du fichier", "valeur manquante")]


LIMITS = {"birth_name": 150, "usage_name": 150, "first_name": 150, "birth_place": 150, "nationality": 100,
          "offer_place": 300, "offer_type": 100, "entry_modality": 200, "exit_modality": 200}


@pytest.mark.parametrize("field", sorted(LIMITS))
def test_text_lengths_at_the_limit_and_one_past_it(field):
    limit = LIMITS[field]
    at = validate({**PERSON, field: "é" * limit})
    assert at["errors"] == [] and at[field] == "é" * limit
    past = validate({**PERSON, field: "é" * (limit + 1)})
    assert errors(past) == [(LABEL[field], f"valeur trop longue ({limit + 1} caractères, {limit} au plus)")]
    assert past[field] == "é" * limit


def test_sex_is_optional_and_checked_when_given():
    assert validate(PERSON)["sex"] == "" and validate({**PERSON, "sex": "Homme"})["sex"] == "M"
    row = validate({**PERSON, "sex": "X"})
    assert errors(row) == [("Sexe", "sexe inconnu « X » (valeurs admises : F, M, H, Femme, Homme)")]
    assert row["sex"] == ""


@pytest.mark.parametrize("field", [f for f in DATES if f != "birth_date"])
def test_an_impossible_date_is_an_error_in_its_column(field):
    row = validate({**PERSON, "exit_date": "10/11/2026", field: "31/02/2026"})
    assert errors(row) == [(LABEL[field], "date impossible « 31/02/2026 »")]
    assert row[field] is None


def test_birth_date_today_is_accepted_tomorrow_is_in_the_future():
    assert validate({**PERSON, "birth_date": "20/11/2026"})["errors"] == []
    row = validate({**PERSON, "birth_date": "21/11/2026"})
    assert errors(row) == [("Date de naissance", "date de naissance dans le futur (21/11/2026)")]


def test_exit_on_the_day_of_entry_is_accepted_the_day_before_is_an_error():
    assert validate({**PERSON, "entry_date": "10/11/2026", "exit_date": "10/11/2026"})["errors"] == []
    assert validate({**PERSON, "exit_date": "09/11/2026"})["errors"] == []  # no entry date: nothing to compare
    row = validate({**PERSON, "entry_date": "10/11/2026", "exit_date": "09/11/2026"})
    assert errors(row) == [("Date de sortie de l’hébergement",
                            "date de sortie (09/11/2026) antérieure à la date d’entrée (10/11/2026)")]


NO_REASON = ("aucune date de refus, de non-présentation ni de sortie : cette personne ne relève pas du flux retour "
             "(article L.744-7 du CESEDA) ; retirez cette ligne")


def test_a_person_is_in_the_file_only_for_a_refusal_a_non_presentation_or_an_exit():
    person = {k: v for k, v in PERSON.items() if k != "refused_on"}
    assert errors(validate(person)) == [("Date de refus", NO_REASON)]
    assert errors(validate({**person, "accepted_on": "01/11/2026", "entry_date": "02/11/2026"})) == [
        ("Date de refus", NO_REASON)]
    for reason in ("refused_on", "non_presentation_on", "exit_date"):
        assert validate({**person, reason: "05/11/2026"})["errors"] == [], reason
    # A reason date that cannot be read is reported as such, once.
    for reason in ("refused_on", "non_presentation_on", "exit_date"):
        assert errors(validate({**person, reason: "31/02/2026"})) == [(LABEL[reason], "date impossible « 31/02/2026 »")]


def test_refusal_or_non_presentation_before_the_offer_is_a_warning():
    offer = {**PERSON, "offer_notified_on": "10/11/2026"}
    assert validate({**offer, "refused_on": "10/11/2026"})["warnings"] == []
    assert warnings(validate({**offer, "refused_on": "09/11/2026"})) == [
        ("Date de refus", "date (09/11/2026) antérieure à la notification de l’offre (10/11/2026) : à vérifier")]
    assert warnings(validate({**offer, "non_presentation_on": "08/11/2026", "refused_on": ""})) == [
        ("Date du constat de non-présentation",
         "date (08/11/2026) antérieure à la notification de l’offre (10/11/2026) : à vérifier")]
    assert validate({**offer, "refused_on": "", "exit_date": "09/11/2026"})["warnings"] == []
    assert validate({**PERSON, "refused_on": "01/01/2026"})["warnings"] == []  # no offer date: nothing to compare


@pytest.mark.parametrize("field", [f for f in DATES if f not in ("birth_date", "certificate_valid_until")])
def test_a_date_after_the_month_of_the_file_is_a_warning(field):
    person = PERSON if field != "offer_notified_on" else {**PERSON, "refused_on": "", "exit_date": "10/11/2026"}
    assert validate({**person, field: "30/11/2026"})["warnings"] == []
    row = validate({**person, field: "01/12/2026"}, validator=ReturnRowValidator("2026-11", today=D(2026, 12, 5)))
    assert warnings(row) == [(LABEL[field], "date (01/12/2026) postérieure à la fin du mois du fichier (30/11/2026) : "
                                            "à vérifier")]
    assert row["errors"] == []


def test_the_end_of_validity_of_the_attestation_may_be_after_the_month():
    assert validate({**PERSON, "certificate_valid_until": "01/06/2027"})["warnings"] == []


def test_the_same_person_twice_is_a_warning_on_the_second_line_only():
    validator = ReturnRowValidator("2026-11", today=TODAY)
    first = validate(PERSON, line=2, validator=validator)
    other = validate({**PERSON, "first_name": "Irène"}, line=3, validator=validator)
    again = validate({**PERSON, "birth_name": "Testova", "first_name": "IRINA"}, line=7, validator=validator)
    assert first["warnings"] == [] and other["warnings"] == []
    assert warnings(again) == [("Nom de naissance", "même personne qu’à la ligne 2 (doublon dans le fichier)")]
    # Rows that cannot be identified (no birth date) are never duplicates of each other.
    blank = {**PERSON, "birth_date": ""}
    validate(blank, line=8, validator=validator)
    assert validate(blank, line=9, validator=validator)["warnings"] == []


# --- processing: all or nothing, and its messages ------------------------------------------

def _process(data, user, *, departement="69", period="2026-11"):
    rf, _ = upload_and_process(departement, period, data, user, archive=False)
    return rf


def test_one_extra_column_refused_word_for_word(demo):
    rf = _process(to_csv(HEADERS + ["Téléphone"], [FULL_ROW + ["0600000000"]]), demo["dt.lyon"])
    assert rf.report["file_errors"] == [
        "Fichier refusé : la colonne « Téléphone » ne fait pas partie des données que l’OFII peut transmettre au "
        "SIAO (article R744-48 2° du CESEDA, minimisation des données ; instruction II.B.2 : état civil, situation "
        "administrative, conditions d’accueil). Retirez-la de l’extraction et déposez de nouveau le fichier : rien "
        "n’a été enregistré."]
    assert (rf.state, rf.progress, rf.report["extra_columns"]) == (ReturnState.FAILED, 100, ["Téléphone"])
    assert ReturnFile.objects.values_list("state", "progress").get(pk=rf.pk) == (ReturnState.FAILED, 100)


def test_several_extra_columns_refused_word_for_word(demo):
    data = to_csv(["Numéro AGDREF", *HEADERS, "", "Adresse"], [["123", *FULL_ROW, "x", "1 rue"]])
    rf = _process(data, demo["dt.lyon"])
    assert rf.report["file_errors"] == [
        "Fichier refusé : les colonnes « Numéro AGDREF », « colonne 23 (sans titre) », « Adresse » ne font pas "
        "partie des données que l’OFII peut transmettre au SIAO (article R744-48 2° du CESEDA, minimisation des "
        "données ; instruction II.B.2 : état civil, situation administrative, conditions d’accueil). Retirez-les de "
        "l’extraction et déposez de nouveau le fichier : rien n’a été enregistré."]
    assert ReturnRow.objects.count() == 0


def test_missing_mandatory_columns_are_all_named(demo):
    rf = _process(to_csv(["Nom de naissance", "Date de refus"], [["X-FICTIF", "12/10/2026"]]), demo["dt.lyon"])
    assert rf.report["file_errors"] == [
        "Colonnes obligatoires absentes : Prénom, Date de naissance. Rien n’a été enregistré."]
    assert (rf.state, rf.progress, rf.report["missing"]) == (ReturnState.FAILED, 100, ["first_name", "birth_date"])


def test_a_file_without_rows_is_refused(demo):
    rf = _process(minimal([]), demo["dt.lyon"])  # a header, no row
    assert (rf.state, rf.report["file_errors"]) == (ReturnState.FAILED, ["Le fichier ne contient aucune ligne."])
    assert rf.report["issue_count"] == 0 and not ReturnRow.objects.exists()
    blank = _process(b"\n\n", demo["dt.lyon"])  # not even a header: the reader refuses it
    stored = ReturnFile.objects.get(pk=blank.pk)
    assert (stored.state, stored.progress, stored.report) == (
        ReturnState.FAILED, 100, {"file_errors": ["Le fichier ne contient aucune ligne."]})


def test_an_unreadable_file_is_refused_at_the_upload_and_nothing_kept(demo):
    from exchanges.services.reading import FileRejected

    with pytest.raises(FileRejected, match="^Ce fichier n’est ni un fichier CSV ni un classeur Excel \\(.xlsx\\).$"):
        services.receive_upload(Departement.objects.get(code="69"), "2026-11", b"\x00\x01\x02 pas un tableau",
                                name="x.csv", user=demo["dt.lyon"], run=False)
    assert not ReturnFile.objects.exists() and not AuditEvent.objects.filter(action=AuditAction.UPLOAD).exists()


def test_a_vanished_upload_is_refused_and_nothing_stored(demo):
    dep = Departement.objects.get(code="69")
    rf = services.receive_upload(dep, "2026-11", SAMPLE.read_bytes(), name="retour.csv", user=demo["dt.lyon"],
                                 run=False)
    private_storage().delete(upload_name(rf.source_path))
    rf = services.process_return(rf.pk, progress=False)
    assert (rf.state, rf.progress) == (ReturnState.FAILED, 100)
    assert rf.report["file_errors"] == ["Le fichier déposé n’est plus disponible : déposez-le à nouveau."]
    assert ReturnFile.objects.get(pk=rf.pk).source_path == ""


def test_processing_twice_or_a_missing_file_changes_nothing(demo):
    assert services.process_return(999999) is None
    rf = _process(SAMPLE.read_bytes(), demo["dt.lyon"])
    again = services.process_return(rf.pk, progress=False)
    assert again.state == ReturnState.STORED and ReturnRow.objects.filter(return_file=rf).count() == 4


def test_row_errors_counted_and_reported_row_by_row(demo):
    data = minimal([
        ["A-FICTIF", "Awa", "01/01/1990", "12/10/2026"],
        ["", "Bob", "01/01/1990", "12/10/2026"],
        ["C-FICTIF", "", "31/02/1990", "12/10/2026"],
        ["A-FICTIF", "Awa", "01/01/1990", "13/10/2026"],
    ])
    rf = _process(data, demo["dt.lyon"])
    assert (rf.state, rf.row_count, rf.error_count, rf.warning_count) == (ReturnState.FAILED, 4, 2, 1)
    assert rf.report["file_errors"] == [
        "2 ligne(s) en erreur : le fichier est refusé en entier et rien n’a été enregistré. Corrigez l’extraction "
        "et déposez-la de nouveau."]
    assert rf.report["issues"] == [
        {"row": 3, "level": "error", "column": "Nom de naissance", "message": "valeur manquante"},
        {"row": 4, "level": "error", "column": "Prénom", "message": "valeur manquante"},
        {"row": 4, "level": "error", "column": "Date de naissance", "message": "date impossible « 31/02/1990 »"},
        {"row": 5, "level": "warning", "column": "Nom de naissance",
         "message": "même personne qu’à la ligne 2 (doublon dans le fichier)"},
    ]
    assert rf.report["issue_count"] == 4
    stored = ReturnFile.objects.get(pk=rf.pk)
    assert (stored.row_count, stored.error_count, stored.warning_count) == (4, 2, 1)
    assert ReturnRow.objects.count() == 0


def test_the_report_keeps_the_first_thousand_issues_and_counts_them_all(demo):
    rows = [[f"N{i}-FICTIF", "", "01/01/1990", "12/10/2026"] for i in range(1001)]
    rf = _process(minimal(rows), demo["dt.lyon"])
    assert (rf.error_count, rf.report["issue_count"], len(rf.report["issues"])) == (1001, 1001, 1000)
    assert rf.report["issues"][-1]["row"] == 1001


def test_a_stored_file_its_report_and_its_journal(demo):
    header = ["NOM", "Prenom", "DDN", "Date refus", "Date de notification de l’offre"]
    data = to_csv(header, [["A-FICTIF", "Awa", "01/01/1990", "12/10/2026", "13/10/2026"],
                           ["B-FICTIF", "Bob", "02/02/1990", "12/10/2026", ""]], delimiter=",")
    rf = services.receive_upload(Departement.objects.get(code="69"), "2026-11", data,
                                 name="C:/exports/dna/retour-69.csv", user=demo["dt.lyon"], run=False)
    assert (rf.version, rf.source_name, rf.source_format, rf.state) == (1, "retour-69.csv", "csv",
                                                                       ReturnState.PROCESSING)
    upload = AuditEvent.objects.get(action=AuditAction.UPLOAD, object_id=str(rf.pk))
    assert (upload.actor, upload.departement, upload.details["flow"], upload.details["size"]) == (
        demo["dt.lyon"], "69", "retour", len(data))
    assert upload.details["sha256"] == rf.source_sha256 and len(rf.source_sha256) == 64
    rf = services.process_return(rf.pk, progress=False)
    assert (rf.state, rf.progress, rf.row_count, rf.error_count, rf.warning_count) == (ReturnState.STORED, 100, 2, 0, 1)
    assert rf.stored_at is not None and ReturnFile.objects.get(pk=rf.pk).source_path == ""
    assert rf.report == {
        "columns": {"birth_name": "NOM", "first_name": "Prenom", "birth_date": "DDN", "refused_on": "Date refus",
                    "offer_notified_on": "Date de notification de l’offre"},
        "encoding": rf.report["encoding"], "delimiter": ",",
        "issues": [{"row": 2, "level": "warning", "column": "Date refus",
                    "message": "date (12/10/2026) antérieure à la notification de l’offre (13/10/2026) : à vérifier"}],
        "issue_count": 1,
    }
    assert list(ReturnRow.objects.filter(return_file=rf).order_by("line_number")
                .values_list("line_number", "birth_name", "refused_on")) == [
        (2, "A-FICTIF", D(2026, 10, 12)), (3, "B-FICTIF", D(2026, 10, 12))]
    stored = AuditEvent.objects.get(action=AuditAction.UPLOAD, details__step="stored")
    assert (stored.actor, stored.departement, stored.details["rows"], stored.details["version"],
            stored.details["flow"]) == (demo["dt.lyon"], "69", 2, 1, "retour")


def test_an_internal_error_while_storing_keeps_nothing(demo, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("panne simulée")

    monkeypatch.setattr(ReturnRow.objects, "bulk_create", broken)
    rf = _process(SAMPLE.read_bytes(), demo["dt.lyon"])
    assert (rf.state, rf.report["file_errors"]) == (ReturnState.FAILED, [
        "Une erreur interne a empêché l’enregistrement : rien n’a été enregistré. Réessayez."])
    assert ReturnFile.objects.get(pk=rf.pk).state == ReturnState.FAILED and not ReturnRow.objects.exists()


def test_versions_count_stored_and_superseded_files_not_refused_ones(demo):
    refused = _process(minimal([["", "Awa", "01/01/1990", "12/10/2026"]]), demo["dt.lyon"])
    first = _process(SAMPLE.read_bytes(), demo["dt.lyon"])
    other_month = _process(SAMPLE.read_bytes(), demo["dt.lyon"], period="2026-10")
    other_dep = _process(SAMPLE.read_bytes(), demo["dt.lyon"], departement="42")
    second = _process(SAMPLE.read_bytes(), demo["siege"])
    third = _process(SAMPLE.read_bytes(), demo["siege"])
    assert [refused.version, first.version, other_month.version, other_dep.version, second.version,
            third.version] == [1, 1, 1, 1, 2, 3]
    states = dict(ReturnFile.objects.values_list("pk", "state"))
    assert [states[f.pk] for f in (refused, first, other_month, other_dep, second, third)] == [
        ReturnState.FAILED, ReturnState.SUPERSEDED, ReturnState.STORED, ReturnState.STORED, ReturnState.SUPERSEDED,
        ReturnState.STORED]
    assert set(ReturnRow.objects.values_list("return_file_id", flat=True)) == {other_month.pk, other_dep.pk, third.pk}
    superseded = AuditEvent.objects.filter(action=AuditAction.UPLOAD, details__has_key="superseded_versions",
                                           object_id=str(third.pk)).get()
    assert (superseded.actor, superseded.departement, superseded.details["superseded_versions"],
            superseded.details["deleted_rows"]) == (demo["siege"], "69", "v2", 4)
    assert (superseded.details["period"], superseded.details["flow"]) == ("2026-11", "retour")


def test_selectable_periods_and_archive_path():
    assert services.selectable_periods(D(2026, 11, 20)) == ["2026-11", "2026-10"]
    assert services.selectable_periods(D(2027, 1, 1)) == ["2027-01", "2026-12"]
    assert services.relative_path("2A", "2026-11", 3) == "returns/2026-11/DNA_02A_2026-11_v3.zip"


# --- dashboards, inbox, retention ----------------------------------------------------------

def test_overview_tells_each_departement_what_was_sent(demo):
    deps = list(Departement.objects.filter(code__in=["42", "69", "75"]).order_by("code"))
    stored, archive = upload_and_process("69", "2026-11", SAMPLE.read_bytes(), demo["dt.lyon"])
    failed = _process(minimal([["", "A", "01/01/1990", "12/10/2026"]]), demo["dt.lyon"])
    refused75 = _process(minimal([["", "A", "01/01/1990", "12/10/2026"]]), demo["dt.paris"], departement="75")
    _process(SAMPLE.read_bytes(), demo["dt.lyon"], departement="42", period="2026-10")
    _process(SAMPLE.read_bytes(), demo["dt.lyon"], departement="01")  # not asked for
    months = services.overview(deps, "2026-11")
    assert [(m.departement.code, m.period, m.stored, m.attempt, m.archive, m.sent) for m in months] == [
        ("42", "2026-11", None, None, None, False),
        ("69", "2026-11", stored, failed, archive, True),
        ("75", "2026-11", None, refused75, None, False),
    ]
    assert services.sent_departement_ids([d.pk for d in deps], "2026-11") == {deps[1].pk}
    assert services.sent_departement_ids([d.pk for d in deps], "2026-10") == {deps[0].pk}


def test_the_inbox_shows_twelve_months_of_the_perimeter_and_what_the_agent_downloaded(demo):
    dna = demo["siao-dna.69"]
    _, newest = upload_and_process("69", "2026-11", SAMPLE.read_bytes(), demo["siege"])
    _, oldest = upload_and_process("69", "2025-12", SAMPLE.read_bytes(), demo["siege"])
    upload_and_process("69", "2025-11", SAMPLE.read_bytes(), demo["siege"])  # thirteen months ago
    upload_and_process("75", "2026-11", SAMPLE.read_bytes(), demo["siege"])  # outside the perimeter
    AuditEvent.objects.create(action=AuditAction.DOWNLOAD, actor=dna, object_type=ReturnArchive._meta.label,
                              object_id=str(oldest.pk))
    AuditEvent.objects.create(action=AuditAction.DOWNLOAD, actor=demo["siege"],
                              object_type=ReturnArchive._meta.label, object_id=str(newest.pk))
    from referentiel.perimeter import Capability

    found = services.archives_for(dna, Capability.READ_REVERSE_FLOW, today=TODAY)
    assert {(a.pk, a.downloaded_by_user) for a in found} == {(newest.pk, False), (oldest.pk, True)}
    assert {a.pk for a in services.archives_for(dna, Capability.READ_REVERSE_FLOW, months=1, today=TODAY)} == {
        newest.pk}
    assert services.archives_for(demo["siao.69"], Capability.READ_REVERSE_FLOW, today=TODAY) == []


def test_retention_purges_before_the_cutoff_month_and_keeps_it(demo):
    _, old = upload_and_process("69", "2024-10", SAMPLE.read_bytes(), demo["dt.lyon"])
    _, kept = upload_and_process("69", "2024-11", SAMPLE.read_bytes(), demo["dt.lyon"])
    refused = _process(minimal([["", "A", "01/01/1990", "12/10/2026"]]), demo["dt.lyon"], period="2024-10")
    assert services.purge_expired("2024-11") == (1, 4)
    old.refresh_from_db()
    kept.refresh_from_db()
    assert (old.file_path, old.password_encrypted, old.purged_at is not None) == ("", "", True)
    assert not private_storage().exists("returns/2024-10/DNA_069_2024-10_v1.zip")
    assert kept.purged_at is None and private_storage().exists(kept.file_path)
    assert ReturnRow.objects.filter(return_file__period="2024-11").count() == 4
    purged_at = ReturnArchive.objects.get(pk=old.pk).purged_at
    with time_machine.travel(datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.timezone.utc), tick=False):
        assert services.purge_expired("2024-11") == (0, 0)  # once
    assert ReturnArchive.objects.get(pk=old.pk).purged_at == purged_at
    assert ReturnFile.objects.filter(pk=refused.pk).exists()


# --- cross-check ---------------------------------------------------------------------------

def test_crosscheck_reads_only_the_stored_files_of_the_month_and_the_one_before(demo):
    dep = Departement.objects.get(code="69")
    upload_and_process("69", "2026-11", minimal([["A-FICTIF", "Awa", "01/01/1990", "12/11/2026"],
                                                  ["B-FICTIF", "Bob", "01/01/1990", "12/11/2026"]]),
                       demo["dt.lyon"], archive=False)
    upload_and_process("69", "2026-10", minimal([["C-FICTIF", "Cy", "01/01/1990", "12/10/2026"]]), demo["dt.lyon"],
                       archive=False)
    upload_and_process("69", "2026-09", minimal([["D-FICTIF", "Di", "01/01/1990", "12/09/2026"]]), demo["dt.lyon"],
                       archive=False)
    _process(minimal([["", "Eve", "01/01/1990", "12/11/2026"]]), demo["dt.lyon"])  # refused
    result = cross_check(dep, "2026-11")
    assert (result.period, result.return_periods, result.return_row_count) == ("2026-11", ["2026-11", "2026-10"], 3)
    assert result.monthly_list is None and result.flagged == []


def test_crosscheck_default_month_follows_the_validation_of_this_months_list(demo):
    dep = Departement.objects.get(code="69")
    assert default_crosscheck_period(dep, TODAY) == "2026-10"
    make_list("69", "2026-11", uploaded_by=demo["siao.69"], state=ListState.DRAFT)
    make_list("75", "2026-11", uploaded_by=demo["siao.75"], validated_by=demo["siao.75"])
    assert default_crosscheck_period(dep, TODAY) == "2026-10"
    make_list("69", "2026-11", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"])
    assert default_crosscheck_period(dep, TODAY) == "2026-11"
    assert default_crosscheck_period(dep, D(2026, 12, 1)) == "2026-11"
    assert default_crosscheck_period(dep, D(2027, 1, 5)) == "2026-12"


# --- recipients (R744-48 2°) ---------------------------------------------------------------

def _dna(demo, email, codes, *, approve=True, **dates):
    agent = Agent.objects.create_user(email, "x-not-used-123")
    hab = grant_habilitation(agent=agent, role=Role.SIAO_DNA, granted_by=demo["admin"], reason="arrêté (test)",
                             departements=Departement.objects.filter(code__in=codes), **dates)
    if approve:
        hab = approve_habilitation(hab, approved_by=demo["prefecture.69"])
    return agent, hab


def test_only_the_agents_the_prefect_designated_for_the_departement_receive_the_file(demo):
    _dna(demo, "dna.deux@demo.test", ["69"])
    _dna(demo, "dna.en-attente@demo.test", ["69"], approve=False)  # not designated by the prefect yet
    _dna(demo, "dna.finie@demo.test", ["69"], valid_from=TODAY - datetime.timedelta(days=30),
         valid_until=TODAY - datetime.timedelta(days=1))
    _dna(demo, "dna.future@demo.test", ["69"], valid_from=TODAY + datetime.timedelta(days=1),
         valid_until=TODAY + datetime.timedelta(days=30))
    _, revoked = _dna(demo, "dna.revoquee@demo.test", ["69"])
    revoke_habilitation(revoked, revoked_by=demo["admin"], reason="fin de mission")
    inactive, _ = _dna(demo, "dna.inactive@demo.test", ["69"])
    Agent.objects.filter(pk=inactive.pk).update(is_active=False)
    dep69 = Departement.objects.get(code="69")
    assert [a.email for a in siao_dna_recipients(dep69)] == ["dna.deux@demo.test", "siao-dna.69@demo.test"]
    assert siao_dna_recipients(Departement.objects.get(code="42")) == []
    assert siao_dna_recipients(Departement.objects.get(code="75")) == []


def test_the_archive_ready_mail_goes_once_to_the_designated_agents_without_the_password(demo):
    _dna(demo, "dna.deux@demo.test", ["69"])
    _, archive = upload_and_process("69", "2026-11", SAMPLE.read_bytes(), demo["dt.lyon"])
    mail.outbox.clear()
    assert archive_ready(archive.pk) == 2
    assert [m.to for m in mail.outbox] == [["dna.deux@demo.test"], ["siao-dna.69@demo.test"]]
    message = mail.outbox[0]
    assert message.subject == "[OFII → SIAO] Flux retour 69 — novembre 2026 (version 1) disponible"
    assert "SIAO 69 — Rhône, novembre 2026 (version 1, 4 personnes)" in message.body
    assert "/flux-retour/" in message.body or "/retour" in message.body
    assert archive.reveal_password() not in message.body and archive.sha256 in message.body
    archive.refresh_from_db()
    assert archive.notified_at is not None
    assert archive_ready(archive.pk) == 0 and len(mail.outbox) == 2  # once
    assert archive_ready(999999) == 0


def test_the_mail_is_about_the_archive_asked_for(demo):
    _, november = upload_and_process("69", "2026-11", SAMPLE.read_bytes(), demo["dt.lyon"])
    _, october = upload_and_process("69", "2026-10", SAMPLE.read_bytes(), demo["dt.lyon"])
    mail.outbox.clear()
    assert archive_ready(october.pk) == 1
    assert mail.outbox[0].subject == "[OFII → SIAO] Flux retour 69 — octobre 2026 (version 1) disponible"
    assert ReturnArchive.objects.get(pk=november.pk).notified_at is None


def test_no_mail_for_a_purged_archive(demo):
    _, archive = upload_and_process("69", "2024-10", SAMPLE.read_bytes(), demo["dt.lyon"])
    services.purge_expired("2024-11")
    mail.outbox.clear()
    assert archive_ready(archive.pk) == 0 and mail.outbox == []
    archive.refresh_from_db()
    assert archive.notified_at is None


def test_the_reminder_goes_to_the_dt_and_to_headquarters_for_a_departement_without_dt(demo):
    upload_and_process("69", "2026-10", SAMPLE.read_bytes(), demo["dt.lyon"], archive=False)
    upload_and_process("75", "2026-11", SAMPLE.read_bytes(), demo["dt.paris"], archive=False)
    mail.outbox.clear()
    sent = remind_ofii()  # the previous month: October 2026
    by_to = {m.to[0]: m for m in mail.outbox}
    assert sent == len(mail.outbox) == 3
    assert set(by_to) == {"dt.lyon@demo.test", "dt.paris@demo.test", "siege@demo.test"}
    lyon = by_to["dt.lyon@demo.test"]
    assert lyon.subject == "[OFII → SIAO] Flux retour de octobre 2026 non transmis"
    assert "- 42 Loire\n" in lyon.body and "- 01 Ain\n" in lyon.body and "- 69 " not in lyon.body
    assert "- 75 Paris\n" in by_to["dt.paris@demo.test"].body
    siege = by_to["siege@demo.test"].body
    assert "- 2A Corse-du-Sud\n" in siege and "- 976 Mayotte\n" in siege and "- 42 " not in siege
    mail.outbox.clear()
    assert remind_ofii("2026-11") == 2  # DT Paris has only the 75, sent for November
    assert {m.to[0] for m in mail.outbox} == {"dt.lyon@demo.test", "siege@demo.test"}
    assert "- 69 Rhône\n" in mail.outbox[0].body or "- 69 Rhône\n" in mail.outbox[1].body


def test_progress_is_told_while_reading_and_storing(demo, monkeypatch):
    seen, stored_at = [], []
    real_validate, real_bulk = ReturnRowValidator.validate, ReturnRow.objects.bulk_create

    def validate_spy(self, line, raw):
        seen.append(ReturnFile.objects.values_list("progress", flat=True).get())
        return real_validate(self, line, raw)

    def bulk_spy(*args, **kwargs):
        stored_at.append(ReturnFile.objects.values_list("progress", flat=True).get())
        return real_bulk(*args, **kwargs)

    monkeypatch.setattr(ReturnRowValidator, "validate", validate_spy)
    monkeypatch.setattr(ReturnRow.objects, "bulk_create", bulk_spy)
    rows = [[f"N{i}-FICTIF", "Awa", "01/01/1990", "12/10/2026"] for i in range(1000)]
    rf = services.receive_upload(Departement.objects.get(code="69"), "2026-11", minimal(rows), name="r.csv",
                                 user=demo["dt.lyon"], run=False)
    assert rf.progress == 0
    rf = services.process_return(rf.pk)
    # 5 % once the columns are known, then every 500 rows (at least a twentieth of the file): 5 + 70 × 500 / 1000.
    assert (seen[0], seen[499], seen[500], seen[999], len(seen)) == (5, 5, 40, 40, 1000)
    assert stored_at == [80] and (rf.state, rf.progress) == (ReturnState.STORED, 100)


def test_processing_leaves_the_garbage_collector_as_it_found_it(demo):
    import gc

    assert gc.isenabled()
    _process(SAMPLE.read_bytes(), demo["dt.lyon"])
    assert gc.isenabled()
    gc.disable()
    try:
        _process(SAMPLE.read_bytes(), demo["dt.lyon"], period="2026-10")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_archive_is_built_once_for_a_stored_file_and_journaled(demo, django_capture_on_commit_callbacks):
    rf = _process(SAMPLE.read_bytes(), demo["dt.lyon"])
    refused = _process(minimal([["", "A", "01/01/1990", "12/10/2026"]]), demo["dt.lyon"], period="2026-10")
    assert services.build_archive_for(refused.pk) == (None, False)
    assert services.build_archive_for(999999) == (None, False)
    with django_capture_on_commit_callbacks(execute=True):
        archive, created = services.build_archive_for(rf.pk)
    assert created is True
    assert (archive.departement.code, archive.period, archive.version, archive.return_file, archive.row_count,
            archive.file_path) == ("69", "2026-11", 1, rf, 4, "returns/2026-11/DNA_069_2026-11_v1.zip")
    assert len(archive.sha256) == 64 and archive.size > 0 and archive.build_seconds >= 0
    assert archive.reveal_password() and archive.password_encrypted != archive.reveal_password()
    event = AuditEvent.objects.get(action=AuditAction.ARCHIVE_BUILT)
    assert (event.departement, event.object_id) == ("69", str(archive.pk))
    assert event.details == {"period": "2026-11", "version": 1, "rows": 4, "sha256": archive.sha256,
                             "size": archive.size, "flow": "retour"}
    # The designated agents were told once the archive was recorded (after the commit).
    assert [m.to for m in mail.outbox] == [["siao-dna.69@demo.test"]]
    assert services.build_archive_for(rf.pk) == (archive, False)
    assert ReturnArchive.objects.count() == 1


def test_an_upload_without_a_name_keeps_an_empty_name(demo):
    rf = services.receive_upload(Departement.objects.get(code="69"), "2026-11", SAMPLE.read_bytes(), name=None,
                                 user=demo["dt.lyon"], run=False)
    long = services.receive_upload(Departement.objects.get(code="69"), "2026-11", SAMPLE.read_bytes(),
                                   name="/tmp/" + "r" * 300 + ".csv", user=demo["dt.lyon"], run=False)
    assert (rf.source_name, long.source_name) == ("", "r" * 255)


def test_crosscheck_flags_with_line_and_birth_date_the_list_of_its_own_departement_only(demo):
    dep = Departement.objects.get(code="69")
    upload_and_process("69", "2026-10", minimal([["A-FICTIF", "Awa", "01/01/1990", "12/10/2026"]]), demo["dt.lyon"],
                       archive=False)
    upload_and_process("69", "2026-11", minimal([["Z-FICTIF", "Zoé", "02/02/1992", "12/11/2026"],
                                                  ["A-FICTIF", "Awa", "01/01/1990", "13/11/2026"]]),
                       demo["dt.lyon"], archive=False)
    # The 75's validated list holds the same person: it is not the 69's list.
    ml75 = make_list("75", "2026-11", uploaded_by=demo["siao.75"], validated_by=demo["siao.75"], rows=1)
    from exchanges.models import ListRow

    ListRow.objects.filter(monthly_list=ml75).update(last_name="A-FICTIF", first_name="Awa", birth_date=D(1990, 1, 1))
    result = cross_check(dep, "2026-11")
    assert (result.departement, result.period, result.monthly_list, result.flagged) == (dep, "2026-11", None, [])
    make_list("69", "2026-10", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], rows=1)
    make_list("69", "2026-12", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], rows=1)
    ml69 = make_list("69", "2026-11", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], rows=2, first_line=7)
    ListRow.objects.filter(monthly_list=ml69, line_number=8).update(last_name="a fictif", first_name="AWA",
                                                                    birth_date=D(1990, 1, 1))
    result = cross_check(dep, "2026-11")
    assert result.monthly_list == ml69
    [person] = result.flagged
    assert (person.line_number, person.last_name, person.first_name, person.birth_date) == (
        8, "a fictif", "AWA", D(1990, 1, 1))
    # This month's return first, then last month's; within a month, in the order of the file.
    assert [(r["return_file__period"], r["refused_on"]) for r in person.returns] == [
        ("2026-11", D(2026, 11, 13)), ("2026-10", D(2026, 10, 12))]


def test_crosscheck_ignores_rows_left_on_a_file_that_is_no_longer_stored(demo):
    dep = Departement.objects.get(code="69")
    old = _process(minimal([["A-FICTIF", "Awa", "01/01/1990", "12/11/2026"]]), demo["dt.lyon"])
    ReturnFile.objects.filter(pk=old.pk).update(state=ReturnState.SUPERSEDED)  # its rows not deleted (yet)
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], rows=1)
    from exchanges.models import ListRow

    ListRow.objects.filter(monthly_list=ml).update(last_name="A-FICTIF", first_name="Awa", birth_date=D(1990, 1, 1))
    result = cross_check(dep, "2026-11")
    assert (result.return_row_count, result.flagged) == (0, [])


def test_a_row_without_reason_and_with_another_error_gets_both_messages():
    row = validate({"birth_name": "", "first_name": "Irina", "birth_date": "01/02/1990"})
    assert errors(row) == [("Nom de naissance", "valeur manquante"), ("Date de refus", NO_REASON)]


def test_the_validator_uses_the_day_it_is_given():
    late = ReturnRowValidator("2026-11", today=D(2026, 11, 25))
    assert late.validate(2, {**PERSON, "birth_date": "24/11/2026"})["errors"] == []
    early = ReturnRowValidator("2026-11", today=D(2026, 11, 1))
    assert errors(early.validate(2, {**PERSON, "birth_date": "02/11/2026"})) == [
        ("Date de naissance", "date de naissance dans le futur (02/11/2026)")]


def test_the_inbox_counts_downloads_only(demo):
    from referentiel.perimeter import Capability

    dna = demo["siao-dna.69"]
    _, archive = upload_and_process("69", "2026-11", SAMPLE.read_bytes(), demo["siege"])
    AuditEvent.objects.create(action=AuditAction.PASSWORD_REVEAL, actor=dna, object_type=ReturnArchive._meta.label,
                              object_id=str(archive.pk))
    AuditEvent.objects.create(action=AuditAction.DOWNLOAD, actor=dna, object_type="exchanges.Extract",
                              object_id=str(archive.pk))
    [found] = services.archives_for(dna, Capability.READ_REVERSE_FLOW, today=TODAY)
    assert found.downloaded_by_user is False
    # A year later, the archive is out of the twelve months.
    assert services.archives_for(dna, Capability.READ_REVERSE_FLOW, today=D(2027, 10, 31)) == [found]
    assert services.archives_for(dna, Capability.READ_REVERSE_FLOW, today=D(2027, 11, 1)) == []


def test_retention_counts_every_purged_archive(demo):
    upload_and_process("69", "2024-09", SAMPLE.read_bytes(), demo["dt.lyon"])
    upload_and_process("42", "2024-10", SAMPLE.read_bytes(), demo["dt.lyon"])
    assert services.purge_expired("2024-11") == (2, 8)
