import sys

from django.core.mail.backends.console import EmailBackend as ConsoleBackend


class StderrConsoleBackend(ConsoleBackend):
    """Console e-mail backend on stderr, so that commands' stdout (``--json``) stays clean."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("stream", sys.stderr)
        super().__init__(*args, **kwargs)
