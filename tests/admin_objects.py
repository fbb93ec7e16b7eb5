"""One object of every model registered in the administration (made when the database has
none), for the admin permission matrix and the admin journal test."""

import datetime

from django.utils import timezone


def admin_object(model, demo):
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django_celery_beat.models import ClockedSchedule, IntervalSchedule, SolarSchedule
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from referentiel.models import Habilitation, PlatformSettings
    from siao_ofii.audit.models import AuditAction
    from siao_ofii.audit.services import record

    label = model._meta.label
    when = timezone.make_aware(datetime.datetime(2026, 11, 20, 9, 0))
    makers = {
        "axes.AccessAttempt": lambda: AccessAttempt.objects.create(
            username="siao.69@demo.test", ip_address="10.0.0.9", user_agent="x", failures_since_start=3,
            get_data="", post_data="", http_accept="*/*", path_info="/connexion/"),
        "axes.AccessLog": lambda: AccessLog.objects.create(
            username="siao.69@demo.test", ip_address="10.0.0.9", user_agent="x", http_accept="*/*",
            path_info="/connexion/"),
        "axes.AccessFailureLog": lambda: AccessFailureLog.objects.create(
            username="siao.69@demo.test", ip_address="10.0.0.9", user_agent="x", http_accept="*/*",
            path_info="/connexion/", locked_out=False),
        "django_celery_beat.ClockedSchedule": lambda: ClockedSchedule.objects.create(clocked_time=when),
        "django_celery_beat.SolarSchedule": lambda: SolarSchedule.objects.create(
            event="sunrise", latitude="45.76", longitude="4.83"),
        "django_celery_beat.IntervalSchedule": lambda: IntervalSchedule.objects.create(every=10, period="minutes"),
        "otp_totp.TOTPDevice": lambda: TOTPDevice.objects.create(user=demo["dt.lyon"], name="téléphone",
                                                                 confirmed=True),
        "audit.AuditEvent": lambda: record(AuditAction.DOWNLOAD, actor=demo["dt.lyon"], departement="69"),
        "referentiel.PlatformSettings": lambda: PlatformSettings.objects.get_or_create(pk=1)[0],
        "referentiel.Habilitation": lambda: Habilitation.objects.get(agent=demo["siao.75"]),
        "api.ApiClient": lambda: _api_client(demo),
    }
    if label == "referentiel.Agent":
        return demo["nohab"]
    if label == "referentiel.Departement":
        return model.objects.get(code="69")
    obj = model._default_manager.order_by("pk").first() if label not in makers else None
    return obj or makers[label]()


def _api_client(demo):
    from referentiel.models import Departement, Organisation, Role
    from siao_ofii.api.services import create_client

    org = Organisation.objects.get_or_create(name="SI-SIAO de test", defaults={"kind": Organisation.Kind.SIAO})[0]
    return create_client(organisation=org, name="SI-SIAO du Rhône", scopes=["list:write"], role=Role.SIAO,
                         created_by=demo["admin"], reason="convention", departements=Departement.objects.filter(code="69"))[0]
