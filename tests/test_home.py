"""The home page of headquarters says « tous les départements » without reading them (issue 15,
goal 3: it read three lists of every département, with their DT, for one number)."""

import pytest
from django.urls import reverse

from tests.helpers import FROZEN_NOW, count_queries, login

pytestmark = pytest.mark.django_db


def test_headquarters_home_reads_no_list_of_departements(client, demo, time_machine):
    time_machine.move_to(FROZEN_NOW, tick=False)
    login(client, demo["siege"])
    client.get(reverse("home"))
    with count_queries() as queries:
        response = client.get(reverse("home"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Tous les départements (101)." in page  # the referentiel: 101 départements
    assert page.count("Tous les départements.") == 1  # the commissions card
    assert "Flux retour OFII → SIAO" in page
    # Départements read: those of the habilitations (their perimeter, shown) and those without a
    # DT (named in the warning); no list of every département.
    listed = [q["sql"] for q in queries.captured_queries if 'FROM "referentiel_departement"' in q["sql"]
              and "_prefetch_related_val_habilitation_id" not in q["sql"] and "COUNT(" not in q["sql"]
              and '"referentiel_departement"."dt_id" IS NULL' not in q["sql"]]
    assert listed == []


def test_dt_home_still_lists_its_departements(client, demo, time_machine):
    time_machine.move_to(FROZEN_NOW, tick=False)
    login(client, demo["dt.lyon"])
    page = client.get(reverse("home")).content.decode()
    assert "Départements de votre DT :" in page and "69 Rhône" in page
