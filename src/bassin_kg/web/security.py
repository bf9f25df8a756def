"""Security headers on every answer, whichever route (or middleware) produced it.

Pages set their own Content-Security-Policy (:data:`bassin_kg.web.page_support.SECURITY_HEADERS`); this
middleware adds what an answer lacks: ``nosniff`` and a Referrer-Policy everywhere, and on HTML that has
no policy of its own (FastAPI's ``/docs`` and ``/redoc``, error pages of other layers) a strict one.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bassin_kg.web.page_support import CONTENT_SECURITY_POLICY

#: FastAPI's interactive API pages load Swagger UI / ReDoc from jsDelivr and start them with an inline
#: script; they show the OpenAPI description, never data, and still may not be framed or post elsewhere
API_DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
API_DOCS = ("/docs", "/docs/oauth2-redirect", "/redoc")
ALWAYS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin"}
#: the same as raw (name, value) pairs, for code that writes its own headers (web/serving/fastpath.py)
ALWAYS_RAW = tuple((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in ALWAYS.items())


class SecurityHeaders:
    """ASGI middleware adding the headers above to each ``http.response.start`` that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path") in API_DOCS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # raw (name, value) pairs rather than MutableHeaders: this runs for every answer
                headers = list(message.get("headers", ()))
                present: set[bytes] = set()
                html = False
                for name, value in headers:
                    lowered = name.lower()
                    present.add(lowered)
                    if lowered == b"content-type":
                        html = value.startswith(b"text/html")
                headers += [(name, value) for name, value in ALWAYS_RAW if name not in present]
                if html and b"content-security-policy" not in present:
                    policy = API_DOCS_POLICY if docs else CONTENT_SECURITY_POLICY
                    headers.append((b"content-security-policy", policy.encode("latin-1")))
                    if b"x-frame-options" not in present:
                        headers.append((b"x-frame-options", b"DENY"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
