from django.apps import AppConfig


class ExchangesConfig(AppConfig):
    name = "exchanges"
    verbose_name = "Listes mensuelles"

    def ready(self):
        # Extract and return-flow tasks live in exchanges/{extracts,returns}/tasks.py: importing
        # them here registers them
        # with Celery (autodiscovery only looks at exchanges/tasks.py).
        from .extracts import receivers, tasks  # noqa: F401
        from .returns import tasks as return_tasks  # noqa: F401
