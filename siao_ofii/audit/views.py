import csv
import datetime

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from referentiel.perimeter import Capability, has_capability
from siao_ofii.csvsafe import neutralize

from .models import AuditAction, AuditEvent
from .services import record


class AuditFilterForm(forms.Form):
    agent = forms.CharField(label="Agent (e-mail)", required=False)
    action = forms.ChoiceField(label="Action", required=False, choices=[("", "Toutes")] + AuditAction.choices)
    departement = forms.CharField(label="Département", required=False, max_length=3)
    date_from = forms.DateField(label="Du", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="Au", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # DSFR classes: without them the fields have no visible border
            css = "fr-select" if isinstance(field.widget, forms.Select) else "fr-input"
            field.widget.attrs["class"] = css

    def filter(self, qs):
        if not self.is_valid():
            return qs.none()
        data = self.cleaned_data
        if data["agent"]:
            qs = qs.filter(actor_email__icontains=data["agent"].strip())
        if data["action"]:
            qs = qs.filter(action=data["action"])
        if data["departement"]:
            qs = qs.filter(departement=data["departement"].strip().upper())
        tz = timezone.get_current_timezone()
        if data["date_from"]:
            qs = qs.filter(timestamp__gte=datetime.datetime.combine(data["date_from"], datetime.time.min, tz))
        if data["date_to"]:
            qs = qs.filter(timestamp__lt=datetime.datetime.combine(data["date_to"], datetime.time.min, tz)
                           + datetime.timedelta(days=1))
        return qs


def _require_audit_access(request):
    if not has_capability(request.user, Capability.VIEW_AUDIT):
        raise PermissionDenied


def audit_list(request):
    _require_audit_access(request)
    form = AuditFilterForm(request.GET or None)
    qs = form.filter(AuditEvent.objects.all()) if request.GET else AuditEvent.objects.all()
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/list.html",
        {"form": form, "page_obj": page, "query": query.urlencode(), "title": "Journal d’audit"},
    )


class _Echo:
    def write(self, value):
        return value


EXPORT_HEADER = ["date", "agent", "action", "type d’objet", "identifiant", "objet", "département", "adresse IP",
                 "navigateur", "détails"]


def audit_export(request):
    _require_audit_access(request)
    form = AuditFilterForm(request.GET or None)
    qs = form.filter(AuditEvent.objects.all()) if request.GET else AuditEvent.objects.all()
    record(AuditAction.AUDIT_EXPORT, request=request, filters=request.GET.urlencode())
    labels = dict(AuditAction.choices)
    writer = csv.writer(_Echo(), delimiter=";")

    def rows():
        yield "\ufeff"
        yield writer.writerow(EXPORT_HEADER)
        for e in qs.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    neutralize(v)
                    for v in (
                        timezone.localtime(e.timestamp).strftime("%d/%m/%Y %H:%M:%S"),
                        e.actor_email,
                        labels.get(e.action, e.action),
                        e.object_type,
                        e.object_id,
                        e.object_repr,
                        e.departement,
                        e.ip_address or "",
                        e.user_agent,
                        ", ".join(f"{k}={v}" for k, v in sorted(e.details.items())),
                    )
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y-%m-%d_%H%M")
    response["Content-Disposition"] = f'attachment; filename="journal_audit_{stamp}.csv"'
    return response
