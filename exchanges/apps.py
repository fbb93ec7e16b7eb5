from django.apps import AppConfig


class ExchangesConfig(AppConfig):
    name = "exchanges"
    verbose_name = "Listes mensuelles"

    def ready(self):
        # Extract tasks live in exchanges/extracts/tasks.py: importing them here registers them
        # with Celery (autodiscovery only looks at exchanges/tasks.py).
        from .extracts import receivers, tasks  # noqa: F401
