from django.conf import settings

from referentiel.middleware import otp_required_for
from referentiel.perimeter import Capability, capabilities, roles


def site(request):
    user = getattr(request, "user", None)
    caps = capabilities(user) if user is not None and user.is_authenticated else set()
    if caps and otp_required_for(user) and not user.is_verified():
        caps = set()  # nothing to navigate to before the second factor
    return {
        "SITE_CONFIG": {
            "site_title": "Transmission SIAO → OFII",
            "site_tagline": "Liste mensuelle des personnes hébergées (article L.744-6 du CESEDA)",
            "header_brand_html": "Ministère<br>de l’Intérieur",
            "footer_description": (
                "Service de transmission mensuelle, par les SIAO à l’OFII, de la liste des demandeurs "
                "d’asile et bénéficiaires d’une protection internationale hébergés dans le dispositif "
                "d’hébergement d’urgence généraliste."
            ),
        },
        "user_capabilities": {c.value: (c in caps) for c in Capability},
        "user_roles": sorted(str(r.label) for r in roles(user)) if caps else [],
        "oidc_enabled": settings.OIDC_ENABLED,
        "session_idle_minutes": settings.SESSION_IDLE_TIMEOUT_MINUTES,
        "lockout_minutes": round(settings.AXES_COOLOFF_TIME * 60),
        "lockout_failures": settings.AXES_FAILURE_LIMIT,
    }
