"""The cross-check for the SIAO agent habilitated by the prefect: persons of the SIAO's own
validated list found in the return flow of the same or the previous month (birth name or usage
name + first name + birth date, normalised), nobody else; visible only to SIAO_DNA, journaled;
nothing reaches the monthly list, its archive, OFII or the prefecture (R744-50)."""

import datetime

from django.urls import reverse

from exchanges.extracts.services import build_for_list
from exchanges.models import ListRow
from exchanges.returns.crosscheck import cross_check
from referentiel.models import Departement
from siao_ofii.audit.models import AuditAction, AuditEvent
from tests.helpers import archive_file
from tests.exchanges_extracts.helpers import csv_rows, read_members
from tests.exchanges_returns.helpers import to_csv, upload_and_process
from tests.factories import make_list
from tests.helpers import login

B = datetime.date


def _list_with(demo, period, persons, departement="69"):
    ml = make_list(departement, period, uploaded_by=demo["siao.69"], validated_by=demo["siao.69"],
                   rows=len(persons))
    for row, (last, first, birth) in zip(ListRow.objects.filter(monthly_list=ml).order_by("line_number"), persons):
        row.last_name, row.first_name, row.birth_date = last, first, birth
        row.save()
    return ml


def _returns(demo, period, rows, departement="69"):
    header = ["Nom de naissance", "Nom d’usage", "Prénom", "Date de naissance", "Date de refus", "Date de sortie"]
    rf, _ = upload_and_process(departement, period, to_csv(header, rows), demo["dt.lyon"], archive=False)
    assert rf.state == "stored", rf.report
    return rf


def _flagged(departement, period):
    return {(p.last_name, p.first_name) for p in cross_check(Departement.objects.get(code=departement), period).flagged}


def test_finds_exactly_the_persons_it_must(demo):
    _returns(demo, "2026-11", [
        ["N’GUESSAN-FICTIF", "", "Aïcha", "14/02/1994", "12/11/2026", ""],        # accents, apostrophe
        ["MARTIN-DEMO", "LEBLANC-DEMO", "Zoé", "03/07/1988", "", "31/10/2026"],     # usage name in the list
        ["OMAROV-TEST", "", "Rustam", "21/11/1979", "05/11/2026", ""],             # other birth date in the list
        ["PETIT-FICTIF", "", "Jean Marie", "01/01/1980", "05/11/2026", ""],        # first name with hyphen in list
        ["DURAND-FICTIF", "", "Paul", "02/02/1982", "05/11/2026", ""],             # other first name in the list
    ])
    _returns(demo, "2026-10", [["ÉLOÏSE-FICTIF", "", "Inès", "05/05/1995", "10/10/2026", ""]])  # previous month
    _returns(demo, "2026-09", [["ANCIEN-FICTIF", "", "Marc", "06/06/1970", "10/09/2026", ""]])  # too old
    _returns(demo, "2026-11", [["LYONNAIS-FICTIF", "", "Hugo", "07/07/1977", "05/11/2026", ""]], departement="42")
    _list_with(demo, "2026-11", [
        ("n'guessan fictif", "aicha", B(1994, 2, 14)),
        ("Leblanc-Demo", "ZOE", B(1988, 7, 3)),
        ("OMAROV-TEST", "Rustam", B(1979, 11, 22)),
        ("PETIT FICTIF", "Jean-Marie", B(1980, 1, 1)),
        ("DURAND-FICTIF", "Pierre", B(1982, 2, 2)),
        ("Eloise-Fictif", "Ines", B(1995, 5, 5)),
        ("ANCIEN-FICTIF", "Marc", B(1970, 6, 6)),
        ("LYONNAIS-FICTIF", "Hugo", B(1977, 7, 7)),
        ("MARTIN-DEMO", "Luc", B(1988, 7, 3)),
    ])
    assert _flagged("69", "2026-11") == {
        ("n'guessan fictif", "aicha"), ("Leblanc-Demo", "ZOE"), ("PETIT FICTIF", "Jean-Marie"),
        ("Eloise-Fictif", "Ines"),
    }
    result = cross_check(Departement.objects.get(code="69"), "2026-11")
    zoe = next(p for p in result.flagged if p.first_name == "ZOE")
    assert [(r["return_file__period"], r["exit_date"]) for r in zoe.returns] == [("2026-11", B(2026, 10, 31))]


def test_no_validated_list_no_match(demo):
    _returns(demo, "2026-11", [["X-FICTIF", "", "Y", "01/01/1990", "12/11/2026", ""]])
    result = cross_check(Departement.objects.get(code="69"), "2026-11")
    assert result.monthly_list is None and result.flagged == []


def test_page_is_for_siao_dna_only_and_journaled(client, demo):
    _returns(demo, "2026-11", [["N’GUESSAN-FICTIF", "", "Aïcha", "14/02/1994", "12/11/2026", ""]])
    ml = _list_with(demo, "2026-11", [("NGUESSAN FICTIF", "Aicha", B(1994, 2, 14)), ("AUTRE-FICTIF", "Eve", B(1990, 1, 1))])
    url = reverse("exchanges:return_crosscheck", args=["69"])
    login(client, demo["siao-dna.69"])
    page = client.get(url).content.decode()
    table = page.split('id="flagged"')[1]
    assert "NGUESSAN FICTIF" in table and "12/11/2026" in table and "AUTRE-FICTIF" not in table
    event = AuditEvent.objects.get(action=AuditAction.NOMINATIVE_READ, actor=demo["siao-dna.69"])
    assert event.departement == "69" and event.details["page"] == "rapprochement_flux_retour"
    assert event.details["flagged"] == 1
    for account in ("siao.69", "dt.lyon", "siege", "prefecture.69", "admin"):
        client.logout()
        login(client, demo[account])
        assert client.get(url).status_code == 403, account
    assert client.get(reverse("exchanges:return_crosscheck", args=["75"])).status_code == 403
    # R744-50: nothing of the cross-check is written on the list nor in its archive.
    extract, _ = build_for_list(ml.pk)
    rows = csv_rows(read_members(archive_file(extract), extract.reveal_password())[extract.file_name.replace(".zip", ".csv")])
    assert len(rows[0]) == 10 and not any("refus" in h.lower() or "retour" in h.lower() for h in rows[0])
    assert all("12/11/2026" not in ";".join(r) for r in rows)
    assert not ListRow.objects.filter(monthly_list=ml).exclude(ofii_warnings=[]).exists()


def test_crosscheck_page_constant_queries(client, demo):
    from tests.helpers import assert_constant_queries

    login(client, demo["siao-dna.69"])
    _list_with(demo, "2026-11", [(f"NOM{i}-FICTIF", "Eve", B(1990, 1, 1 + i)) for i in range(3)])
    sent = []

    def grow():  # a new version of the month's file, one more person (found in the list)
        n = len(sent)
        sent.append([f"NOM{n}-FICTIF", "", "Eve", f"{1 + n:02d}/01/1990", "12/11/2026", ""])
        _returns(demo, "2026-11", sent)

    grow()
    url = reverse("exchanges:return_crosscheck", args=["69"])
    assert_constant_queries(lambda: client.get(url), grow)
    assert client.get(url).content.decode().count('class="flagged-person"') == 3


def test_page_defaults_to_the_previous_month_until_this_months_list_is_validated(client, demo):
    _returns(demo, "2026-10", [["ÉLOÏSE-FICTIF", "", "Inès", "05/05/1995", "10/10/2026", ""]])
    _list_with(demo, "2026-10", [("Eloise-Fictif", "Ines", B(1995, 5, 5))])
    login(client, demo["siao-dna.69"])
    url = reverse("exchanges:return_crosscheck", args=["69"])
    page = client.get(url).content.decode()
    assert "liste de octobre 2026" in page and page.count('class="flagged-person"') == 1
    _list_with(demo, "2026-11", [("AUTRE-FICTIF", "Eve", B(1990, 1, 1))])
    page = client.get(url).content.decode()
    assert "liste de novembre 2026" in page and page.count('class="flagged-person"') == 0
