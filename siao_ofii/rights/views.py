"""Rights of access and rectification (CESEDA R.744-52), OFII headquarters only. Both the
search and the export are POST (the names never go into a URL or a server log) and audited
(the journal entry holds counts, never the names searched)."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from referentiel.perimeter import Capability, has_capability
from siao_ofii.audit.models import AuditAction
from siao_ofii.audit.services import record

from . import services


class PersonSearchForm(forms.Form):
    nom = forms.CharField(label="Nom", max_length=150)
    prenom = forms.CharField(label="Prénom", max_length=150, required=False,
                             help_text="Facultatif : sans prénom, toutes les personnes de ce nom et de cette date.")
    naissance = forms.DateField(label="Date de naissance", input_formats=["%Y-%m-%d", "%d/%m/%Y"],
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                error_messages={"invalid": "Date de naissance invalide : format JJ/MM/AAAA."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            f.widget.attrs["class"] = "fr-input"

    def criteria(self):
        d = self.cleaned_data
        return {"last_name": d["nom"], "first_name": d["prenom"], "birth_date": d["naissance"]}


def _require(request):
    if not has_capability(request.user, Capability.RIGHTS_REQUESTS):
        raise PermissionDenied


@require_http_methods(["GET", "POST"])
def search(request):
    _require(request)
    form = PersonSearchForm(request.POST or None)
    persons = None
    if request.method == "POST" and form.is_valid():
        persons = services.search(request.user, **form.criteria())
        record(AuditAction.RIGHTS_SEARCH, request=request, persons=len(persons),
               rows=sum(len(p.rows) for p in persons), first_name_given=bool(form.cleaned_data["prenom"]))
    return render(request, "rights/search.html", {
        "title": "Droits d’accès et de rectification", "form": form, "persons": persons,
    })


@require_POST
def export(request):
    _require(request)
    form = PersonSearchForm(request.POST)
    fmt = request.POST.get("format")
    if not form.is_valid() or fmt not in ("pdf", "csv"):
        return render(request, "rights/search.html", {
            "title": "Droits d’accès et de rectification", "form": form, "persons": None,
        }, status=400)
    d = services.dossier(request.user, **form.criteria(), token=request.POST.get("personne", ""))
    if d is None:
        return render(request, "rights/search.html", {
            "title": "Droits d’accès et de rectification", "form": form, "persons": [], "not_found": True,
        }, status=404)
    record(AuditAction.RIGHTS_EXPORT, request=request, format=fmt, rows=len(d.person.rows), items=len(d.items),
           outcomes=len(d.outcomes), journal=len(d.journal), departements=d.person.departements)
    if fmt == "pdf":
        response = HttpResponse(services.export_pdf(d), content_type="application/pdf")
    else:
        response = HttpResponse(services.export_csv(d), content_type="text/csv; charset=utf-8")
    stamp = f"{d.generated_at:%Y-%m-%d-%H%M}"
    response["Content-Disposition"] = f'attachment; filename="droit-acces-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response
