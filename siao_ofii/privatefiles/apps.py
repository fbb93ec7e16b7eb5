from django.apps import AppConfig


class PrivateFilesConfig(AppConfig):
    name = "siao_ofii.privatefiles"
    label = "privatefiles"
    verbose_name = "Fichiers privés"
    default_auto_field = "django.db.models.BigAutoField"
