"""Issue 13 points 11 and 12: the administration speaks French (no "TOTP devices", "AXES",
"OTP_TOTP", "Intervales", "Tâches périodique", "Ajout de agent"), and creating an agent leads
straight to granting the first habilitation."""

from django.urls import reverse

from referentiel.models import Agent
from tests.helpers import login

WRONG = ["TOTP devices", "TOTP device", "Axes", "AXES", "Otp_Totp", "OTP_TOTP", "Intervales", "Tâches périodique<",
         "Periodic Tasks", "Ajout de agent", "Ajout de habilitation", "Ajout de organisation"]


def _visible_text(html):
    import re

    return re.sub(r"<[^>]+>", "<", html)


def test_admin_index_and_add_pages_are_french(client, demo):
    login(client, demo["admin"])
    index = client.get(reverse("admin:index")).content.decode()
    for label in ("Second facteur (TOTP)", "Appareils TOTP", "Verrouillage des connexions", "Tâches périodiques",
                  "Intervalles"):
        assert label in index, label
    pages = [index] + [client.get(reverse(f"admin:referentiel_{m}_add")).content.decode()
                       for m in ("agent", "habilitation", "organisation")]
    for page in pages:
        text = _visible_text(page)
        for wrong in WRONG:
            assert f">{wrong}" not in page and f"<{wrong}<" not in text, wrong
    assert "<h1>Ajouter un agent</h1>" in pages[1]
    assert "<h1>Accorder une habilitation</h1>" in pages[2]
    assert "<h1>Ajouter une organisation</h1>" in pages[3]


def test_creating_an_agent_opens_the_habilitation_form_for_it(client, demo):
    login(client, demo["admin"])
    response = client.post(reverse("admin:referentiel_agent_add"), {
        "email": "nouvel.agent@exemple.gouv.fr", "first_name": "Nina", "last_name": "Nouvel", "is_active": "on",
        "habilitations-TOTAL_FORMS": "0", "habilitations-INITIAL_FORMS": "0",
        "habilitations-MIN_NUM_FORMS": "0", "habilitations-MAX_NUM_FORMS": "1000",
    })
    agent = Agent.objects.get(email="nouvel.agent@exemple.gouv.fr")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:referentiel_habilitation_add") + f"?agent={agent.pk}"
    form = client.get(response["Location"]).content.decode()
    assert f'<option value="{agent.pk}" selected>' in form
    assert "Accordez-lui maintenant sa première habilitation" in form
    change = client.get(reverse("admin:referentiel_agent_change", args=[agent.pk])).content.decode()
    assert f'href="{reverse("admin:referentiel_habilitation_add")}?agent={agent.pk}" id="grant-habilitation"' in change
