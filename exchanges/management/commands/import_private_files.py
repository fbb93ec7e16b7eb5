"""Copy the nominative files an older installation kept on its local disk into the private
storage now configured (``PRIVATE_STORAGE``, e.g. ``database``), once, when upgrading:

    python manage.py import_private_files [--delete-source]

Archives (``extracts/``, and ``returns/`` of the OFII → SIAO flow) are copied as they are (AES-256 ZIPs, same name, SHA-256 checked
against the Extract row when there is one); uploaded lists waiting for processing
(``uploads/``, stored in clear by older versions) are encrypted on the way. A file already in
the target is skipped, so the command can run again. With ``--delete-source``, each copied
file is then removed from the disk."""

import hashlib

from django.core.management.base import BaseCommand, CommandError

from exchanges.extracts.services import EXTRACTS_DIR
from exchanges.models import Extract, ReturnArchive
from exchanges.returns.services import RETURNS_DIR
from exchanges.services.workflow import UPLOADS_DIR
from siao_ofii.privatefiles.crypto import save_encrypted
from siao_ofii.privatefiles.storage import PrivateFileSystemStorage, private_storage


def _files(storage, folder):
    try:
        directories, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        if not name.startswith(".part-"):
            yield f"{folder}/{name}"
    for directory in directories:
        if not directory.startswith(".build-"):
            yield from _files(storage, f"{folder}/{directory}")


class Command(BaseCommand):
    help = "Copie les fichiers nominatifs du disque local (PRIVATE_STORAGE_ROOT) vers le stockage privé configuré."

    def add_arguments(self, parser):
        parser.add_argument("--delete-source", action="store_true", help="supprimer chaque fichier copié du disque local")

    def handle(self, *args, delete_source=False, **options):
        source, target = PrivateFileSystemStorage(), private_storage()
        if isinstance(target, PrivateFileSystemStorage) and target.location == source.location:
            raise CommandError("Le stockage privé est déjà ce disque (PRIVATE_STORAGE=filesystem) : rien à copier.")
        hashes = dict(Extract.objects.exclude(file_path="").values_list("file_path", "sha256"))
        hashes.update(ReturnArchive.objects.exclude(file_path="").values_list("file_path", "sha256"))
        copied = skipped = 0
        for folder in (EXTRACTS_DIR, RETURNS_DIR, UPLOADS_DIR):
            for name in _files(source, folder):
                if target.exists(name):
                    skipped += 1
                    continue
                with source.open(name) as fh:
                    data = fh.read()
                if folder == UPLOADS_DIR:
                    saved = save_encrypted(name, data)
                else:
                    if name in hashes and hashlib.sha256(data).hexdigest() != hashes[name]:
                        raise CommandError(f"{name} : empreinte SHA-256 différente de celle enregistrée ; copie arrêtée.")
                    saved = target.save(name, source.open(name))
                if saved != name:
                    raise CommandError(f"{name} enregistré sous un autre nom ({saved}) ; copie arrêtée.")
                if delete_source:
                    source.delete(name)
                copied += 1
        self.stdout.write(self.style.SUCCESS(f"{copied} fichier(s) copié(s), {skipped} déjà présent(s)."))
