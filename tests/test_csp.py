"""Content-Security-Policy without 'unsafe-inline' for styles (issue 10, item 12)."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from siao_ofii.middleware import SecurityHeadersMiddleware
from tests.helpers import login

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[1]
EXPECTED = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; font-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
INLINE_STYLE = re.compile(r"<style[\s>]|\sstyle\s*=", re.I)


def test_csp_header_forbids_inline_styles_and_scripts(client, demo):
    pages = [(None, reverse("login")), (demo["siao.69"], reverse("home")),
             (demo["admin"], reverse("admin:audit_auditevent_changelist"))]
    for agent, url in pages:
        if agent:
            login(client, agent)
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Security-Policy"] == EXPECTED, url
        assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_no_served_template_has_an_inline_style():
    """Every project template but the PDF sources (*_pdf.html: WeasyPrint reads them; no browser does)."""
    found = []
    for path in ROOT.glob("**/templates/**/*.html"):
        if ".venv" in path.parts or path.name.endswith("_pdf.html"):
            continue
        if INLINE_STYLE.search(path.read_text()):
            found.append(str(path.relative_to(ROOT)))
    assert not found
    assert SecurityHeadersMiddleware.CSP == EXPECTED
