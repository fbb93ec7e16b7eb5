"""The permission matrix: every URL × every account, as data.

Each app adds a module here with a ``ROUTES`` list; ``tests/test_permission_matrix.py``
walks them all, and fails if a named URL of the project is missing from the matrix.
"""

from dataclasses import dataclass, field
from typing import Callable

ACCOUNTS = [
    "anonymous",
    "admin",
    "siege",
    "dt.lyon",
    "dt.paris",
    "siao.69",
    "siao.75",
    "siao-dna.69",
    "prefecture.69",
    "expired",
    "nohab",
]

OK = 200
LOGIN = "login"  # redirected to the login page
FORBIDDEN = 403
NOT_FOUND = 404
# Accounts with no valid habilitation get the explanatory page (403) on every private URL.
NO_HABILITATION = {"expired": FORBIDDEN, "nohab": FORBIDDEN, "anonymous": LOGIN}


@dataclass
class Route:
    name: str
    expect: dict
    default: object = OK
    kwargs: Callable = field(default=lambda ctx: {})
    method: str = "get"
    data: Callable = field(default=lambda ctx: {})
    query: str = ""

    def expected(self, account):
        return self.expect.get(account, self.default)

    @property
    def id(self):
        return f"{self.method}:{self.name}{'?' + self.query if self.query else ''}"


def only(allowed, *, denied=FORBIDDEN, allowed_status=OK):
    """Expectations where ``allowed`` accounts get ``allowed_status`` and the others ``denied``."""
    expect = {a: (allowed_status if a in allowed else denied) for a in ACCOUNTS}
    expect.update(NO_HABILITATION)
    return expect
