"""Endpoints of /api/v1/ (issue 14, point 3). Thin: each one calls the service the page calls
(``exchanges.services.workflow``, ``exchanges.extracts.delivery``, ``exchanges.returns.services``)
and the perimeter rule (``referentiel.perimeter``: outside the perimeter → 404, journaled).

Order of the checks, as on the pages: token (401) → scope and capability (403) → département or
object in the perimeter (404 + journal) → the service's own refusals (French, 409/422)."""

import re

from django.core.paginator import Paginator
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response

from exchanges import periods
from exchanges.extracts import delivery
from exchanges.forms import RowForm
from exchanges.models import Extract, ListRow, ListState, MonthlyList, ReturnArchive, ReturnFile
from exchanges.returns import services as returns_services
from exchanges.services import workflow
from exchanges.services.reading import FileRejected
from referentiel.perimeter import departement_in_perimeter_or_404, get_in_perimeter_or_404
from siao_ofii.audit.models import AuditAction
from siao_ofii.audit.services import record

from . import serializers as s
from .base import FILE_MEDIA_TYPES, ApiView, FileBodyParser, idempotent
from .models import SCOPE_CAPABILITY, Scope
from .problems import PROBLEM, ProblemError

ISSUES_PER_PAGE = 200
ARCHIVE_MONTHS = 24

PROBLEMS = {code: OpenApiResponse(s.ProblemSerializer, description=text) for code, text in {
    400: "Requête invalide", 401: "Jeton absent, inconnu, expiré ou révoqué", 403: "Opération hors des droits du jeton",
    404: "Introuvable ou hors du périmètre", 409: "Refus du circuit (état de la liste)", 413: "Fichier trop volumineux",
    422: "Clé d’idempotence réutilisée ou fichier refusé", 428: "En-tête Idempotency-Key manquant",
    429: "Trop de requêtes",
}.items()}


def _problems(*codes):
    # Errors are answered as application/problem+json (see ``problems``), and documented so.
    return {(c, PROBLEM): PROBLEMS[c] for c in (401, 403, 429, *codes)}


IDEMPOTENCY = OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
                               description="Clé unique par écriture (un UUID) : un nouvel essai avec la même clé "
                                           "renvoie la même réponse sans rien créer.")
FILE_BODY = {media: {"type": "string", "format": "binary"} for media in FILE_MEDIA_TYPES}


DEPARTEMENT_CODE = re.compile(r"[0-9]{2,3}|2[AB]")


def _filter(qs, request):
    """The ``departement`` and ``period`` filters of a listing, checked before any query (a NUL
    character would otherwise reach the database: found by the fuzzing)."""
    code, period = request.query_params.get("departement"), request.query_params.get("period")
    if code:
        if not DEPARTEMENT_CODE.fullmatch(code):
            raise ProblemError(400, "Paramètre departement : code INSEE attendu (69, 2A, 974…).")
        qs = qs.filter(departement__code=code)
    if period:
        if not periods.is_valid(period):
            raise ProblemError(400, "Paramètre period : mois attendu au format AAAA-MM (par exemple 2026-11).")
        qs = qs.filter(period=period)
    return qs


def _departement(request, capability, code):
    if not DEPARTEMENT_CODE.fullmatch(code):
        raise ProblemError(404, "Ressource introuvable ou hors de votre périmètre.")
    return departement_in_perimeter_or_404(request, capability, code)


def _period_or_422(period, allowed):
    if period not in allowed:
        raise ProblemError(422, "Mois refusé : seuls " + " et ".join(allowed) + " peuvent être déposés aujourd’hui "
                                "(format AAAA-MM).", allowed_periods=allowed)
    return period


def _file_body(request):
    data = request.data
    if not isinstance(data, bytes) or not data:
        raise ProblemError(400, "Le corps de la requête doit contenir le fichier (CSV ou XLSX).")
    return data


def _file_name(request, default):
    from django.utils.http import parse_header_parameters

    _, params = parse_header_parameters(request.headers.get("Content-Disposition", ""))
    return params.get("filename") or default


# --- monthly list (SIAO → OFII) ---------------------------------------------------------------

def _issue(row, level, item):
    return {"line": row.line_number, "level": level, "column": item.get("column", ""),
            "field": item.get("field", ""), "message": item["message"]}


def list_report(request, ml, page_number=1):
    """The content of the page's control report (same messages, same rows and columns)."""
    rows = (ListRow.objects.filter(monthly_list=ml).exclude(errors=[], warnings=[]).order_by("line_number")
            .only("id", "line_number", "errors", "warnings", "monthly_list_id"))
    page = Paginator(rows, ISSUES_PER_PAGE).get_page(page_number)
    issues = []
    for row in page.object_list:
        issues += [_issue(row, "erreur", e) for e in row.errors]
        issues += [_issue(row, "avertissement", w) for w in row.warnings]
    if issues:
        record(AuditAction.NOMINATIVE_READ, request=request, obj=ml, departement=ml.departement, page="rapport_api")
    report = ml.report or {}
    data = s.MonthlyListSerializer(ml).data
    data.update(
        file_errors=[str(e) for e in report.get("file_errors", [])], needs_mapping=bool(report.get("needs_mapping")),
        columns={k: str(v) for k, v in (report.get("columns") or {}).items()},
        ignored_columns=[str(c) for c in report.get("ignored_columns", [])],
        can_validate=ml.state == ListState.DRAFT and ml.error_count == 0 and ml.row_count > 0,
        issues=issues, issues_page=page.number, issues_pages=page.paginator.num_pages,
    )
    return data


def _get_list(request, pk):
    qs = MonthlyList.objects.select_related("departement")
    return get_in_perimeter_or_404(request, qs, SCOPE_CAPABILITY[Scope.LIST_READ], pk=pk)



def _push_file(request, scope, code, period, selectable_periods, receive_upload, serializer, detail_route):
    """A file pushed for a département and a month (monthly list or return flow): the same
    checks as the upload page, through the flow's own ``receive_upload``; idempotent."""
    dep = _departement(request, SCOPE_CAPABILITY[scope], code)
    _period_or_422(period, selectable_periods())
    data = _file_body(request)

    def push():
        try:
            obj = receive_upload(dep, period, data, name=_file_name(request, f"api-{code}-{period}"),
                                 user=request.user, request=request)
        except FileRejected as exc:
            raise ProblemError(422, str(exc)) from None
        obj.refresh_from_db()
        return Response(serializer(obj).data, status=202, headers={"Location": reverse(detail_route, args=[obj.pk])})

    return idempotent(request, push)

class ListPushView(ApiView):
    scope = Scope.LIST_WRITE
    parser_classes = [FileBodyParser]

    @extend_schema(
        operation_id="liste_deposer", tags=["Liste mensuelle SIAO → OFII"],
        summary="Déposer la liste mensuelle d’un département (CSV ou XLSX dans le corps)",
        parameters=[IDEMPOTENCY], request=FILE_BODY,
        responses={202: s.MonthlyListSerializer, **_problems(400, 404, 409, 413, 422, 428)},
    )
    def post(self, request, code, period):
        return _push_file(request, self.scope, code, period, workflow.selectable_periods,
                          workflow.receive_upload, s.MonthlyListSerializer, "api:list_detail")


class ListIndexView(ApiView):
    scope = Scope.LIST_READ

    @extend_schema(
        operation_id="listes", tags=["Liste mensuelle SIAO → OFII"], summary="Listes des départements du jeton",
        parameters=[OpenApiParameter("departement", str), OpenApiParameter("period", str)],
        responses={200: s.MonthlyListSerializer(many=True), **_problems(400)},
    )
    def get(self, request):
        qs = (MonthlyList.objects.visible_to(request.user, SCOPE_CAPABILITY[self.scope]).select_related("departement")
              .order_by("departement__sort_key", "-period", "-version", "-uploaded_at"))
        return Response(s.MonthlyListSerializer(_filter(qs, request)[:500], many=True).data)


class ListDetailView(ApiView):
    scope = Scope.LIST_READ

    @extend_schema(
        operation_id="liste", tags=["Liste mensuelle SIAO → OFII"],
        summary="État et rapport de contrôle d’une liste (mêmes messages que la page)",
        parameters=[OpenApiParameter("page", int, description="Page des anomalies (200 lignes par page).")],
        responses={200: s.ListReportSerializer, **_problems(404)},
    )
    def get(self, request, pk):
        ml = _get_list(request, pk)
        return Response(list_report(request, ml, request.query_params.get("page", 1)))


class ListRowView(ApiView):
    scope = Scope.LIST_WRITE

    @extend_schema(
        operation_id="liste_corriger_ligne", tags=["Liste mensuelle SIAO → OFII"],
        summary="Corriger une ligne d’une liste en brouillon (contrôlée de nouveau aussitôt)",
        parameters=[IDEMPOTENCY], request=s.RowCorrectionSerializer,
        responses={200: s.RowResultSerializer, **_problems(400, 404, 409, 428)},
    )
    def put(self, request, pk, line):
        ml = _get_list(request, pk)
        row = get_in_perimeter_or_404(request, ListRow.objects.filter(monthly_list=ml),
                                      SCOPE_CAPABILITY[self.scope], line_number=line)
        row.monthly_list = ml
        values = s.RowCorrectionSerializer(data=request.data)
        values.is_valid(raise_exception=True)
        form = RowForm(values.validated_data, with_agdref=ml.report.get("with_agdref", False))
        if not form.is_valid():
            raise ProblemError(400, "Certaines valeurs sont invalides.", errors=form.errors.get_json_data())

        def correct():
            try:
                workflow.update_row(row, form.cleaned_data, user=request.user, request=request)
            except workflow.WorkflowError as exc:
                raise ProblemError(409, str(exc)) from None
            ml.refresh_from_db()
            return Response({
                "line": row.line_number, "errors": [_issue(row, "erreur", e) for e in row.errors],
                "warnings": [_issue(row, "avertissement", w) for w in row.warnings],
                "list": s.MonthlyListSerializer(ml).data,
            })

        return idempotent(request, correct)


class ListValidateView(ApiView):
    scope = Scope.LIST_WRITE

    @extend_schema(
        operation_id="liste_valider", tags=["Liste mensuelle SIAO → OFII"],
        summary="Valider une liste sans erreur (transmission à la DT OFII et au siège)", request=None,
        parameters=[IDEMPOTENCY], responses={200: s.MonthlyListSerializer, **_problems(404, 409, 428)},
    )
    def post(self, request, pk):
        ml = _get_list(request, pk)

        def validate():
            try:
                validated = workflow.validate_list(ml, request.user, request=request)
            except workflow.WorkflowError as exc:
                raise ProblemError(409, str(exc)) from None
            return Response(s.MonthlyListSerializer(validated).data)

        return idempotent(request, validate, body=False)


class ListCorrectionView(ApiView):
    scope = Scope.LIST_WRITE

    @extend_schema(
        operation_id="liste_corriger", tags=["Liste mensuelle SIAO → OFII"],
        summary="Ouvrir une nouvelle version en brouillon d’une liste validée (rectification)",
        parameters=[IDEMPOTENCY], request=s.CorrectionRequestSerializer,
        responses={201: s.MonthlyListSerializer, **_problems(400, 404, 409, 428)},
    )
    def post(self, request, pk):
        ml = _get_list(request, pk)
        body = s.CorrectionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)

        def correction():
            try:
                draft = workflow.start_correction(ml, user=request.user, reason=body.validated_data["reason"],
                                                  request=request)
            except workflow.WorkflowError as exc:
                raise ProblemError(409, str(exc)) from None
            return Response(s.MonthlyListSerializer(draft).data, status=201,
                            headers={"Location": reverse("api:list_detail", args=[draft.pk])})

        return idempotent(request, correction)


# --- archives (SIAO → OFII extracts, OFII → SIAO return flow) ----------------------------------

class _ArchiveIndex(ApiView):
    model = None

    def get(self, request):
        oldest = periods.add_months(periods.current(), -(ARCHIVE_MONTHS - 1))
        qs = (self.model.objects.visible_to(request.user, SCOPE_CAPABILITY[self.scope]).available()
              .filter(period__gte=oldest).select_related("departement").order_by("-period", "departement__sort_key",
                                                                                 "-version"))
        return Response(s.ArchiveSerializer(_filter(qs, request), many=True).data)


class _ArchiveFile(ApiView):
    model = None

    def get(self, request, pk):
        archive = get_in_perimeter_or_404(request, self.model.objects.available().select_related("departement"),
                                          SCOPE_CAPABILITY[self.scope], pk=pk)
        return delivery.download_response(request, archive)  # journaled (DOWNLOAD)


class _ArchivePassword(ApiView):
    """Not idempotent-stored on purpose: the answer holds a password, which is never kept at
    rest in clear; each call is a new reveal, journaled and throttled like the page's."""

    model = None

    @sensitive_variables("password")
    def post(self, request, pk):
        archive = get_in_perimeter_or_404(request, self.model.objects.available().select_related("departement"),
                                          SCOPE_CAPABILITY[self.scope], pk=pk)
        password, refusal = delivery.reveal(request, archive)
        if refusal:
            raise ProblemError(429, refusal)
        response = Response({"archive": archive.pk, "file_name": archive.file_name, "password": password})
        response["Cache-Control"] = "private, no-store"
        return response


ARCHIVE_FILTERS = [OpenApiParameter("departement", str), OpenApiParameter("period", str)]
ZIP = {(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="Archive ZIP chiffrée (AES-256)")}


def _archive_views(model, scope, tag, prefix):
    index = extend_schema(operation_id=f"{prefix}_archives", tags=[tag], summary="Archives visibles par le jeton",
                          parameters=ARCHIVE_FILTERS, responses={200: s.ArchiveSerializer(many=True), **_problems(400)})
    file = extend_schema(operation_id=f"{prefix}_archive_fichier", tags=[tag], summary="Télécharger une archive",
                         responses={**ZIP, **_problems(404)})
    password = extend_schema(
        operation_id=f"{prefix}_archive_mot_de_passe", tags=[tag], request=None,
        summary="Obtenir le mot de passe d’une archive (appel distinct, journalisé, limité)",
        responses={200: s.PasswordSerializer, **_problems(404)},
    )
    attrs = {"model": model, "scope": scope}

    # New functions for each flow: extend_schema annotates the function object it is given.
    def index_get(self, request):
        return _ArchiveIndex.get(self, request)

    def file_get(self, request, pk):
        return _ArchiveFile.get(self, request, pk)

    def password_post(self, request, pk):
        return _ArchivePassword.post(self, request, pk)

    return (
        type(f"{model.__name__}Index", (_ArchiveIndex,), {**attrs, "get": index(index_get)}),
        type(f"{model.__name__}File", (_ArchiveFile,), {**attrs, "get": file(file_get)}),
        type(f"{model.__name__}Password", (_ArchivePassword,), {**attrs, "post": password(password_post)}),
    )


ExtractIndexView, ExtractFileView, ExtractPasswordView = _archive_views(
    Extract, Scope.EXTRACT_READ, "Archives SIAO → OFII", "extrait")
ReturnArchiveIndexView, ReturnArchiveFileView, ReturnArchivePasswordView = _archive_views(
    ReturnArchive, Scope.RETURN_READ, "Flux retour OFII → SIAO", "flux_retour")


# --- return flow (OFII → SIAO) -----------------------------------------------------------------

class ReturnPushView(ApiView):
    scope = Scope.RETURN_WRITE
    parser_classes = [FileBodyParser]

    @extend_schema(
        operation_id="flux_retour_deposer", tags=["Flux retour OFII → SIAO"],
        summary="Déposer l’extraction du DNA d’un département (CSV ou XLSX dans le corps)",
        parameters=[IDEMPOTENCY], request=FILE_BODY,
        responses={202: s.ReturnFileSerializer, **_problems(400, 404, 413, 422, 428)},
    )
    def post(self, request, code, period):
        return _push_file(request, self.scope, code, period, returns_services.selectable_periods,
                          returns_services.receive_upload, s.ReturnFileSerializer, "api:return_detail")


class ReturnDetailView(ApiView):
    scope = Scope.RETURN_WRITE

    @extend_schema(operation_id="flux_retour_depot", tags=["Flux retour OFII → SIAO"],
                   summary="État et rapport d’un dépôt du flux retour",
                   responses={200: s.ReturnFileSerializer, **_problems(404)})
    def get(self, request, pk):
        rf = get_in_perimeter_or_404(request, ReturnFile.objects.select_related("departement"),
                                     SCOPE_CAPABILITY[self.scope], pk=pk)
        return Response(s.ReturnFileSerializer(rf).data)
