"""Cross-cutting pages: home per role, public information pages, second factor."""

import base64
import time

import segno
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpResponse
from django.db.models import prefetch_related_objects
from django.shortcuts import redirect, render
from django.utils.crypto import salted_hmac
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.oath import TOTP
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


# The sections of the home page that say « tous les départements » to headquarters (SIEGE's
# perimeter is every département for these capabilities, referentiel.perimeter) instead of listing them.
NATIONAL_SECTIONS = {Capability.READ_EXTRACT, Capability.UPLOAD_REVERSE_FLOW, Capability.VIEW_MEETINGS}


def home(request):
    user = request.user
    habilitations = active_habilitations(user)
    prefetch_related_objects(habilitations, "departements")  # their perimeter is shown
    is_national = has_capability(user, Capability.NATIONAL_DASHBOARD)
    sections = {}
    for cap in (Capability.SUBMIT_LIST, Capability.READ_EXTRACT, Capability.UPLOAD_REVERSE_FLOW,
                Capability.READ_REVERSE_FLOW, Capability.VIEW_MEETINGS):
        if has_capability(user, cap):
            if is_national and cap in NATIONAL_SECTIONS:
                # Headquarters see every département there: the page says so, it lists none
                # (three lists of a hundred départements were read for nothing, issue 15).
                sections[cap.value] = True
            else:
                sections[cap.value] = list(visible_departements(user, cap).select_related("dt"))
    context = {
        "habilitations": habilitations,
        "sections": sections,
        "departement_count": Departement.objects.count() if is_national else None,
        "is_national": is_national,
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


def _pending_totp_device(user):
    """The TOTP device an agent is enrolling, unsaved. Its secret is derived from the server
    secret (SECRET_KEY), the agent's password hash (randomly salted) and last login, so that the
    page can be shown again (GET) and the code checked (POST) without storing anything before
    the code is right; a new login gives a new secret. Once confirmed, the secret is stored
    like any TOTP secret (and hidden in the administration)."""
    key = salted_hmac(
        "siao_ofii.second_factor.enrolment",
        f"{user.pk}:{user.password}:{user.last_login.isoformat() if user.last_login else ''}",
        algorithm="sha256",
    ).digest()[:20]
    return TOTPDevice(user=user, name="Application d’authentification", key=key.hex(), confirmed=True)


def _pending_token_valid(device, token):
    """The code of an unsaved device (django_otp's verify_token saves the device, even on a
    wrong code). No throttling is needed here: whoever sees this page sees the secret."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if totp.verify(int(token), device.tolerance):
        device.last_t = totp.t()
        return True
    return False


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
        # Not stored before the agent proves the application holds it: a GET writes nothing
        # (issue 15), so the pending secret is derived, not saved (see _pending_totp_device).
        device = _pending_totp_device(user)
    error = None
    if request.method == "POST":
        token = "".join(ch for ch in request.POST.get("token", "") if ch.isdigit())
        if enrolling:
            if token and _pending_token_valid(device, token):
                device.save()
                # Devices left unconfirmed by the previous enrolment (created on GET before).
                TOTPDevice.objects.filter(user=user, confirmed=False).delete()
                record(AuditAction.OTP_ENROLLED, request=request)
                otp_login(request, device)
                return redirect(nxt)
        elif token and device.verify_token(token):
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
