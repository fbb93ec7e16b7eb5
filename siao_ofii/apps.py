import os

from django.apps import AppConfig
from django.conf import settings


def ensure_private_folders():
    """Create the private folders the application writes to (nominative files, upload spool).

    Run at start-up, before Django's system checks (``files.E001`` checks that
    FILE_UPLOAD_TEMP_DIR exists), so that a fresh clone or an empty production volume works
    without a manual step. Owner-only permissions: these folders hold personal data."""
    for folder in (settings.PRIVATE_STORAGE_ROOT, settings.FILE_UPLOAD_TEMP_DIR):
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
        except OSError:
            # A read-only or foreign volume: the system check then reports it clearly.
            pass


class CoreConfig(AppConfig):
    name = "siao_ofii"
    label = "siao_ofii"
    verbose_name = "Transmission SIAO → OFII"

    def ready(self):
        ensure_private_folders()
