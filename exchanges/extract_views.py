"""Pages of the OFII side: the extracts of the départements in the agent's perimeter.

Every object goes through ``referentiel.perimeter`` (capability READ_EXTRACT): a DT agent sees
the départements of their DT, headquarters all of them; a département without DT is visible
to headquarters only. Downloads and password reveals are written to the audit log.
"""

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from referentiel.models import Departement, DirectionTerritoriale, Region
from referentiel.perimeter import (
    Capability,
    departement_in_perimeter_or_404,
    get_in_perimeter_or_404,
    has_capability,
    visible_departements,
)
from siao_ofii.audit.models import AuditAction, AuditEvent

from . import periods
from .extracts import delivery, francemap, services
from .returns import services as returns_services
from .models import Extract, LateSubmission, MonthlyList

HISTORY_MONTHS = 12
NO_DT = "sans"
PURPOSE = "aux finalités de l’article L.744-6 du CESEDA"


def _require_read_extract(request):
    # Pages without an object. On objects, the perimeter answers 404 and audits the attempt
    # (an agent without the capability has an empty perimeter).
    if not has_capability(request.user, Capability.READ_EXTRACT):
        raise PermissionDenied


def _period_choices(today=None):
    current = periods.current(today)
    return [(p, periods.label(p).capitalize()) for p in (periods.add_months(current, -i) for i in range(HISTORY_MONTHS * 2))]


class DashboardFilterForm(forms.Form):
    period = forms.ChoiceField(label="Mois", required=False, widget=forms.Select(attrs={"class": "fr-select"}))
    dt = forms.ChoiceField(label="DT OFII", required=False, widget=forms.Select(attrs={"class": "fr-select"}))
    region = forms.ChoiceField(label="Région", required=False, widget=forms.Select(attrs={"class": "fr-select"}))

    def __init__(self, *args, national=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = _period_choices()
        if national:
            self.fields["dt"].choices = (
                [("", "Toutes"), (NO_DT, "Sans DT (siège uniquement)")]
                + [(str(pk), name) for pk, name in DirectionTerritoriale.objects.values_list("pk", "name")]
            )
            self.fields["region"].choices = [("", "Toutes")] + [
                (str(pk), name) for pk, name in Region.objects.values_list("pk", "name")
            ]
        else:
            del self.fields["dt"]
            del self.fields["region"]

    def filter(self, qs):
        data = self.cleaned_data if self.is_valid() else {}
        dt = data.get("dt")
        if dt == NO_DT:
            qs = qs.filter(dt__isnull=True)
        elif dt:
            qs = qs.filter(dt_id=int(dt))
        if data.get("region"):
            qs = qs.filter(region_id=int(data["region"]))
        return qs

    @property
    def selected_period(self):
        if self.is_valid() and self.cleaned_data.get("period"):
            return self.cleaned_data["period"]
        return periods.current()


@require_GET
def dashboard(request):
    _require_read_extract(request)
    national = has_capability(request.user, Capability.NATIONAL_DASHBOARD)
    form = DashboardFilterForm(request.GET or None, national=national)
    period = form.selected_period
    deps = form.filter(visible_departements(request.user, Capability.READ_EXTRACT).select_related("dt", "region"))
    months = services.overview(deps, period)
    # Whether OFII sent the return flow of the month (instruction II.B) for each département.
    return_sent = returns_services.sent_departement_ids([m.departement.pk for m in months], period)
    summary = {state: 0 for state in services.STATE_LABELS}
    for m in months:
        summary[m.state] += 1
    return render(request, "exchanges/extracts/dashboard.html", {
        "title": "Listes reçues par l’OFII",
        "form": form,
        "national": national,
        "period": period,
        "period_label": periods.label(period),
        "deadline": periods.deadline(period),
        "months": months,
        "return_sent": return_sent,
        "summary": [(services.STATE_LABELS[s], services.STATE_BADGES[s], n) for s, n in summary.items()],
        "map": francemap.france_map(months) if national else None,
    })


@require_GET
def departement(request, code):
    dep = departement_in_perimeter_or_404(request, Capability.READ_EXTRACT, code)
    dep = Departement.objects.select_related("dt", "region").get(pk=dep.pk)
    current = periods.current()
    wanted = [periods.add_months(current, -i) for i in range(HISTORY_MONTHS)]
    oldest = wanted[-1]
    lists = {m.period: m for m in MonthlyList.objects.validated().filter(departement=dep, period__gte=oldest)}
    extracts = {}
    for e in Extract.objects.filter(departement=dep, period__gte=oldest).order_by("-period", "-version"):
        extracts.setdefault(e.period, []).append(e)
    late = set(LateSubmission.objects.filter(departement=dep, period__gte=oldest).values_list("period", flat=True))
    first = services.first_periods([dep])[dep.pk]
    rows = []
    for p in wanted:
        ml = lists.get(p)
        versions = extracts.get(p, [])
        latest = versions[0] if versions and ml is not None and versions[0].version == ml.version else None
        rows.append({
            "period": p,
            "label": periods.label(p).capitalize(),
            "month": services.DepartementMonth(dep, p, services.submission_state(p, ml, p in late, first_period=first), ml, latest),
            "older": [e for e in versions if e is not latest],
        })
    history = AuditEvent.objects.filter(
        object_type=Extract._meta.label, departement=dep.code,
        action__in=[AuditAction.DOWNLOAD, AuditAction.PASSWORD_REVEAL],
    )
    history_page = Paginator(history, 20).get_page(request.GET.get("page"))
    return render(request, "exchanges/extracts/departement.html", {
        "title": f"Listes reçues — {dep.code} {dep.name}",
        "departement": dep,
        "rows": rows,
        "page_obj": history_page,
        "query": "",
    })


@require_GET
def download(request, pk):
    delivery.refuse_cross_site(request)
    extract = get_in_perimeter_or_404(request, Extract.objects.available(), Capability.READ_EXTRACT, pk=pk)
    return delivery.download_response(request, extract)


@never_cache
@require_POST
def reveal_password(request, pk):
    """A separate, audited action: the password is shown in the page (never in a URL)."""
    extract = get_in_perimeter_or_404(
        request, Extract.objects.available().select_related("departement"), Capability.READ_EXTRACT, pk=pk
    )
    return delivery.password_response(request, extract, "exchanges/extracts/password.html", {
        "back_url": reverse("exchanges:extract_departement", args=[extract.departement.code]),
        "back_label": "Retour aux listes du département",
        "purpose": PURPOSE,
    })
