import django.dispatch

list_validated = django.dispatch.Signal()
