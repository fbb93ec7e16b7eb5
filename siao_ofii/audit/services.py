"""The one function every app calls to write the audit log."""

from .models import AuditEvent


def client_ip(request):
    """The client's address. Behind TRUSTED_PROXY_COUNT reverse proxies, the address the first
    trusted proxy saw (X-Forwarded-For, counted from the right); otherwise REMOTE_ADDR. A
    client-supplied header is never trusted beyond that count."""
    from django.conf import settings

    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR") or None


def record(action, *, request=None, actor=None, obj=None, departement="", **details):
    """Append one entry. ``details`` must never hold a password or nominative content."""
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    attempted_email = details.pop("attempted_email", "")
    dep = departement
    if hasattr(dep, "code"):
        dep = dep.code
    event = AuditEvent(
        action=str(action),
        actor=actor if actor is not None and actor.pk else None,
        actor_email=getattr(actor, "email", "") or attempted_email,
        departement=dep or "",
        details={k: v for k, v in details.items() if v is not None},
    )
    if obj is not None:
        event.object_type = obj._meta.label
        event.object_id = str(obj.pk)
        event.object_repr = str(obj)[:255]
    if request is not None:
        event.ip_address = client_ip(request)
        event.user_agent = request.META.get("HTTP_USER_AGENT", "")[:255]
    event.save()
    return event
