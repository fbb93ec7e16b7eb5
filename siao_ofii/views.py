"""Cross-cutting pages: home per role, public information pages, second factor."""

import base64

import segno
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from referentiel.middleware import habilitation_exempt, public
from referentiel.models import Departement
from referentiel.perimeter import Capability, active_habilitations, has_capability, visible_departements
from siao_ofii.audit.models import AuditAction
from siao_ofii.audit.services import record

from . import notice


class AgentPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """A password chosen through « Mot de passe oublié » is journaled, and lifts the
    per-account login delay (referentiel/login_throttle.py counts failures after it)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        record(AuditAction.AGENT_CHANGED, request=self.request, actor=form.user, obj=form.user, step="password_reset")
        return response


def home(request):
    user = request.user
    habilitations = active_habilitations(user)
    sections = {}
    for cap in (Capability.SUBMIT_LIST, Capability.READ_EXTRACT, Capability.UPLOAD_REVERSE_FLOW,
                Capability.READ_REVERSE_FLOW, Capability.VIEW_MEETINGS):
        if has_capability(user, cap):
            sections[cap.value] = list(visible_departements(user, cap).select_related("dt"))
    context = {
        "habilitations": habilitations,
        "sections": sections,
        "is_national": has_capability(user, Capability.NATIONAL_DASHBOARD),
        "is_admin": has_capability(user, Capability.ADMINISTER),
        "can_designate_dna": has_capability(user, Capability.DESIGNATE_DNA),
        "can_approve_ofii": has_capability(user, Capability.APPROVE_OFII_HABILITATIONS),
        "departements_without_dt": [],
        "return_waiting": [],
    }
    if Capability.READ_REVERSE_FLOW.value in sections:
        from exchanges.returns.services import archives_for

        context["return_waiting"] = [a for a in archives_for(user, Capability.READ_REVERSE_FLOW)
                                     if not a.downloaded_by_user]
    if context["is_national"] or context["is_admin"]:
        context["departements_without_dt"] = list(Departement.objects.without_dt())
    return render(request, "home.html", context)


def _public(template, title):
    return public(lambda request: render(request, template, {"title": title}))


legal_notice = _public("pages/mentions_legales.html", "Mentions légales")
accessibility = _public("pages/accessibilite.html", "Déclaration d’accessibilité")


@public
def personal_data(request):
    return render(request, "pages/donnees_personnelles.html", {
        "title": "Données personnelles", "notice_languages": notice.languages(),
    })


@public
def notice_pdf(request, language):
    """The one-page notice for the persons (instruction II.A.6), in one of settings.LANGUAGES.
    No personal data in it: public, so that SIAO agents print it and anyone can read it."""
    if language not in dict(notice.languages()):
        raise Http404("Langue non disponible.")
    response = HttpResponse(notice.notice_pdf(language), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="notice-transmission-ofii-{language}.pdf"'
    return response


def _safe_next(request, default="/"):
    nxt = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return nxt
    return default


@habilitation_exempt
@require_http_methods(["GET", "POST"])
def second_factor(request):
    """Enrol (first time) or check a TOTP code. Required for administrators and headquarters."""
    user = request.user
    nxt = _safe_next(request)
    if user.is_verified():
        return redirect(nxt)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if enrolling:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
            user=user, name="Application d’authentification", confirmed=False
        )
    error = None
    if request.method == "POST":
        token = "".join(ch for ch in request.POST.get("token", "") if ch.isdigit())
        if token and device.verify_token(token):
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                record(AuditAction.OTP_ENROLLED, request=request)
            otp_login(request, device)
            return redirect(nxt)
        record(AuditAction.OTP_FAILURE, request=request)
        error = "Ce code n’est pas valide. Vérifiez l’heure de votre téléphone et saisissez le code affiché (6 chiffres)."
        messages.error(request, error)
    context = {"enrolling": enrolling, "next": nxt, "error": error, "title": "Second facteur d’authentification"}
    if enrolling:
        secret = base64.b32encode(device.bin_key).decode()
        context["secret"] = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
        context["qr_svg"] = segno.make(device.config_url, micro=False).svg_inline(scale=4)
    return render(request, "registration/second_factor.html", context)
