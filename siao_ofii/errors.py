"""Error pages a person can read: 405 (a POST-only address opened in the browser), CSRF failure,
and the notice that a session ended after inactivity."""

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse

EXPIRED_KEY = "session_expired_notice"


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a French, styled page (the reason stays in the server log)."""
    return render(request, "403_csrf.html", {"title": "Formulaire expiré"}, status=403)


class FriendlyErrorsMiddleware:
    """Placed after AuthenticationMiddleware.

    - An idle session expires on the server while the browser still sends its cookie: the first
      request then is anonymous with a session cookie whose session is empty. The login page
      that follows says so, once (a logout deletes the cookie, so it never says so after one).
    - Django answers a wrong method with an empty 405: render a page with a way out, keep Allow.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and not request.user.is_authenticated:
            if request.COOKIES.get(settings.SESSION_COOKIE_NAME) and not session.keys():
                session[EXPIRED_KEY] = True
            elif request.method == "GET" and request.path == reverse("login"):
                request.session_expired_notice = session.pop(EXPIRED_KEY, False)
        response = self.get_response(request)
        if response.status_code == 405 and not response.content and not request.path.startswith("/admin/"):
            page = render(request, "405.html", {"title": "Action impossible depuis cette adresse"}, status=405)
            page["Allow"] = response.get("Allow", "")
            return page
        return response
