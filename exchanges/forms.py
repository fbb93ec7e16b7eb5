from django import forms
from django.conf import settings

from exchanges.models import Sex, Status
from exchanges.periods import label as period_label
from siao_ofii.uploads import max_upload_mb, too_large_message, upload_too_large

from .services.parsing import FIELD_LABELS, MANDATORY_FIELDS


class UploadForm(forms.Form):
    period = forms.ChoiceField(label="Mois de la liste", widget=forms.Select(attrs={"class": "fr-select"}))
    file = forms.FileField(
        label="Fichier de la liste",
        help_text="Classeur Excel (.xlsx) ou fichier CSV (séparateur point-virgule, virgule ou tabulation). "
                  "Taille maximale : 20 Mo.",
        widget=forms.ClearableFileInput(attrs={"class": "fr-upload", "accept": ".xlsx,.csv,.txt"}),
    )

    def __init__(self, *args, periods, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [(p, period_label(p)) for p in periods]
        self.fields["file"].help_text = self.fields["file"].help_text.replace("20 Mo", f"{max_upload_mb()} Mo")

    @classmethod
    def for_request(cls, request, *, periods):
        """The form of an upload page (monthly list, return flow). A body the upload handler cut
        off at UPLOAD_MAX_BYTES (siao_ofii.uploads) arrives without its file: the file's error
        says it was too large, and the other fields keep what the agent chose."""
        initial = {"period": periods[0]}
        if request.method != "POST":
            return cls(periods=periods, initial=initial)
        files = request.FILES  # parses the body: only then does the handler flag a cut-off upload
        if not upload_too_large(request):
            return cls(request.POST, files, periods=periods, initial=initial)
        form = cls(request.POST, periods=periods, initial=initial)
        form.is_valid()
        form.errors.pop("file", None)
        form.add_error("file", too_large_message())
        return form

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > settings.UPLOAD_MAX_BYTES:
            raise forms.ValidationError(too_large_message())
        return f


class MappingForm(forms.Form):
    """One select per unrecognised mandatory column: which column of the file holds it."""

    def __init__(self, *args, headers, missing, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "— choisir une colonne —")] + [
            (str(i), h or f"Colonne {i + 1} (sans titre)") for i, h in enumerate(headers)
        ]
        for field in missing:
            self.fields[field] = forms.ChoiceField(
                label=f"Colonne contenant : {FIELD_LABELS[field]}", choices=choices,
                widget=forms.Select(attrs={"class": "fr-select"}),
            )


class RowForm(forms.Form):
    """The agent's fix of one row: free text, checked by the same parsers as the file."""

    last_name = forms.CharField(label="Nom", required=False, max_length=150)
    first_name = forms.CharField(label="Prénom", required=False, max_length=150)
    birth_date = forms.CharField(label="Date de naissance", required=False, help_text="Format JJ/MM/AAAA")
    sex = forms.ChoiceField(label="Sexe", required=False, choices=[("", "—")] + list(Sex.choices))
    status = forms.ChoiceField(label="Statut", required=False, choices=[("", "—")] + list(Status.choices))
    shelter_address = forms.CharField(label="Adresse de l’hébergement", required=False, max_length=500)
    entry_date = forms.CharField(label="Date d’entrée", required=False, help_text="Format JJ/MM/AAAA")
    agdref = forms.CharField(label="Numéro AGDREF", required=False, max_length=20)
    nationality = forms.CharField(label="Nationalité", required=False, max_length=100)

    def __init__(self, *args, with_agdref=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_agdref:
            del self.fields["agdref"], self.fields["nationality"]
        for name, field in self.fields.items():
            css = "fr-select" if isinstance(field, forms.ChoiceField) else "fr-input"
            field.widget.attrs["class"] = css
            if name in MANDATORY_FIELDS:
                field.label = f"{field.label} (obligatoire)"

    @staticmethod
    def initial_from(row):
        """Initial values: what was read (``raw``, kept for a row with a message), or for a row
        without one, its checked values (dates as JJ/MM/AAAA); sex, status and the address
        as understood when they were."""
        if row.raw:
            initial = {f: row.raw.get(f, "") for f in ("last_name", "first_name", "birth_date", "shelter_address",
                                                        "entry_date", "agdref", "nationality")}
        else:
            initial = {f: getattr(row, f) or "" for f in ("last_name", "first_name", "agdref", "nationality")}
            initial.update({f: getattr(row, f).strftime("%d/%m/%Y") if getattr(row, f) else ""
                            for f in ("birth_date", "entry_date")})
        if row.shelter_address:
            initial["shelter_address"] = row.shelter_address
        initial["sex"] = row.sex
        initial["status"] = row.status
        return initial
