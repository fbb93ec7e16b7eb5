import datetime

from django import forms
from django.core.validators import URLValidator
from django.db.models import Q
from django.utils import timezone

from referentiel.models import Agent, Organisation

from .models import AgendaItem, Category, Meeting, Outcome


def invitable_organisations(departement):
    q = Q(departement=departement) | Q(kind=Organisation.Kind.SIEGE)
    if departement.dt_id:
        q |= Q(dt_id=departement.dt_id)
    return Organisation.objects.filter(q).order_by("kind", "name")


def invitable_agents(departement):
    return (
        Agent.objects.filter(is_active=True, organisation__in=invitable_organisations(departement))
        .select_related("organisation")
        .order_by("organisation__name", "last_name", "first_name")
    )


class AgentChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.get_full_name() or obj.email} — {obj.organisation} ({obj.email})"


class DsfrMixin:
    def _dsfr(self):
        for field in self.fields.values():
            w = field.widget
            if isinstance(w, forms.CheckboxSelectMultiple | forms.CheckboxInput):
                continue
            css = "fr-select" if isinstance(w, forms.Select) else "fr-input"
            w.attrs["class"] = (w.attrs.get("class", "") + " " + css).strip()


class MeetingForm(DsfrMixin, forms.ModelForm):
    date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    time = forms.TimeField(label="Heure", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    video_url = forms.URLField(
        label="Lien de visioconférence", required=False, assume_scheme="https", max_length=200,
        validators=[URLValidator(schemes=["https", "http"])],
    )
    months = forms.IntegerField(
        label="Nombre de mois à planifier", min_value=1, max_value=12, initial=1, required=False,
        help_text="Avec une récurrence : crée aussi les commissions des mois suivants (12 au plus).",
    )
    invited_organisations = forms.ModelMultipleChoiceField(
        label="Organisations invitées", queryset=Organisation.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    invited_agents = AgentChoiceField(
        label="Agents invités (reçoivent l’invitation par courriel)", queryset=Agent.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Meeting
        fields = ["duration_minutes", "place", "video_url", "within_siao_commission", "recurrence_week",
                  "recurrence_weekday"]
        labels = {"recurrence_week": "Récurrence : semaine du mois", "recurrence_weekday": "Récurrence : jour"}
        help_texts = {"recurrence_week": "Par exemple « 3e » et « mardi » : le 3e mardi de chaque mois."}

    def __init__(self, *args, departement, **kwargs):
        super().__init__(*args, **kwargs)
        self.departement = departement
        self.fields["invited_organisations"].queryset = invitable_organisations(departement)
        self.fields["invited_agents"].queryset = invitable_agents(departement)
        self.fields["recurrence_week"].choices = [("", "Pas de récurrence")] + list(self.fields["recurrence_week"].choices)[1:]
        self.fields["recurrence_weekday"].choices = [("", "—")] + list(self.fields["recurrence_weekday"].choices)[1:]
        if self.instance.pk:
            local = timezone.localtime(self.instance.starts_at)
            self.initial.setdefault("date", local.date())
            self.initial.setdefault("time", local.time().replace(second=0, microsecond=0))
            self.initial["invited_organisations"] = list(self.instance.invited_organisations.values_list("pk", flat=True))
            self.initial["invited_agents"] = list(self.instance.invited_agents.values_list("pk", flat=True))
            del self.fields["months"]
        else:
            self.initial.setdefault("time", datetime.time(9, 30))
        self._dsfr()

    def clean(self):
        data = super().clean()
        if not data.get("place") and not data.get("video_url"):
            raise forms.ValidationError("Indiquez un lieu ou un lien de visioconférence (ou les deux).")
        if (data.get("recurrence_week") is None) != (data.get("recurrence_weekday") is None):
            raise forms.ValidationError("Pour une récurrence, choisissez la semaine du mois et le jour.")
        if (data.get("months") or 1) > 1 and data.get("recurrence_week") is None:
            self.add_error("months", "Choisissez une récurrence pour planifier plusieurs mois.")
        if data.get("date") and data.get("time"):
            data["starts_at"] = timezone.make_aware(datetime.datetime.combine(data["date"], data["time"]))
        return data

    def apply(self):
        meeting = self.instance
        meeting.departement = self.departement
        meeting.starts_at = self.cleaned_data["starts_at"]
        return meeting


class FreeItemForm(DsfrMixin, forms.ModelForm):
    class Meta:
        model = AgendaItem
        # No raw priority: a free item goes last in its category; its rank is then set on the
        # agenda page like any other item's (ranks, never scores).
        fields = ["text", "category"]
        labels = {"text": "Intitulé du point"}
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].required = True
        self.fields["category"].initial = Category.FREE
        self._dsfr()


class OutcomeForm(DsfrMixin, forms.ModelForm):
    class Meta:
        model = Outcome
        fields = ["decision", "responsible_organisation", "due_date", "comment", "state"]
        widgets = {
            "due_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "comment": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"comment": "Factuel et limité à ce que la suite exige."}

    def __init__(self, *args, departement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible_organisation"].queryset = invitable_organisations(departement)
        self.fields["responsible_organisation"].empty_label = "Aucune organisation désignée"
        self.fields["decision"].choices = [("", "Choisir une décision")] + [
            c for c in self.fields["decision"].choices if c[0]]
        self._dsfr()


class MonthForm(forms.Form):
    mois = forms.RegexField(regex=r"^\d{4}-(0[1-9]|1[0-2])$", required=False)


class RowIdsField(forms.Field):
    """Rows of the month's list picked one by one (ids; the service keeps only those of the
    meeting's list inside the user's perimeter)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        try:
            return frozenset(int(v) for v in (value or []))
        except (TypeError, ValueError):
            raise forms.ValidationError("Identifiant de personne invalide.") from None


class AgendaCriteriaForm(forms.Form):
    """Which rows of the month's list go on the agenda (open situations always do). Offered only
    to those who may use the list (OFII, the SIAO of the département)."""

    new_arrivals = forms.BooleanField(label="Nouvelles arrivées", required=False, initial=True)
    status_changed = forms.BooleanField(label="Statut modifié depuis le mois précédent", required=False, initial=True)
    ada_flag = forms.BooleanField(label="Montant additionnel de l’ADA non dû", required=False, initial=True)
    long_stay = forms.BooleanField(label="Séjour continu d’au moins", required=False, initial=True)
    min_months = forms.IntegerField(label="Nombre de mois de séjour continu", min_value=1, max_value=60, initial=3,
                                    required=False, widget=forms.NumberInput(attrs={"class": "fr-input app-narrow"}))
    everyone = forms.BooleanField(label="Toutes les personnes de la liste", required=False)
    rows = RowIdsField(required=False)

    def criteria(self):
        from .services.agenda import AgendaCriteria

        if not self.is_bound or "submitted" not in self.data:
            return AgendaCriteria()
        if not self.is_valid():
            return None
        d = self.cleaned_data
        return AgendaCriteria(
            new_arrivals=d["new_arrivals"], status_changed=d["status_changed"], ada_flag=d["ada_flag"],
            min_months=(d["min_months"] or 3) if d["long_stay"] else None, everyone=d["everyone"],
            row_ids=d["rows"],
        )
