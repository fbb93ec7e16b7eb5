"""Return flow OFII → SIAO (instruction II.B; R744-48 2°).

- Upload side (UPLOAD_REVERSE_FLOW): DT agents for their DT's départements (dt.lyon 69, dt.paris
  75, each 404 on the other), headquarters everywhere; everybody else 403 (journaled).
- Reading side (READ_REVERSE_FLOW): only siao-dna.69, and only for 69 (404 on 75); plain SIAO
  agents (siao.69), prefecture, OFII, administrators: 403 (journaled).
"""

from .base import FORBIDDEN, NO_HABILITATION, NOT_FOUND, OK, Route


def context(demo):
    """A stored return file and a stand-in archive for 69 and 75 (the real archive is tested in
    tests/exchanges_returns)."""
    from exchanges.models import ReturnArchive, ReturnFile, ReturnState
    from django.core.files.base import ContentFile

    from exchanges.returns.services import relative_path
    from siao_ofii.privatefiles.storage import private_storage
    from referentiel.models import Departement

    ctx = {}
    for code, uploader in (("69", "dt.lyon"), ("75", "dt.paris")):
        dep = Departement.objects.get(code=code)
        rf = ReturnFile.objects.create(departement=dep, period="2026-11", state=ReturnState.STORED,
                                       uploaded_by=demo[uploader], row_count=1, progress=100)
        archive = ReturnArchive(departement=dep, period="2026-11", version=1, return_file=rf,
                                file_path=relative_path(code, "2026-11", 1), size=4, sha256="0" * 64, row_count=1)
        archive.set_password("Test-Pass-Word-Only-Xxxx")
        archive.save()
        private_storage().save(archive.file_path, ContentFile(b"PK\x05\x06"))
        ctx[f"return_file_{code}"] = rf.pk
        ctx[f"return_archive_{code}"] = archive.pk
    return ctx


def expect(ok=(), outside=(), ok_status=OK):
    """``ok`` accounts get ``ok_status``, ``outside`` accounts (capability, but another
    département) 404, every other habilitated account 403."""
    result = {}
    for account in ("admin", "siege", "dt.lyon", "dt.paris", "siao.69", "siao.75", "siao-dna.69", "prefecture.69"):
        result[account] = ok_status if account in ok else NOT_FOUND if account in outside else FORBIDDEN
    result.update(NO_HABILITATION)
    return result


UPLOADERS = {"siege", "dt.lyon", "dt.paris"}
_69 = {"ok": {"siege", "dt.lyon"}, "outside": {"dt.paris"}}
_75 = {"ok": {"siege", "dt.paris"}, "outside": {"dt.lyon"}}

ROUTES = [
    Route("exchanges:return_dashboard", expect=expect(UPLOADERS)),
    Route("exchanges:return_dashboard", expect=expect(UPLOADERS), query="period=2026-11&dt=sans&region=1"),
    Route("exchanges:return_upload", expect=expect(**_69), kwargs=lambda c: {"code": "69"}),
    Route("exchanges:return_upload", expect=expect(**_75), kwargs=lambda c: {"code": "75"}),
    Route("exchanges:return_upload", expect=expect({"siege"}, {"dt.lyon", "dt.paris"}), kwargs=lambda c: {"code": "2A"}),
    Route("exchanges:return_detail", expect=expect(**_69), kwargs=lambda c: {"pk": c["return_file_69"]}),
    Route("exchanges:return_detail", expect=expect(**_75), kwargs=lambda c: {"pk": c["return_file_75"]}),
    # A stored file's progress page sends to its report.
    Route("exchanges:return_processing", expect=expect(**_69, ok_status=302),
          kwargs=lambda c: {"pk": c["return_file_69"]}),
    Route("exchanges:return_status", expect=expect(**_69), kwargs=lambda c: {"pk": c["return_file_69"]}),
    Route("exchanges:return_status", expect=expect(**_75), kwargs=lambda c: {"pk": c["return_file_75"]}),
    Route("exchanges:return_inbox", expect=expect({"siao-dna.69"})),
    Route("exchanges:return_crosscheck", expect=expect({"siao-dna.69"}), kwargs=lambda c: {"code": "69"}),
    Route("exchanges:return_crosscheck", expect=expect((), {"siao-dna.69"}), kwargs=lambda c: {"code": "75"}),
    Route("exchanges:return_crosscheck", expect=expect({"siao-dna.69"}), kwargs=lambda c: {"code": "69"},
          query="period=2026-10"),
    Route("exchanges:return_download", expect=expect({"siao-dna.69"}),
          kwargs=lambda c: {"pk": c["return_archive_69"]}),
    Route("exchanges:return_download", expect=expect((), {"siao-dna.69"}),
          kwargs=lambda c: {"pk": c["return_archive_75"]}),
    Route("exchanges:return_password", method="post", expect=expect({"siao-dna.69"}),
          kwargs=lambda c: {"pk": c["return_archive_69"]}),
    Route("exchanges:return_password", method="post", expect=expect((), {"siao-dna.69"}),
          kwargs=lambda c: {"pk": c["return_archive_75"]}),
    # The password is never given by a GET.
    Route("exchanges:return_password", expect=dict(NO_HABILITATION), default=405,
          kwargs=lambda c: {"pk": c["return_archive_69"]}),
]
