"""Browser components installed by npm and served from ``node_modules``: the YASGUI editor of ``/query``.

``package.json`` pins ``@zazuko/yasgui`` (MIT) and ``package-lock.json`` its whole tree; ``make vendor``
runs ``npm ci``. Nothing is copied into ``src/``: the prebuilt UMD bundle and its stylesheet are served
from ``<root>/node_modules/@zazuko/yasgui/build`` under ``/static/vendor/yasgui/``. When they are absent
(npm never ran, a Python-only deployment) the query page is the plain form, which needs no script.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from bassin_kg.settings import Settings
from bassin_kg.web.sparql import etag_matches

#: where npm puts the package's prebuilt files, relative to the project root
YASGUI_BUILD = Path("node_modules") / "@zazuko" / "yasgui" / "build"
URL_PREFIX = "/static/vendor/yasgui/"
#: the only files served (an allowlist: no path from the request ever reaches the file system)
YASGUI_FILES = {
    "yasgui.min.js": "text/javascript; charset=utf-8",
    "yasgui.min.css": "text/css; charset=utf-8",
    "yasgui.min.js.map": "application/json",
}
#: the URLs carry the package version (``?v=``), so a week of caching cannot serve a stale bundle
CACHE_CONTROL = "public, max-age=604800"
#: YASR's column resizer adds one ``<style>`` element, always the same text (4.6.2): allowed by its hash
#: on the query page only, so the page runs without a refusal in the console. Another YASGUI version
#: may change it: the browser tests fail on the console error, with the new hash in its message.
RESIZER_STYLE_HASH = "'sha256-zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk='"


def editor_csp(base_policy: str) -> str:
    """``base_policy`` with the resizer's style allowed by its hash (and nothing else)."""
    return base_policy.replace("style-src 'self'", f"style-src 'self' {RESIZER_STYLE_HASH}", 1)


@dataclass(frozen=True)
class EditorAssets:
    """What the query page links to when the YASGUI bundle is installed."""

    script: str
    stylesheet: str
    version: str


def yasgui_build(settings: Settings) -> Path:
    return settings.root / YASGUI_BUILD


def yasgui_version(settings: Settings) -> str | None:
    """The installed package's version, from its package.json; None when it is not installed."""
    manifest = yasgui_build(settings).parent / "package.json"
    try:
        version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        return None
    return version if isinstance(version, str) else None


def editor_assets(settings: Settings, root: str) -> EditorAssets | None:
    """The bundle's URLs under ``root`` (the app's root path), or None when npm has not installed it."""
    build = yasgui_build(settings)
    version = yasgui_version(settings)
    if version is None or not all((build / name).is_file() for name in ("yasgui.min.js", "yasgui.min.css")):
        return None
    return EditorAssets(
        script=f"{root}{URL_PREFIX}yasgui.min.js?v={version}",
        stylesheet=f"{root}{URL_PREFIX}yasgui.min.css?v={version}",
        version=version,
    )


async def yasgui_file(request: Request) -> Response:
    """``/static/vendor/yasgui/<name>``: one of :data:`YASGUI_FILES`, else 404 (whatever the path holds)."""
    settings: Settings = request.app.state.settings
    name = str(request.path_params.get("name", ""))
    media_type = YASGUI_FILES.get(name)
    path = yasgui_build(settings) / name
    if media_type is None or not path.is_file():
        return PlainTextResponse("not found\n", status_code=404)
    headers = {"Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff"}
    response = FileResponse(path, media_type=media_type, headers=headers, stat_result=path.stat())
    # a revalidating browser gets 304 instead of a megabyte (FileResponse alone always sends the file)
    if etag_matches(request.headers.get("if-none-match"), response.headers["etag"]):
        return Response(status_code=304, headers={**headers, "ETag": response.headers["etag"]})
    return response


def install(app: FastAPI) -> None:
    """Add the route; call it before ``/static`` is mounted, or the mount would answer first."""
    app.add_api_route(
        URL_PREFIX + "{name:path}", yasgui_file, methods=["GET", "HEAD"], include_in_schema=False
    )
