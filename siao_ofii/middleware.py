from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils import timezone

SESSION_STARTED_KEY = "_auth_started_at"
SESSION_REFRESHED_KEY = "_idle_refreshed_at"
# The idle expiry is pushed back at most once per this many seconds (issue 15, goal 3).
SESSION_REFRESH_SECONDS = 60


class IdleSessionRefreshMiddleware:
    """The idle expiry without a database write on every request (issue 15: a GET writes
    nothing). Django's SESSION_SAVE_EVERY_REQUEST saved the session (an UPDATE) on each
    request; here a session already loaded by the request is marked modified, hence saved with
    a new expiry of SESSION_COOKIE_AGE, only when its last refresh is at least
    SESSION_REFRESH_SECONDS old. A session therefore expires between SESSION_IDLE_TIMEOUT_MINUTES
    minus one minute and SESSION_IDLE_TIMEOUT_MINUTES after the last request. Login stamps the
    refresh (siao_ofii.audit.signals), so the requests of the first minute write nothing.

    Placed right after SessionMiddleware: its response phase runs before the session is saved.
    A session the request did not load (health endpoint, static files) is left unread."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.accessed and not session.modified and not session.is_empty():
            now = timezone.now().timestamp()
            if now - session.get(SESSION_REFRESHED_KEY, 0) >= SESSION_REFRESH_SECONDS:
                session[SESSION_REFRESHED_KEY] = now
        return response


class AbsoluteSessionLifetimeMiddleware:
    """Re-authentication at least every SESSION_ABSOLUTE_HOURS (12 h by default), however
    active the session: the idle expiry (SESSION_IDLE_TIMEOUT_MINUTES) alone lets a session
    used every few minutes live for ever. The start is stamped at login
    (siao_ofii.audit.signals); a session without the stamp (opened before this rule) is
    counted from its next request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = timezone.now().timestamp()
            started = request.session.get(SESSION_STARTED_KEY)
            if started is None:
                request.session[SESSION_STARTED_KEY] = now
            elif now - started > settings.SESSION_ABSOLUTE_HOURS * 3600:
                logout(request)  # journaled (LOGOUT)
                messages.info(request, f"Votre session a dépassé {settings.SESSION_ABSOLUTE_HOURS} heures : "
                                       "reconnectez-vous.")
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Headers Django does not set by itself: no caching of pages (they may hold personal
    data), a restrictive Content-Security-Policy and Permissions-Policy.

    No 'unsafe-inline' for styles: the templates hold no style attribute nor <style> block
    (templates/meetings/minutes_pdf.html is WeasyPrint's input, never served as a page),
    django-dsfr's CSS and JS are static files (its JS sets styles through the CSSOM, which CSP
    allows), and so are the admin's (its one <style> block, in change lists, is written only for
    a ModelAdmin with actions_on_top and actions_on_bottom both False: none here).
    tests/test_csp.py and tests/browser/test_csp.py check it."""

    CSP = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        "script-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.CSP)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store, private")
        return response
