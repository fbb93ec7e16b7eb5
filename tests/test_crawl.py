"""Follow every link shown to every account: none may break (5xx) or lead nowhere (404)."""

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

from tests.helpers import login
from tests.matrix.base import ACCOUNTS

MAX_PAGES = 150
SKIP_PREFIXES = ("/static/",)


class LinkParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


def _links(base, html):
    parser = LinkParser()
    parser.feed(html)
    for href in parser.links:
        url = urldefrag(urljoin(base, href))[0]
        parsed = urlparse(url)
        if parsed.scheme in ("", "http") and parsed.netloc in ("", "testserver"):
            yield parsed.path + (f"?{parsed.query}" if parsed.query else "")


def _follow(url):
    path = urlparse(url).path
    if path.startswith(SKIP_PREFIXES):
        return False
    if path.startswith("/admin/"):
        # Admin change pages are generated per object: index, app indexes and changelists
        # (filters included) only
        depth = len([p for p in path.split("/") if p])
        return depth <= 3 and not path.endswith(("/add/", "/delete/", "/history/"))
    return True


@pytest.mark.parametrize("account", [a for a in ACCOUNTS if a != "anonymous"] + ["anonymous"])
def test_every_link_works(client, demo, matrix_context, account):
    if account != "anonymous":
        login(client, demo[account])
    seen, queue, broken = set(), deque(["/"]), []
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url, follow=True)
        status = response.status_code
        if status >= 500 or status == 404:
            broken.append((url, status))
            continue
        if "text/html" not in response.get("Content-Type", ""):
            continue
        final = response.request["PATH_INFO"]
        for link in _links(final, response.content.decode("utf-8", "replace")):
            if link not in seen and _follow(link):
                queue.append(link)
    assert not broken, f"{account} : liens cassés {broken}"
    assert len(seen) > 1
