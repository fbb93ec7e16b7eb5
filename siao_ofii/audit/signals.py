from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .models import AuditAction
from .services import record


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    record(AuditAction.LOGIN_SUCCESS, request=request, actor=user)
    if request is not None and hasattr(request, "session"):
        # Start of the absolute session lifetime (siao_ofii.middleware.AbsoluteSessionLifetimeMiddleware).
        from django.utils import timezone

        from siao_ofii.middleware import SESSION_REFRESHED_KEY, SESSION_STARTED_KEY

        now = timezone.now().timestamp()
        request.session[SESSION_STARTED_KEY] = now
        # The login saves the session: its idle expiry is fresh (IdleSessionRefreshMiddleware).
        request.session[SESSION_REFRESHED_KEY] = now


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        record(AuditAction.LOGOUT, request=request, actor=user)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    email = (credentials or {}).get("username") or (credentials or {}).get("email") or ""
    record(AuditAction.LOGIN_FAILURE, request=request, attempted_email=str(email)[:254])
