"""Issue 13 point 7: the audit journal's filter fields carry DSFR classes (visible borders)."""

import re

from django.urls import reverse

from tests.helpers import login


def test_every_filter_field_has_its_dsfr_class(client, demo):
    page = login(client, demo["admin"]).get(reverse("audit_list")).content.decode()
    form = page.split('id="audit-filters"')[1].split("</form>")[0]
    fields = re.findall(r"<(input|select)\b([^>]*)>", form)
    names = {re.search(r'name="([^"]+)"', attrs).group(1): (tag, attrs) for tag, attrs in fields}
    assert set(names) == {"agent", "action", "departement", "date_from", "date_to"}
    for name, (tag, attrs) in names.items():
        expected = "fr-select" if tag == "select" else "fr-input"
        assert re.search(rf'class="[^"]*\b{expected}\b', attrs), f"{name} sans la classe {expected}"
