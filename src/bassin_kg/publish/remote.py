"""``bassin-kg publish --to URL``: push the named graphs to a SPARQL 1.1 Graph Store Protocol server.

Each graph goes in its own request, ``PUT URL?graph=<iri>`` with the graph as N-Triples: a PUT *replaces*
the graph. Whether that replacement is atomic depends on the server, so the push does not rely on it:

- With an update endpoint (``--update-url``; derived for Oxigraph's ``/store`` as ``/update``) the graph
  is PUT into a fresh staging graph, its triple count checked, then copied over the target with one SPARQL
  Update request ``CLEAR SILENT GRAPH <t>; INSERT { GRAPH <t> {…} } WHERE { GRAPH <s> {…} }; DROP SILENT
  GRAPH <s>``. Oxigraph, Fuseki and GraphDB run one update request in one transaction, so readers see the
  old graph or the new one. Not ``MOVE``: on Jena TDB2 (4.5, code unchanged in 5.6) a MOVE onto a
  non-empty graph lost 65–116 triples per push; the three-operation form lost none there and is plain
  SPARQL 1.1 everywhere. Oxigraph's own PUT is *not* atomic (it clears, then loads, in two transactions).
- Without one, the PUT goes straight to the target graph. Fuseki runs it in one TDB2 write transaction and
  aborts it on error; Virtuoso does *not* (a PUT with a syntax error got 500 and left 1,000 of 2,752
  triples). So the target is counted before its PUT and again after any failed PUT: a graph whose count
  changed is reported DAMAGED.

After each graph, its triple count on the server is read back through the SPARQL query endpoint
(``--query-url``; derived for Oxigraph ``/store`` → ``/query``, Fuseki ``/ds/data`` → ``/ds/query``,
Virtuoso ``/sparql-graph-crud-auth`` → ``/sparql``) and compared with the local store.

Authentication covers every URL of the push (store, query, update): a bearer token or Basic credentials
go in every request; with ``--digest`` each request answers the server's challenge. The shared
:class:`~bassin_kg.store.HttpClient` reads the answer even when the server sent it and closed while the
body was still going out (Virtuoso answers 401 so), so a refused password is reported as such ("NOT
pushed", HTTP 401) instead of as a broken pipe.

Faults. Requests have a timeout (per socket operation: connect, send, each read) and are retried a
bounded number of times (no answer, 5xx, 429) with exponential backoff. The copy is never resent blindly:
an answer lost after the server ran it would make a resent copy fail (its staging graph is gone), so after
any failed copy the staging graph is counted — empty means the copy happened, full means it did not and it
may be retried. Once a request gets no answer after its retries, the remaining graphs are not tried: a
server that went away or hangs costs the retries of one graph, not of every graph. The report says, graph
by graph, which were pushed, which were not (they keep their old content), which were damaged, which are
unknown (the replacing request got no answer) and which staging graphs may be left.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import pyoxigraph as ox

from bassin_kg.errors import UsageError
from bassin_kg.store import HttpClient, HttpError, open_read_only

NTRIPLES = "application/n-triples"
#: GSP path suffix -> (query path, update path or None) of the usual servers
KNOWN_LAYOUTS: tuple[tuple[str, str, str | None], ...] = (
    ("/store", "/query", "/update"),  # Oxigraph server
    ("/data", "/query", None),  # Fuseki /ds/data (PUT is transactional)
    ("/sparql-graph-crud-auth", "/sparql", None),  # Virtuoso
    ("/sparql-graph-crud", "/sparql", None),
)


#: a request of the push that failed for good (the shared HTTP client's error)
PushError = HttpError


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


class State(Enum):
    """What became of one graph on the server."""

    PUSHED = "pushed"  # replaced and its count verified
    NOT_PUSHED = "NOT pushed"  # the target was not replaced: it keeps its previous content
    UNKNOWN = "UNKNOWN"  # the replacing request got no answer: old or new content, in full
    #: a failed PUT changed the target anyway (Virtuoso's PUT is not transactional): push again
    DAMAGED = "DAMAGED"
    UNVERIFIED = "replaced, NOT verified"  # the server took the new content; the count check failed
    NOT_TRIED = "not tried"  # the server had stopped answering before this graph's turn


@dataclass
class GraphPush:
    name: str
    iri: str
    triples: int
    state: State = State.NOT_TRIED
    detail: str = ""
    server_triples: int | None = None
    #: a staging graph that could not be removed (the server stopped answering)
    staging_left: str | None = None

    @property
    def ok(self) -> bool:
        return self.state is State.PUSHED

    def fail(self, state: State, detail: str) -> None:
        self.state = state
        self.detail = detail


@dataclass
class PushReport:
    target: str
    atomic_by_move: bool
    graphs: list[GraphPush] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(g.ok for g in self.graphs)

    def summary(self) -> str:
        def having(*states: State) -> list[GraphPush]:
            return [g for g in self.graphs if g.state in states]

        pushed = having(State.PUSHED)
        failed = having(State.NOT_PUSHED, State.NOT_TRIED)
        unknown, unverified = having(State.UNKNOWN), having(State.UNVERIFIED)
        damaged = having(State.DAMAGED)
        mode = "staging graph + copy" if self.atomic_by_move else "PUT per graph"
        head = f"push to {self.target} ({mode}): {len(pushed)} graph(s) pushed, {len(failed)} not pushed"
        head += f", {len(unknown)} unknown" if unknown else ""
        head += f", {len(unverified)} not verified" if unverified else ""
        head += f", {len(damaged)} DAMAGED" if damaged else ""
        lines = [head]
        lines += [f"  pushed {g.name} <{g.iri}>: {g.triples} triples, verified on the server" for g in pushed]
        lines += [f"  {g.state.value} {g.name} <{g.iri}>: {g.detail}" for g in self.graphs if not g.ok]
        if failed:
            lines.append("  the graphs not pushed keep their previous content on the server")
        if unknown:
            whole = (
                "in full (the copy is one update request)"
                if self.atomic_by_move
                else "in full if its PUT is transactional (Fuseki; not Virtuoso)"
            )
            lines.append(f"  the UNKNOWN graphs hold either their previous or their new content, {whole}")
        left = [g.staging_left for g in self.graphs if g.staging_left]
        if damaged:
            lines.append(
                "  the DAMAGED graphs were changed by their failed PUT: push again before serving them"
            )
        if left:
            lines.append(
                "  staging graph(s) maybe left on the server, remove them with DROP SILENT GRAPH <…>: "
                + ", ".join(f"<{iri}>" for iri in left)
            )
        if not self.ok:
            lines.append("  run the push again once the server answers")
        return "\n".join(lines)


class Client(HttpClient):
    """The shared HTTP client, with the remote's timeout, retries and authentication.

    Basic or bearer credentials go in every request, Digest answers every challenge: the count queries
    and the updates need them as much as the PUTs (Fuseki protects ``/ds/query`` too).
    """

    def __init__(self, remote: Remote, *, sleep: Callable[[float], None] = time.sleep) -> None:
        headers: dict[str, str] = {}
        digest: tuple[str, str] | None = None
        if remote.user and remote.digest:
            digest = (remote.user, remote.token or "")
        elif remote.user:
            pair = f"{remote.user}:{remote.token or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        elif remote.token:
            headers["Authorization"] = f"Bearer {remote.token}"
        super().__init__(
            timeout=remote.timeout,
            retries=remote.retries,
            backoff=remote.backoff,
            sleep=sleep,
            headers=headers,
            digest=digest,
        )
        self.remote = remote

    def send(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: dict[str, str],
        *,
        attempts: int | None = None,
    ) -> tuple[int, bytes]:
        """:meth:`HttpClient.send`, with what to check when the server refuses the credentials."""
        try:
            return super().send(method, url, body, headers, attempts=attempts)
        except PushError as exc:
            if exc.status not in (401, 403):
                raise
            hinted = PushError(
                f"{exc} (refused credentials: check --user, --digest and BASSIN_KG_PUBLISH_TOKEN)",
                status=exc.status,
                reached=exc.reached,
            )
            hinted.reason = exc.reason
            raise hinted from None

    def count(self, graph: str, *, attempts: int | None = None) -> int:
        """Triples in ``graph`` on the server, read through its SPARQL query endpoint."""
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        body = urlencode({"query": query}).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/sparql-results+json",
        }
        status, answer = self.send("POST", self.remote.query_url, body, headers, attempts=attempts)
        try:
            bindings = json.loads(answer)["results"]["bindings"]
            return int(bindings[0]["n"]["value"]) if bindings else 0
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise PushError(
                f"the query endpoint {self.remote.query_url} did not answer a count ({exc})", status=status
            ) from None

    def _graph_url(self, graph: str) -> str:
        separator = "&" if "?" in self.remote.store_url else "?"
        return self.remote.store_url + separator + urlencode({"graph": graph})

    def put(self, graph: str, data: bytes) -> None:
        self.send("PUT", self._graph_url(graph), data, {"Content-Type": NTRIPLES})

    def update(self, text: str, *, attempts: int | None = None) -> None:
        assert self.remote.update_url is not None
        body = urlencode({"update": text}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        self.send("POST", self.remote.update_url, body, headers, attempts=attempts)


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
    stopped: str | None = None
    for name, graph, triples in local_graphs(store):
        result = GraphPush(name, graph.value, triples)
        report.graphs.append(result)
        if stopped is not None:
            result.detail = stopped
            continue
        data = graph_payload(store, graph)
        push_one = _push_staged if remote.update_url is not None else _push_direct
        silent = push_one(client, result, data)
        if silent is not None:
            # every further request would wait for its own timeouts: stop, and say where
            stopped = f"the server stopped answering at graph {name}: nothing sent for this one"
    return report


def _push_direct(client: Client, result: GraphPush, data: bytes) -> PushError | None:
    """PUT straight into the target; returns the error when the server no longer answers.

    The target is counted before the PUT and again after a failed one: not every server's PUT is
    transactional, and a graph a failed PUT changed must not be reported as keeping its content.
    """
    try:
        before: int | None = client.count(result.iri)
    except PushError as exc:
        if not exc.answered:
            result.fail(State.NOT_PUSHED, f"counting the graph before its PUT failed: {exc}")
            return exc
        before = None  # the PUT may still work; a failure then cannot be checked
    try:
        client.put(result.iri, data)
    except PushError as exc:
        if exc.reached and not exc.answered:
            result.fail(State.UNKNOWN, f"{exc}; the PUT may have been applied or not")
        else:
            result.fail(State.NOT_PUSHED, str(exc))
        if exc.reached:
            _check_unchanged(client, result, before)
        return None if exc.answered else exc
    return _verify(client, result)


def _check_unchanged(client: Client, result: GraphPush, before: int | None) -> None:
    """After a failed PUT: DAMAGED when the target's count changed, else say it was checked."""
    try:
        after = client.count(result.iri, attempts=1)  # one try: the push already failed here
    except PushError as exc:
        result.detail += f"; counting the graph afterwards failed ({exc}): it may be damaged, push again"
        return
    result.server_triples = after
    if before is None:
        result.detail += f"; it now holds {after} triples (not counted before the PUT)"
    elif after != before:
        result.fail(
            State.DAMAGED,
            f"{result.detail}; the failed PUT changed the graph anyway: {after} triples, {before} before "
            "(this server's PUT is not transactional)",
        )
    elif result.state is State.UNKNOWN and after != result.triples:
        result.fail(State.NOT_PUSHED, f"{result.detail}; checked: it still holds its {after} triples")
    elif result.state is State.NOT_PUSHED:
        result.detail += f"; checked: it still holds its {after} triples"


def _push_staged(client: Client, result: GraphPush, data: bytes) -> PushError | None:
    """PUT into a staging graph, count it, copy it over the target, count the target.

    Returns the error when the server no longer answers (the caller stops the push).
    """
    staging = f"{result.iri}-staging-{secrets.token_hex(6)}"
    may_exist = True  # the staging graph, once the server saw its PUT (even unanswered)
    try:
        try:
            client.put(staging, data)
        except PushError as exc:
            may_exist = exc.reached
            raise
        loaded = client.count(staging)
        if loaded != result.triples:
            raise PushError(
                f"the staging graph <{staging}> holds {loaded} triples, the store {result.triples}",
                status=200,
            )
    except PushError as exc:
        result.fail(State.NOT_PUSHED, str(exc))
        if may_exist:
            _drop_staging(client, result, staging)
        return None if exc.answered else exc
    error = _move(client, result, staging)
    if result.state is State.PUSHED:  # _move saw the copy done: the target now holds the new content
        return _verify(client, result)
    return error


def _move(client: Client, result: GraphPush, staging: str) -> PushError | None:
    """Copy staging → target and drop staging (:func:`copy_update`), retried only while the staging
    graph is provably still full.

    Sets ``result.state`` to PUSHED when the copy happened (verified afterwards by the caller).
    """
    attempts = client.remote.retries + 1
    tried, left = 0, result.triples
    error = PushError("copy not sent")
    while tried < attempts and left == result.triples:
        if tried:
            client.pause(tried)
        tried += 1
        try:
            client.update(copy_update(staging, result.iri), attempts=1)
        except PushError as exc:
            error = exc
        else:
            result.state = State.PUSHED
            return None
        # the copy failed, or its answer was lost after the server ran it: the staging graph tells
        try:
            left = client.count(staging)
        except PushError as count_error:
            result.staging_left = staging
            result.fail(
                State.UNKNOWN,
                f"{error}; whether the copy happened could not be checked: {count_error}",
            )
            return None if count_error.answered else count_error
        if left == 0:  # nothing else writes this randomly named graph: the copy ran (it drops it last)
            result.state = State.PUSHED
            return None
        if not error.retryable:
            break
    staged = "intact" if left == result.triples else f"holding {left} triples of {result.triples}"
    result.fail(State.NOT_PUSHED, f"{error} (after {tried} attempt(s); the staging graph was {staged})")
    _drop_staging(client, result, staging)
    return None if error.answered else error


def copy_update(staging: str, target: str) -> str:
    """One update request replacing ``target`` with ``staging`` and dropping ``staging``.

    The portable spelling of ``MOVE``, which lost triples on Jena TDB2 (module docstring).
    """
    return (
        f"CLEAR SILENT GRAPH <{target}> ;\n"
        f"INSERT {{ GRAPH <{target}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{staging}> {{ ?s ?p ?o }} }} ;\n"
        f"DROP SILENT GRAPH <{staging}>"
    )


def _drop_staging(client: Client, result: GraphPush, staging: str) -> None:
    """Remove the staging graph (one try: the push already failed); remember it when that fails."""
    try:
        client.update(f"DROP SILENT GRAPH <{staging}>", attempts=1)
    except PushError:
        result.staging_left = staging


def _verify(client: Client, result: GraphPush) -> PushError | None:
    """Count the target on the server, which took the new content: PUSHED when the count matches."""
    try:
        result.server_triples = client.count(result.iri)
    except PushError as exc:
        result.fail(State.UNVERIFIED, f"the server took the graph, but counting it failed: {exc}")
        return None if exc.answered else exc
    if result.server_triples != result.triples:
        result.fail(
            State.UNVERIFIED, f"the server holds {result.server_triples} triples, the store {result.triples}"
        )
    else:
        result.state = State.PUSHED
    return None
