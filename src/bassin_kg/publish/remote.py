"""``bassin-kg publish --to URL``: push the named graphs to a SPARQL 1.1 Graph Store Protocol server.

Each graph goes in its own request, ``PUT URL?graph=<iri>`` with the graph as N-Triples: a PUT *replaces*
the graph. Whether that replacement is atomic depends on the server, so the push does not rely on it:

- With an update endpoint (``--update-url``; derived for Oxigraph's ``/store`` as ``/update``) the graph
  is PUT into a fresh staging graph, its triple count checked, then moved over the target with one SPARQL
  Update ``MOVE <staging> TO <target>``. Oxigraph (and Fuseki, GraphDB) run an update in one transaction,
  so readers see the old graph or the new one, never a half-loaded or empty one. Oxigraph's own PUT is
  *not* atomic: it clears the graph and loads the body in two transactions (cli/src/main.rs, ``PUT``),
  so a body that fails to parse or a dropped connection would leave the graph empty.
- Without one, the PUT goes straight to the target graph. Fuseki runs each Graph Store request in one
  write transaction on a TDB2 dataset and aborts it on error: atomic per graph there.

After each graph, its triple count on the server is read back through the SPARQL query endpoint
(``--query-url``; derived for Oxigraph ``/store`` → ``/query``, Fuseki ``/ds/data`` → ``/ds/query``,
Virtuoso ``/sparql-graph-crud-auth`` → ``/sparql``) and compared with the local store. Requests have a
timeout and are retried a bounded number of times (transport errors, 5xx, 429) with exponential backoff.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import pyoxigraph as ox

from bassin_kg.errors import BassinKgError, UsageError
from bassin_kg.store import open_read_only

NTRIPLES = "application/n-triples"
#: GSP path suffix -> (query path, update path or None) of the usual servers
KNOWN_LAYOUTS: tuple[tuple[str, str, str | None], ...] = (
    ("/store", "/query", "/update"),  # Oxigraph server
    ("/data", "/query", None),  # Fuseki /ds/data (PUT is transactional)
    ("/sparql-graph-crud-auth", "/sparql", None),  # Virtuoso
    ("/sparql-graph-crud", "/sparql", None),
)


class PushError(BassinKgError):
    """One request of the push failed for good (after its retries)."""


@dataclass(frozen=True)
class Remote:
    """Where and how to push."""

    store_url: str
    query_url: str
    update_url: str | None = None
    user: str | None = None
    token: str | None = None
    #: HTTP Digest instead of Basic for --user (Virtuoso's /sparql-graph-crud-auth)
    digest: bool = False
    timeout: float = 60.0
    retries: int = 2
    backoff: float = 0.5


def derive(store_url: str, query_url: str | None, update_url: str | None) -> tuple[str, str | None]:
    """The query and update URLs: given ones win, else derived from a known server layout."""
    parts = urlsplit(store_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--to {store_url!r} is not an http(s) URL of a Graph Store endpoint")
    derived_query: str | None = None
    derived_update: str | None = None
    for suffix, query_path, update_path in KNOWN_LAYOUTS:
        if parts.path.endswith(suffix):
            root = parts.path[: -len(suffix)]
            derived_query = urlunsplit((parts.scheme, parts.netloc, root + query_path, "", ""))
            if update_path:
                derived_update = urlunsplit((parts.scheme, parts.netloc, root + update_path, "", ""))
            break
    query = query_url or derived_query
    if query is None:
        raise UsageError(
            f"cannot guess the SPARQL query endpoint of {store_url}: give --query-url "
            "(Oxigraph: /query, Fuseki: /ds/query, Virtuoso: /sparql)"
        )
    return query, update_url or derived_update


@dataclass
class GraphPush:
    name: str
    iri: str
    triples: int
    ok: bool = False
    detail: str = ""
    server_triples: int | None = None


@dataclass
class PushReport:
    target: str
    atomic_by_move: bool
    graphs: list[GraphPush] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(g.ok for g in self.graphs)

    def summary(self) -> str:
        pushed = [g for g in self.graphs if g.ok]
        failed = [g for g in self.graphs if not g.ok]
        mode = "staging graph + MOVE" if self.atomic_by_move else "PUT per graph"
        lines = [f"push to {self.target} ({mode}): {len(pushed)} graph(s) pushed, {len(failed)} not pushed"]
        lines += [f"  pushed {g.name} <{g.iri}>: {g.triples} triples, verified on the server" for g in pushed]
        lines += [f"  NOT pushed {g.name} <{g.iri}>: {g.detail}" for g in failed]
        if failed:
            lines.append(
                "  the graphs not pushed keep their previous content on the server; run the push again"
            )
        return "\n".join(lines)


class Client:
    """HTTP with a timeout, bounded retries and optional authentication (standard library only)."""

    def __init__(self, remote: Remote, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.remote = remote
        self.sleep = sleep
        handlers: list[urllib.request.BaseHandler] = []
        self.headers: dict[str, str] = {}
        if remote.user and remote.digest:
            manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            manager.add_password(None, remote.store_url, remote.user, remote.token or "")
            handlers.append(urllib.request.HTTPDigestAuthHandler(manager))
        elif remote.user:
            pair = f"{remote.user}:{remote.token or ''}".encode()
            self.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        elif remote.token:
            self.headers["Authorization"] = f"Bearer {remote.token}"
        self.opener = urllib.request.build_opener(*handlers)

    def send(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: dict[str, str],
        *,
        retry_transport: bool = True,
    ) -> tuple[int, bytes]:
        """The status and body of the first answer that is not worth retrying; raises PushError."""
        attempts = self.remote.retries + 1
        last = ""
        for attempt in range(attempts):
            if attempt:
                self.sleep(self.remote.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(
                url, data=body, method=method, headers={**self.headers, **headers}
            )
            try:
                with self.opener.open(request, timeout=self.remote.timeout) as response:
                    return int(response.status), bytes(response.read())
            except urllib.error.HTTPError as exc:
                text = exc.read()[:300].decode("utf-8", "replace").strip()
                last = f"HTTP {exc.code} {exc.reason}" + (f": {text}" if text else "")
                if exc.code < 500 and exc.code != 429:
                    raise PushError(f"{method} {url}: {last}") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError, HTTPException) as exc:
                reason = getattr(exc, "reason", exc)
                last = f"no answer ({reason})"
                if not retry_transport:
                    break
        raise PushError(f"{method} {url}: {last} (after {attempts} attempt(s))")

    def count(self, graph: str) -> int:
        """Triples in ``graph`` on the server, read through its SPARQL query endpoint."""
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        body = urlencode({"query": query}).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/sparql-results+json",
        }
        _status, answer = self.send("POST", self.remote.query_url, body, headers)
        try:
            bindings = json.loads(answer)["results"]["bindings"]
            return int(bindings[0]["n"]["value"]) if bindings else 0
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise PushError(
                f"the query endpoint {self.remote.query_url} did not answer a count ({exc})"
            ) from None

    def put(self, graph: str, data: bytes) -> None:
        url = (
            self.remote.store_url
            + ("&" if "?" in self.remote.store_url else "?")
            + urlencode({"graph": graph})
        )
        self.send("PUT", url, data, {"Content-Type": NTRIPLES})

    def delete(self, graph: str) -> None:
        url = (
            self.remote.store_url
            + ("&" if "?" in self.remote.store_url else "?")
            + urlencode({"graph": graph})
        )
        self.send("DELETE", url, None, {})

    def update(self, text: str) -> None:
        assert self.remote.update_url is not None
        body = urlencode({"update": text}).encode()
        # a timed-out MOVE may have happened: never resend it blindly, the count check decides
        self.send(
            "POST",
            self.remote.update_url,
            body,
            {"Content-Type": "application/x-www-form-urlencoded"},
            retry_transport=False,
        )


def graph_payload(store: ox.Store, graph: ox.NamedNode) -> bytes:
    """The graph as N-Triples (the body of its PUT)."""
    data = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph)
    assert data is not None
    return data


def local_graphs(store: ox.Store) -> list[tuple[str, ox.NamedNode, int]]:
    """(name, graph, triple count) for every named graph of the store; the name is the IRI's last segment."""
    solutions = store.query(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
    )
    assert isinstance(solutions, ox.QuerySolutions)
    found = []
    for row in solutions:
        graph, count = row["g"], row["n"]
        if isinstance(graph, ox.NamedNode) and isinstance(count, ox.Literal):
            found.append((graph.value.rstrip("/").rsplit("/", 1)[-1], graph, int(count.value)))
    return found


def push(store_path: Path, remote: Remote, *, client: Client | None = None) -> PushReport:
    """Push every named graph of the store at ``store_path``; see the module docstring."""
    client = client or Client(remote)
    store = open_read_only(store_path)
    report = PushReport(remote.store_url, remote.update_url is not None)
    for name, graph, triples in local_graphs(store):
        result = GraphPush(name, graph.value, triples)
        report.graphs.append(result)
        try:
            data = graph_payload(store, graph)
            if remote.update_url is not None:
                _push_staged(client, graph.value, data, triples)
            else:
                client.put(graph.value, data)
            result.server_triples = client.count(graph.value)
            if result.server_triples != triples:
                result.detail = f"the server holds {result.server_triples} triples, the store {triples}"
            else:
                result.ok = True
        except PushError as exc:
            result.detail = str(exc)
    return report


def _push_staged(client: Client, target: str, data: bytes, triples: int) -> None:
    staging = f"{target}-staging-{secrets.token_hex(6)}"
    try:
        client.put(staging, data)
        loaded = client.count(staging)
        if loaded != triples:
            raise PushError(f"the staging graph <{staging}> holds {loaded} triples, the store {triples}")
        client.update(f"MOVE <{staging}> TO <{target}>")
    except PushError:
        # the staging graph may not exist; the report already names the failure
        with contextlib.suppress(PushError):
            client.delete(staging)
        raise
