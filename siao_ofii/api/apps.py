from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "siao_ofii.api"
    label = "api"
    verbose_name = "API système à système"
    default_auto_field = "django.db.models.BigAutoField"
