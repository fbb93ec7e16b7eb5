"""Gate every authenticated request on a valid habilitation (and a second factor where the
role requires one). Views that must stay reachable without them are marked with
``habilitation_exempt``."""

from django.conf import settings
from django.shortcuts import redirect, render

from .perimeter import active_habilitations, roles


def habilitation_exempt(view):
    view.habilitation_exempt = True
    return view


def public(view):
    """A page reachable without login and without habilitation (login, legal pages…)."""
    from django.contrib.auth.decorators import login_not_required

    return habilitation_exempt(login_not_required(view))


def otp_required_for(user):
    return bool({str(r) for r in roles(user)} & set(settings.OTP_REQUIRED_ROLES))


class HabilitationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Exempt views first: the health endpoint must not load a session or a user (no
        # database query before its own check).
        if getattr(view_func, "habilitation_exempt", False) or getattr(view_func, "login_required", True) is False:
            return None
        user = request.user
        if not user.is_authenticated:
            return None
        if not active_habilitations(user):
            return render(request, "no_habilitation.html", status=403)
        if otp_required_for(user) and not user.is_verified():
            return redirect(f"{settings.OTP_VERIFY_URL}?next={request.get_full_path()}")
        return None
