"""Extracts (OFII side): only DT agents (their DT's départements) and headquarters (all).

- dt.lyon downloads 69 and gets 404 (+ an audit entry, see tests/exchanges_extracts) for 75;
- dt.paris the reverse; siege everything; SIAO, prefecture, admin nothing (404 on objects:
  their existence is not revealed; 403 on the pages that need the capability).
- 2A (Corse-du-Sud) has no DT: headquarters only.
"""

from .base import NO_HABILITATION, NOT_FOUND, Route, only


def context(demo):
    """Extract rows with a stand-in file (the real archive is tested in tests/exchanges_extracts;
    building three archives for every matrix test would only slow the suite down)."""
    from django.core.files.base import ContentFile

    from exchanges.extracts.services import relative_path
    from siao_ofii.privatefiles.storage import private_storage
    from exchanges.models import Extract
    from tests.factories import get_or_make_list

    ctx = {}
    for code in ("69", "75", "2A"):
        ml = get_or_make_list(code, "2026-11", uploaded_by=demo["siao.69"], rows=1)
        extract = Extract(departement=ml.departement, period=ml.period, version=1, monthly_list=ml,
                          file_path=relative_path(code, ml.period, 1), size=4, sha256="0" * 64, row_count=1)
        extract.set_password("Test-Pass-Word-Only-Xxxx")
        extract.save()
        private_storage().save(extract.file_path, ContentFile(b"PK\x05\x06"))
        ctx[f"extract_{code}"] = extract.pk
    return ctx


def _objects(allowed):
    return only(allowed, denied=NOT_FOUND)


READERS = {"siege", "dt.lyon", "dt.paris"}

ROUTES = [
    Route("exchanges:extract_dashboard", expect=only(READERS)),
    Route("exchanges:extract_dashboard", expect=only(READERS), query="period=2026-11&dt=sans&region=1"),
    Route("exchanges:extract_departement", expect=_objects({"siege", "dt.lyon"}), kwargs=lambda c: {"code": "69"}),
    Route("exchanges:extract_departement", expect=_objects({"siege", "dt.paris"}), kwargs=lambda c: {"code": "75"}),
    Route("exchanges:extract_departement", expect=_objects({"siege"}), kwargs=lambda c: {"code": "2A"}),
    Route("exchanges:extract_download", expect=_objects({"siege", "dt.lyon"}),
          kwargs=lambda c: {"pk": c["extract_69"]}),
    Route("exchanges:extract_download", expect=_objects({"siege", "dt.paris"}),
          kwargs=lambda c: {"pk": c["extract_75"]}),
    Route("exchanges:extract_download", expect=_objects({"siege"}), kwargs=lambda c: {"pk": c["extract_2A"]}),
    Route("exchanges:extract_password", method="post", expect=_objects({"siege", "dt.lyon"}),
          kwargs=lambda c: {"pk": c["extract_69"]}),
    Route("exchanges:extract_password", method="post", expect=_objects({"siege", "dt.paris"}),
          kwargs=lambda c: {"pk": c["extract_75"]}),
    Route("exchanges:extract_password", method="post", expect=_objects({"siege"}),
          kwargs=lambda c: {"pk": c["extract_2A"]}),
    # The password is never given by a GET (no link, no URL carrying it).
    Route("exchanges:extract_password", expect=dict(NO_HABILITATION), default=405,
          kwargs=lambda c: {"pk": c["extract_69"]}),
]
