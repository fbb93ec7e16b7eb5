"""French names, in the administration, for the third-party apps (the packages' own labels are
English, upper-cased or misspelt in their French translation: "TOTP devices", "AXES",
"OTP_TOTP", "Intervales", "Tâches périodique"). Used in INSTALLED_APPS instead of the
packages' AppConfig; the app labels (and so tables and migrations) do not change."""

from axes.apps import AppConfig as AxesAppConfig
from django_celery_beat.apps import BeatConfig
from django_otp.plugins.otp_totp.apps import DefaultConfig as TotpConfig


def _names(model, singular, plural):
    model._meta.verbose_name = singular
    model._meta.verbose_name_plural = plural


class OtpTotpConfig(TotpConfig):
    verbose_name = "Second facteur (TOTP)"

    def ready(self):
        super().ready()
        _names(self.get_model("TOTPDevice"), "appareil TOTP", "appareils TOTP")


class AxesConfig(AxesAppConfig):
    verbose_name = "Verrouillage des connexions"


class PlanningConfig(BeatConfig):
    verbose_name = "Tâches périodiques"

    def ready(self):
        super().ready()
        for name, singular, plural in [
            ("PeriodicTask", "tâche périodique", "tâches périodiques"),
            ("IntervalSchedule", "intervalle", "intervalles"),
            ("CrontabSchedule", "planification crontab", "planifications crontab"),
            ("SolarSchedule", "événement solaire", "événements solaires"),
            ("ClockedSchedule", "date ponctuelle", "dates ponctuelles"),
        ]:
            _names(self.get_model(name), singular, plural)
