"""Signals of the monthly-list pipeline.

``list_validated`` is sent (through ``transaction.on_commit``) once a monthly list has been
validated and the transaction that validated it has committed::

    list_validated.send(sender=MonthlyList, monthly_list=monthly_list)

Receivers (e.g. the builder of the encrypted extract) must not assume they run inside the
request: they get the committed MonthlyList and should queue their long work in Celery.
"""

import django.dispatch

list_validated = django.dispatch.Signal()  # kwargs: monthly_list
