"""Nominative files shared by every node: uploaded lists waiting for processing and built
archives (``STORAGES["private"]``).

Web, workers and beat may run on different machines that share only PostgreSQL and Redis, so
these files cannot live on a disk that only one machine sees. ``settings.PRIVATE_STORAGE``
picks the backend:

- ``database``: :class:`~siao_ofii.privatefiles.storage.DatabaseStorage`, bytes in PostgreSQL
  (1 MiB chunks), hence covered by the database backup; the default with PostgreSQL;
- ``filesystem``: :class:`~siao_ofii.privatefiles.storage.PrivateFileSystemStorage` under
  ``PRIVATE_STORAGE_ROOT`` (the embedded default of ``make demo``, one machine).

Either way the files are outside any URL space (``url()`` refuses): only the views that check
the perimeter and write the audit log serve them. Uploaded lists are encrypted before they
are stored (:mod:`siao_ofii.privatefiles.crypto`); archives are AES-256 ZIPs already.
"""
