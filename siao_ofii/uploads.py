"""Upload handling: stop reading a file as soon as it exceeds UPLOAD_MAX_BYTES (the request
body is discarded, never written to disk), and keep the temporary files of nominative uploads
under PRIVATE_STORAGE_ROOT instead of the system's /tmp."""

import os

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

TOO_LARGE_META_KEY = "siao_ofii.upload_too_large"


class SizeLimitUploadHandler(FileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.received = 0
        os.makedirs(settings.FILE_UPLOAD_TEMP_DIR, mode=0o700, exist_ok=True)
        # A body announced as far too large is refused before anything is read into a file.
        if content_length and content_length > settings.UPLOAD_MAX_BYTES + 1024 * 1024:
            self._refuse()

    def receive_data_chunk(self, raw_data, start):
        self.received = start + len(raw_data)
        if self.received > settings.UPLOAD_MAX_BYTES:
            self._refuse()
        return raw_data

    def file_complete(self, file_size):
        return None

    def _refuse(self):
        self.request.META[TOO_LARGE_META_KEY] = True
        raise StopUpload(connection_reset=False)


def upload_too_large(request):
    return bool(request.META.get(TOO_LARGE_META_KEY))


def max_upload_mb():
    return settings.UPLOAD_MAX_BYTES // (1024 * 1024)


def too_large_message():
    """The refusal every upload path gives (both upload pages, the API)."""
    return f"Le fichier dépasse la taille maximale ({max_upload_mb()} Mo) : il n’a pas été enregistré."
