"""A small Chrome DevTools Protocol client for the browser tests: one headless Chromium, many pages.

Starting Chromium once per page costs about a second; through the DevTools protocol one browser loads
page after page in one tab and reports what a person would see go wrong: console errors, uncaught
exceptions, refused or failed loads (CSP, 404 of a stylesheet…) and the HTTP status of everything the
page fetched. Only ``websockets`` (its synchronous client) is needed.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect


@dataclass
class Visit:
    """What loading one URL gave: the document's status, problems seen, the rendered page."""

    url: str
    status: int | None = None
    problems: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    text: str = ""
    seconds: float = 0.0


#: the page's visible words, without code (queries, identifiers) or collapsed details
_TEXT = """(() => {
  const copy = document.body.cloneNode(true);
  const hidden = 'pre, code, textarea, script, style, .CodeMirror, details:not([open]) > :not(summary)';
  copy.querySelectorAll(hidden).forEach(e => e.remove());
  return copy.textContent.replace(/\\s+/g, ' ');
})()"""
_LINKS = "Array.from(document.querySelectorAll('a[href]'), a => a.href)"
#: requests still running: counted by the Network events, to wait for pages that fetch after load
_IDLE_SECONDS = 0.1


class Browser:
    """One headless Chromium driven over the DevTools protocol (one tab, flattened session)."""

    def __init__(self, executable: str, flags: tuple[str, ...], profile: Path) -> None:
        profile.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [executable, *flags, f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.is_file() or len(port_file.read_text().splitlines()) < 2:
            if time.monotonic() > deadline or self._process.poll() is not None:
                self.close()
                raise RuntimeError("Chromium did not open its DevTools port within 30 s")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        # websockets wants its connection used as a context manager: entered here, left in close()
        self._connection = connect(f"ws://127.0.0.1:{port}{path}", max_size=None)
        self._ws: ClientConnection = self._connection.__enter__()
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self._call(f"{domain}.enable", session=self._session)

    def _call(self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None) -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._ws.send(json.dumps(message))
        while True:
            reply = json.loads(self._ws.recv(timeout=60))
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def _evaluate(self, expression: str) -> Any:
        result = self._call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=self._session
        )
        return result.get("result", {}).get("value")

    def visit(self, url: str, *, timeout: float = 20.0) -> Visit:
        """Load ``url``, wait until it and what it fetches are done, and report."""
        start = time.monotonic()
        self._events.clear()
        visit = Visit(url)
        self._call("Page.navigate", {"url": url}, session=self._session)
        pending: set[str] = set()
        loaded = False
        quiet_since = time.monotonic()
        deadline = start + timeout
        while time.monotonic() < deadline:
            while self._events:
                loaded = self._read(self._events.pop(0), visit, pending) or loaded
                quiet_since = time.monotonic()
            if loaded and not pending and time.monotonic() - quiet_since >= _IDLE_SECONDS:
                break
            try:
                message = json.loads(self._ws.recv(timeout=0.05))
            except TimeoutError:
                continue
            if "method" in message:
                self._events.append(message)
        else:
            visit.problems.append(f"not loaded within {timeout} s ({len(pending)} requests pending)")
        visit.text = str(self._evaluate(_TEXT) or "")
        visit.links = [str(link) for link in self._evaluate(_LINKS) or []]
        visit.seconds = time.monotonic() - start
        return visit

    @staticmethod
    def _read(event: dict[str, Any], visit: Visit, pending: set[str]) -> bool:
        """Record what ``event`` says about the page; True when it is the page's load event."""
        method, params = event.get("method"), event.get("params", {})
        if method == "Page.loadEventFired":
            return True
        if method == "Network.requestWillBeSent":
            pending.add(params["requestId"])
        elif method in ("Network.loadingFinished", "Network.loadingFailed"):
            pending.discard(params["requestId"])
            if method == "Network.loadingFailed" and not params.get("canceled"):
                visit.problems.append(
                    f"load failed: {params.get('errorText')} ({params.get('blockedReason', '')})"
                )
        elif method == "Network.responseReceived":
            response = params["response"]
            if params.get("type") == "Document" and visit.status is None:
                visit.status = int(response["status"])
            elif int(response["status"]) >= 400:
                visit.problems.append(f"{response['status']} for {response['url']}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            texts = [str(a.get("value", a.get("description", ""))) for a in params.get("args", [])]
            visit.problems.append("console error: " + " ".join(texts))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            visit.problems.append(
                "exception: " + str(details.get("exception", {}).get("description", details))
            )
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            visit.problems.append("console error: " + str(params["entry"].get("text")))
        return False

    def screenshot(self) -> str:
        """The whole current page (beyond the window's height) as a base64 PNG."""
        result = self._call(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True},
            session=self._session,
        )
        return str(result["data"])

    def close(self) -> None:
        connection = getattr(self, "_connection", None)
        if connection is not None:
            connection.__exit__(None, None, None)
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


@contextmanager
def browser(executable: str, flags: tuple[str, ...], profile: Path) -> Iterator[Browser]:
    running = Browser(executable, flags, profile)
    try:
        yield running
    finally:
        running.close()
