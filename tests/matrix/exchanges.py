"""Monthly-list pages (exchanges): SIAO agents of the département only.

siao.69 and siao-dna.69 (SIAO on 69) may; siao.75 gets 404 on 69 objects (outside its
perimeter, audited); every account without the submit_list capability gets 403."""

from .base import NOT_FOUND, Route, only

SIAO_69 = {"siao.69", "siao-dna.69"}
SIAO_ALL = {"siao.69", "siao.75", "siao-dna.69"}


def on_69(allowed_status=200):
    expect = only(SIAO_69, allowed_status=allowed_status)
    expect["siao.75"] = NOT_FOUND
    return expect


def context(demo):
    from exchanges.models import ListState
    from exchanges.services import workflow
    from tests.exchanges import samples
    from tests.factories import make_list

    from referentiel.models import Departement

    draft = make_list("69", "2026-11", uploaded_by=demo["siao.69"], state=ListState.DRAFT, version=2)
    validated = make_list("69", "2026-11", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], start=10)
    header = list(samples.HEADER_FR)
    header[4] = "Colonne inconnue"
    unmapped = workflow.receive_upload(Departement.objects.get(code="69"), "2026-11",
                                       samples.csv_bytes(samples.GOOD, header), name="x.csv",
                                       user=demo["siao.69"], run=False)
    workflow.process_list(unmapped.pk)
    return {"draft": draft, "draft_row": draft.rows.first(), "validated_list": validated, "unmapped": unmapped}


ROUTES = [
    Route("exchanges:my_lists", expect=only(SIAO_ALL)),
    Route("exchanges:template", expect=only(SIAO_ALL)),
    Route("exchanges:upload", expect=on_69(), kwargs=lambda c: {"code": "69"}),
    Route("exchanges:detail", expect=on_69(), kwargs=lambda c: {"pk": c["draft"].pk}),
    Route("exchanges:detail", expect=on_69(), kwargs=lambda c: {"pk": c["draft"].pk}, query="type=errors"),
    Route("exchanges:processing", expect=on_69(302), kwargs=lambda c: {"pk": c["draft"].pk}),
    Route("exchanges:status", expect=on_69(), kwargs=lambda c: {"pk": c["draft"].pk}),
    Route("exchanges:archive_status", expect=on_69(), kwargs=lambda c: {"pk": c["validated_list"].pk}),
    Route("exchanges:detail", expect=on_69(), kwargs=lambda c: {"pk": c["validated_list"].pk}),
    Route("exchanges:mapping", expect=on_69(), kwargs=lambda c: {"pk": c["unmapped"].pk}),
    Route("exchanges:rows", expect=on_69(), kwargs=lambda c: {"pk": c["draft"].pk}),
    Route("exchanges:row_edit", expect=on_69(),
          kwargs=lambda c: {"pk": c["draft"].pk, "row_pk": c["draft_row"].pk}),
    Route("exchanges:validate", expect=on_69(), kwargs=lambda c: {"pk": c["draft"].pk}),
    Route("exchanges:validate", expect=on_69(302), kwargs=lambda c: {"pk": c["draft"].pk}, method="post"),
    Route("exchanges:correct", expect=on_69(302), kwargs=lambda c: {"pk": c["validated_list"].pk}, method="post",
          data=lambda c: {"reason": "Rectification demandée par la personne"}),
]
