"""Optional backend: an S3-compatible object store (django-storages), ``PRIVATE_STORAGE=s3``.

Installed with ``pip install '.[s3]'``; tested in-process with moto (no network), never against
a real provider here. An object is visible only once its upload is complete (S3 PUT and
multipart uploads are atomic), so no half-written archive is ever readable. Unlike the two
other backends, S3 has no "create if absent": two saves of one name at the same instant could
both succeed, the last one winning; the code never does that (archives are built under the
list's row lock, uploads get random names). Objects are read into a temporary file of this
node (FILE_UPLOAD_TEMP_DIR, private) before being streamed: archives are AES-256 ZIPs and
uploads are encrypted, so that copy holds nothing in clear.
"""

from django.utils.deconstruct import deconstructible
from storages.backends.s3 import S3Storage

from .storage import NoUrlMixin


@deconstructible(path="siao_ofii.privatefiles.s3.PrivateS3Storage")
class PrivateS3Storage(NoUrlMixin, S3Storage):
    def __init__(self, **options):
        options.setdefault("file_overwrite", False)  # same semantics as the other backends
        options.setdefault("default_acl", "private")
        super().__init__(**options)
