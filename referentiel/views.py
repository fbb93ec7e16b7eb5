"""The granting authorities' pages (issue 10, point 4): OFII headquarters approves the
habilitations of OFII staff (R744-47); the prefecture designates, for its département, the SIAO
agents who receive DNA data, approves the requests an administrator made, and revokes them
(R744-48). Thin: the rules are in referentiel.services."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from siao_ofii.audit.models import AuditAction
from siao_ofii.audit.services import record

from . import services
from .forms import DnaDesignationForm
from .models import Habilitation, Role
from .perimeter import Capability, has_capability, visible_departements


def _require(request, capability):
    if not has_capability(request.user, capability):
        raise PermissionDenied


def _dna_habilitations(user):
    deps = visible_departements(user, Capability.DESIGNATE_DNA)
    return Habilitation.objects.filter(role=Role.SIAO_DNA, departements__in=deps).distinct()


def _authority_queryset(user):
    """The habilitations ``user`` acts on as granting authority."""
    q = Q(pk__in=[])
    if has_capability(user, Capability.DESIGNATE_DNA):
        q |= Q(pk__in=_dna_habilitations(user).values("pk"))
    if has_capability(user, Capability.APPROVE_OFII_HABILITATIONS):
        q |= Q(role__in=[Role.DT, Role.SIEGE])
    return Habilitation.objects.filter(q)


def _habilitation(request, pk):
    if not (has_capability(request.user, Capability.DESIGNATE_DNA)
            or has_capability(request.user, Capability.APPROVE_OFII_HABILITATIONS)):
        raise PermissionDenied
    hab = _authority_queryset(request.user).filter(pk=pk).first()
    if hab is None:
        outside = Habilitation.objects.filter(pk=pk).first()
        if outside is not None:
            record(AuditAction.PERIMETER_DENIED, request=request, obj=outside, path=request.path,
                   reason="hors de l’autorité de l’agent")
        raise Http404("Habilitation introuvable.")
    return hab


def _back(request, hab):
    return redirect("habilitations:dna" if hab.role == Role.SIAO_DNA else "habilitations:approvals")


def approvals(request):
    _require(request, Capability.APPROVE_OFII_HABILITATIONS)
    pending = (Habilitation.objects.pending().filter(role__in=[Role.DT, Role.SIEGE])
               .select_related("agent", "dt", "granted_by").order_by("created_at"))
    return render(request, "referentiel/approvals.html", {
        "title": "Habilitations des agents de l’OFII à approuver", "pending": pending})


@require_http_methods(["GET", "POST"])
def dna(request):
    _require(request, Capability.DESIGNATE_DNA)
    deps = visible_departements(request.user, Capability.DESIGNATE_DNA)
    form = DnaDesignationForm(request.POST or None, departements=deps, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.grant_habilitation(agent=data["agent"], role=Role.SIAO_DNA, granted_by=request.user,
                                        reason=data["reason"], departements=[data["departement"]],
                                        valid_until=data["valid_until"], request=request)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{data['agent']} est désigné(e) pour les données DNA du département "
                                      f"{data['departement'].code}.")
            return redirect("habilitations:dna")
    today = timezone.localdate()
    habs = (_dna_habilitations(request.user).filter(revoked_at__isnull=True, valid_until__gte=today)
            .select_related("agent", "designated_by", "granted_by").prefetch_related("departements")
            .order_by("approved_at", "agent__last_name"))
    return render(request, "referentiel/dna.html", {
        "title": "Agents SIAO habilités aux données DNA", "form": form, "departements": deps,
        "pending": [h for h in habs if h.approved_at is None],
        "current": [h for h in habs if h.approved_at is not None],
    })


@require_POST
def approve(request, pk):
    hab = _habilitation(request, pk)
    try:
        services.approve_habilitation(hab, approved_by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Habilitation approuvée : {hab.agent}.")
    return _back(request, hab)


@require_POST
def refuse(request, pk):
    hab = _habilitation(request, pk)
    if hab.approved_at is not None:
        messages.error(request, "Cette habilitation n’est plus en attente : révoquez-la.")
    else:
        reason = request.POST.get("reason", "").strip()[:500]
        services.revoke_habilitation(hab, revoked_by=request.user, request=request,
                                     reason=f"Demande refusée par l’autorité compétente. {reason}".strip())
        messages.success(request, f"Demande refusée : {hab.agent}.")
    return _back(request, hab)


@require_POST
def revoke(request, pk):
    hab = _habilitation(request, pk)
    reason = request.POST.get("reason", "").strip()[:500] or "Révocation par l’autorité compétente"
    services.revoke_habilitation(hab, revoked_by=request.user, reason=reason, request=request)
    messages.success(request, f"Habilitation révoquée : {hab.agent} ; l’accès cesse à la requête suivante.")
    return _back(request, hab)
