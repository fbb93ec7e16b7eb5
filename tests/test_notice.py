"""The personal-data page and the notice for the persons (instruction I.A, II.A.1, II.A.2, II.A.6;
CESEDA R.744-52), read from what a reader gets: the HTML page, and the PDF opened with pypdf."""

import io
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from referentiel.models import PlatformSettings


def _section(body, anchor):
    """The text of the page section that starts at <h2 id=anchor>, up to the next <h2>."""
    match = re.search(rf'<h2 id="{anchor}">(.*?)(?=<h2|</main>)', body, re.S)
    assert match, f"section {anchor} absente"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))


@pytest.mark.django_db
def test_personal_data_page_follows_the_texts(client):
    body = client.get(reverse("personal_data")).content.decode()
    recipients = _section(body, "destinataires")
    assert "Seul l’OFII est destinataire de la liste" in recipients
    assert "Seuls peuvent être destinataires de la transmission mentionnée à l’article L.744-6 du CESEDA, les services de l’OFII" in recipients
    assert "La préfecture et la DDETS ne sont pas destinataires de la liste" in recipients
    purposes = _section(body, "finalites")
    items = re.findall(r"<li>", body[body.index('id="finalites"'):body.index('id="destinataires"')])
    assert len(items) == 4  # exactly instruction II.A.1, no fifth purpose
    for words in ("orienter les demandeurs d’asile", "bénéficiaires de la protection internationale",
                  "fluidifier l’hébergement d’urgence", "montant additionnel journalier"):
        assert words in purposes
    assert "commission" not in purposes
    rights = _section(body, "droits")
    assert "directeur général de l’Office français de l’immigration et de l’intégration" in rights
    assert "Le droit d’opposition" in rights and "ne s’applique pas" in rights and "R.744-52" in rights
    assert "SIAO de leur département" not in body and "limitation" not in rights
    for code in ("fr", "en"):
        assert f'href="{reverse("notice_pdf", args=[code])}"' in body


def _pdf(client, language):
    response = client.get(reverse("notice_pdf", args=[language]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    return reader, text


@pytest.mark.django_db
def test_notice_in_french_one_page(client):
    reader, text = _pdf(client, "fr")
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)  # A4
    assert "Seulement l’OFII" in text and "ni la préfecture" in text  # the only recipient (I.A, II.A.2)
    for purpose in ("hébergements pour demandeurs d’asile", "contrat d’intégration républicaine",
                    "Libérer des places dans l’hébergement d’urgence", "montant additionnel de l’allocation"):
        assert purpose in text  # the four purposes of II.A.1
    assert "ne peuvent pas être utilisées pour autre chose" in text
    assert "droit d’accès" in text and "droit de rectification" in text
    assert "directeur général de l’OFII" in text and "le droit d’opposition ne s’applique pas" in text
    assert "après 24 mois" in text  # default retention
    assert "AGDREF" not in text  # not collected unless switched on


@pytest.mark.django_db
def test_notice_in_english_from_the_catalogue(client):
    reader, text = _pdf(client, "en")
    assert len(reader.pages) == 1
    assert "Only OFII" in text and "not the prefecture" in text
    assert "asylum seekers" in text and "republican integration contract" in text and "emergency accommodation" in text
    assert "additional amount of the asylum seeker’s allowance (ADA)" in text
    assert "right of access" in text and "right to rectification" in text
    assert "Director General of OFII" in text and "the right to object does not apply" in text
    for french in ("Pourquoi", "Vos droits", "Seulement", "mois"):  # every string translated
        assert french not in text


@pytest.mark.django_db
def test_notice_follows_platform_settings_and_writes_nothing(client):
    client.get(reverse("notice_pdf", args=["fr"]))
    assert not PlatformSettings.objects.exists()  # a GET writes nothing
    PlatformSettings.objects.create(collect_agdref_nationality=True, retention_months=12)
    _, text = _pdf(client, "fr")
    assert "numéro AGDREF et votre nationalité" in text and "après 12 mois" in text
    _, text = _pdf(client, "en")
    assert "AGDREF number and your nationality" in text and "after 12 months" in text


@pytest.mark.django_db
def test_notice_unknown_language(client):
    assert client.get(reverse("notice_pdf", args=["xx"])).status_code == 404


def test_compiled_catalogue_is_committed_and_current():
    """A fresh clone needs no gettext tools: the .mo is in the repository and matches the .po."""
    from pathlib import Path

    from django.conf import settings

    po = Path(settings.BASE_DIR, "locale/en/LC_MESSAGES/django.po")
    mo = po.with_suffix(".mo")
    assert mo.exists()
    import gettext

    catalog = gettext.GNUTranslations(open(mo, "rb"))
    ids = re.findall(r'^msgid "(.+)"$', po.read_text(encoding="utf-8"), re.M)
    assert ids
    for msgid in ids:
        assert catalog.gettext(msgid.replace('\\"', '"')) != msgid.replace('\\"', '"') or msgid.startswith("Les informations"), msgid


def test_siao_agents_find_the_notice_on_their_page(client, demo):
    from tests.helpers import login

    login(client, demo["siao.69"])
    body = client.get(reverse("exchanges:my_lists")).content.decode()
    assert f'href="{reverse("notice_pdf", args=["fr"])}"' in body and f'href="{reverse("notice_pdf", args=["en"])}"' in body
