"""The notice handed to the persons themselves when the SIAO collects their data (instruction
II.A.6: "Les personnes concernées par cette transmission devront être informées de son existence
et de ses finalités au moment de la collecte des données").

One printable A4 page (WeasyPrint), in plain language; its texts live in Django's translation
catalogue (locale/<code>/LC_MESSAGES/django.po; the French text is the message id), so that a
language is added by adding a catalogue and an entry of settings.LANGUAGES.
"""

import functools

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from referentiel.models import PlatformSettings


def languages():
    """(code, name) of the languages the notice is offered in."""
    return list(settings.LANGUAGES)


def _platform():
    # Read only: a GET writes nothing (PlatformSettings.load() would create the row).
    row = PlatformSettings.objects.filter(pk=1).first()
    if row is None:
        return False, settings.DEFAULT_RETENTION_MONTHS
    return row.collect_agdref_nationality, row.retention_months


def notice_html(language, agdref, months):
    with translation.override(language):
        return render_to_string("pages/notice_pdf.html", {"agdref": agdref, "retention_months": months})


@functools.lru_cache(maxsize=32)
def _pdf(language, agdref, months):
    # Public page: rendered once per (language, settings), not on every anonymous request.
    from weasyprint import HTML

    return HTML(string=notice_html(language, agdref, months)).write_pdf()


def notice_pdf(language):
    return _pdf(language, *_platform())
