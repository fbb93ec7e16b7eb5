"""The bytes of the database storage: one StoredFile per name, its content in chunks.

Chunks (1 MiB by default) keep every row small: a save never holds a whole archive in one
parameter, and a download reads one chunk at a time (streaming), never the whole file.
Nothing here is registered in the admin: the content is only reachable through the storage,
i.e. through the audited views.
"""

from django.db import models


class StoredFile(models.Model):
    name = models.CharField("nom", max_length=255, unique=True)
    size = models.BigIntegerField("taille (octets)", default=0)
    chunk_size = models.PositiveIntegerField("taille des blocs (octets)")
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    modified_at = models.DateTimeField("modifié le", auto_now=True)

    class Meta:
        verbose_name = "fichier privé"
        verbose_name_plural = "fichiers privés"

    def __str__(self):
        return self.name


class StoredFileChunk(models.Model):
    file = models.ForeignKey(StoredFile, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField("rang")
    data = models.BinaryField("contenu")

    class Meta:
        verbose_name = "bloc de fichier privé"
        verbose_name_plural = "blocs de fichiers privés"
        constraints = [models.UniqueConstraint(fields=["file", "index"], name="unique_stored_file_chunk")]

    def __str__(self):
        return f"{self.file_id}#{self.index}"
