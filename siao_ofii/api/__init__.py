"""System-to-system API (issue 14; instruction II.A.4 and II.B.3, the "second temps" in which
SI-SIAO and DNA-NG exchange the same data directly).

Why Django REST framework + drf-spectacular rather than django-ninja: the project is a classic
Django code base (function views, forms, the Django test client); DRF plugs into it without a
second request model, brings authentication, per-client throttling on the Django cache, content
negotiation and French translations of its messages, and drf-spectacular generates an OpenAPI 3
description from the same views (checked by ``manage.py spectacular --validate`` in the tests),
with Swagger UI served from the package's own static files (drf-spectacular-sidecar, no CDN).

The API is a second door onto the SAME services as the pages: every endpoint calls
``exchanges.services.workflow``, ``exchanges.extracts`` and ``exchanges.returns``, the perimeter
rule of ``referentiel.perimeter`` and ``siao_ofii.audit.services.record``. A token authenticates as
the client's service agent, whose habilitation (granted under the same rules as a person's)
gives the perimeter; the token's scopes can only narrow what that habilitation allows.
"""
