"""The web page at `/` (DESIGN §1): one HTML file, its script and its style sheet, read from
this folder once and served from memory.

The page's files hold no data, so they are served without the API key: the page asks for
the key itself and sends it with every API call (`--api-key`). Everything else stays behind
the key. A strict Content-Security-Policy keeps the page to this server: no inline script,
no other origin, images only from the page itself (`data:`/`blob:` previews).

Transport-free (no aiohttp here): the aiohttp server (runtime/server/app.py) and the ASGI
ingress (runtime/asgi/) both serve these files through `PageFile.reply` (issue 16).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent

# path served -> (file in this folder, content type)
FILES = {
    "/": ("index.html", "text/html"),
    "/page/app.js": ("app.js", "text/javascript"),
    "/page/style.css": ("style.css", "text/css"),
}
PUBLIC_PATHS = frozenset(FILES)

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}


@dataclass(frozen=True)
class PageFile:
    body: bytes
    content_type: str
    etag: str

    def reply(self, if_none_match: str | None) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) of a GET: 304 and no body when the client has this version."""
        headers = dict(HEADERS, ETag=self.etag)
        if if_none_match == self.etag:
            return 304, headers, b""
        return 200, dict(headers, **{"Content-Type": f"{self.content_type}; charset=utf-8"}), self.body


def load_files(folder: Path = HERE) -> dict[str, PageFile]:
    """Read the page's files; a missing one is a packaging error and stops start-up."""
    loaded = {}
    for path, (name, content_type) in FILES.items():
        body = (folder / name).read_bytes()
        loaded[path] = PageFile(body, content_type, '"' + hashlib.sha256(body).hexdigest()[:16] + '"')
    return loaded

