"""``serve --sparql-endpoint URL``: the web tier runs its queries on a remote SPARQL 1.1 endpoint.

The pages, the named queries, ``/sparql`` and the VoID statistics all go through an :class:`Engine`;
this one sends each job to the remote endpoint over the SPARQL 1.1 Protocol, so the HTTP processes keep
no store and scale out in front of a store that others run (Virtuoso, Fuseki, Oxigraph server…).

Engines differ where our queries must not depend on them:

- The default graph. Oxigraph's endpoint may serve the union of the named graphs, Fuseki's only with
  ``tdb2:unionDefaultGraph``, and Virtuoso's includes its own system graphs. So a query without a dataset
  of its own is sent with one ``default-graph-uri`` and one ``named-graph-uri`` per graph of the release
  (SPARQL 1.1 Protocol §2.1.4): its default graph is then the merge of our graphs on every engine, and
  ``GRAPH ?g`` sees ours only. A query with ``FROM`` or protocol graphs keeps its own dataset.
- The result syntax. Answers are read (SPARQL JSON results, N-Triples or Turtle) and written again in the
  format the client negotiated, with our prefixes, exactly as the embedded store's engine writes them.

A job's timeout is the HTTP request's: the web tier answers 503 in time, but cannot stop the remote query
(the remote endpoint's own limit does, e.g. Virtuoso's ``MaxQueryExecutionTime``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import anyio.to_thread
import httpx
import pyoxigraph as ox

from bassin_kg.errors import StoreError
from bassin_kg.web.serving.engine import (
    _RDF_FORMATS,
    _RESULT_FORMATS,
    GraphReadJob,
    GraphStats,
    Job,
    JobError,
    JobTimeoutError,
    Outcome,
    QueryJob,
    StatsJob,
    _serialise_triples,
)

#: what a query may answer: solutions or a boolean (JSON results), or triples
ACCEPT = "application/sparql-results+json, application/n-triples, text/turtle;q=0.9"
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
#: where our graphs live below the base IRI (``id/graph/<name>``)
GRAPH_PATH = "id/graph/"


def release_graphs(store_path: Path) -> tuple[str, ...] | None:
    """The graph IRIs of the release beside ``store_path`` (its ``release.json``), None without one."""
    manifest = store_path.resolve().parent / "release.json"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    graphs = data.get("graphs") if isinstance(data, dict) else None
    if not isinstance(graphs, dict):
        return None
    iris = [g.get("iri") for g in graphs.values() if isinstance(g, dict)]
    return tuple(sorted(i for i in iris if isinstance(i, str)))


def discover_graphs(endpoint: str, base_iri: str, *, timeout: float = 30.0) -> tuple[str, ...]:
    """Our graphs on the endpoint: those named ``<base>id/graph/…`` (a push's staging graphs excepted)."""
    prefix = base_iri + GRAPH_PATH
    query = (
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
        f'FILTER(STRSTARTS(STR(?g), "{prefix}") && !CONTAINS(STR(?g), "-staging-")) }}'
    )
    try:
        answer = httpx.post(
            endpoint,
            data={"query": query},
            headers={"Accept": "application/sparql-results+json"},
            timeout=timeout,
        )
        answer.raise_for_status()
        rows = json.loads(answer.content)["results"]["bindings"]
        return tuple(sorted(str(row["g"]["value"]) for row in rows))
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"cannot list the graphs of the SPARQL endpoint {endpoint} ({exc}); check the URL, or serve "
            "from a folder holding the release's release.json"
        ) from None


@dataclass
class RemoteEngine:
    """Jobs sent to a remote SPARQL 1.1 query endpoint (read-only), in at most ``size`` requests at once."""

    endpoint: str
    #: the release's named graphs: the dataset of every query that does not give its own
    graphs: tuple[str, ...]
    size: int
    prefixes: dict[str, str] | None = None
    writable: bool = False
    _client: httpx.Client | None = field(default=None, repr=False)

    def start(self) -> None:
        if self._client is None:
            limits = httpx.Limits(max_connections=self.size, max_keepalive_connections=self.size)
            self._client = httpx.Client(limits=limits)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def run_now(self, job: Job) -> Outcome | None:
        return None  # every job is a request to the remote endpoint

    async def run(self, job: Job, timeout: float) -> Outcome:
        return await anyio.to_thread.run_sync(self._run_sync, job, timeout)

    def _run_sync(self, job: Job, timeout: float) -> Outcome:
        if isinstance(job, QueryJob):
            return self._query(job, timeout)
        if isinstance(job, StatsJob):
            return Outcome(stats=self._stats(timeout))
        if isinstance(job, GraphReadJob):
            return self._read_graph(job, timeout)
        raise JobError("evaluation", "this server fronts a remote SPARQL endpoint: it is read-only")

    # requests -------------------------------------------------------------------------------------
    def _dataset(self, job: QueryJob) -> list[tuple[str, str]]:
        if job.default_graphs is not None or job.named_graphs is not None:
            return [("default-graph-uri", g) for g in job.default_graphs or ()] + [
                ("named-graph-uri", g) for g in job.named_graphs or ()
            ]
        if not job.union_default_graph:
            return []  # the query's FROM clauses say it
        return self._ours()

    def _ours(self) -> list[tuple[str, str]]:
        return [("default-graph-uri", g) for g in self.graphs] + [("named-graph-uri", g) for g in self.graphs]

    def _post(self, query: str, dataset: Sequence[tuple[str, str]], timeout: float) -> httpx.Response:
        self.start()
        assert self._client is not None
        try:
            answer = self._client.post(
                self.endpoint,
                data={"query": query},
                params=list(dataset),
                headers={"Accept": ACCEPT},
                timeout=timeout,
            )
        except httpx.TimeoutException:
            raise JobTimeoutError() from None
        except httpx.HTTPError as exc:
            raise JobError(
                "evaluation", f"the SPARQL endpoint {self.endpoint} did not answer: {exc}"
            ) from None
        if answer.status_code == 400:
            raise JobError("syntax", _text(answer))
        if answer.status_code >= 300:
            raise JobError(
                "evaluation",
                f"the SPARQL endpoint {self.endpoint} answered HTTP {answer.status_code}: {_text(answer)}",
            )
        return answer

    def _query(self, job: QueryJob, timeout: float) -> Outcome:
        check_syntax(job.query, job.base_iri)
        answer = self._post(job.query, self._dataset(job), timeout)
        media_type = _media_type(answer)
        rdf_format = ox.RdfFormat.from_media_type(media_type) if media_type else None
        if rdf_format is not None and not rdf_format.supports_datasets:
            if job.graph_format is None:
                raise JobError("not_acceptable", "graph")
            triples = list(ox.parse(answer.content, format=rdf_format))
            return Outcome(_serialise_triples(triples, job.graph_format, self.prefixes), job.graph_format)
        results = self._results(answer, media_type)
        if job.solutions_format is None:
            raise JobError("not_acceptable", "solutions")
        body = results.serialize(format=_RESULT_FORMATS[job.solutions_format])
        assert body is not None
        return Outcome(body, job.solutions_format)

    def _results(self, answer: httpx.Response, media_type: str) -> ox.QuerySolutions | ox.QueryBoolean:
        results_format = ox.QueryResultsFormat.from_media_type(media_type) if media_type else None
        if results_format is None:
            raise JobError(
                "evaluation", f"the SPARQL endpoint {self.endpoint} answered in {media_type or 'no'} format"
            )
        body = answer.content
        if results_format == ox.QueryResultsFormat.JSON:
            body = canonical_booleans(body)
        try:
            return ox.parse_query_results(body, format=results_format)
        except SyntaxError as exc:
            raise JobError("evaluation", f"unreadable answer of {self.endpoint}: {exc}") from None

    def _select(
        self, query: str, dataset: Sequence[tuple[str, str]], timeout: float
    ) -> list[ox.QuerySolution]:
        answer = self._post(query, dataset, timeout)
        results = self._results(answer, _media_type(answer))
        if not isinstance(results, ox.QuerySolutions):
            raise JobError("evaluation", f"the SPARQL endpoint {self.endpoint} did not answer a SELECT")
        return list(results)

    def _stats(self, timeout: float) -> GraphStats:
        values = " ".join(f"<{g}>" for g in self.graphs)
        rows = self._select(
            f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} "
            "GROUP BY ?g",
            [],
            timeout,
        )
        counts = {str(row["g"].value): int(str(row["n"].value)) for row in rows if row["g"] and row["n"]}
        union = self._select(
            "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }",
            [("default-graph-uri", g) for g in self.graphs],
            timeout,
        )
        total = union[0]["n"] if union else None
        named = tuple((g, counts.get(g, 0)) for g in self.graphs)
        # our data lives in named graphs only: the remote's own default graph is not part of the release
        return GraphStats(named, 0, int(str(total.value)) if total is not None else 0)

    def _read_graph(self, job: GraphReadJob, timeout: float) -> Outcome:
        if job.graph is None:
            triples: list[ox.Triple] = []  # the release's default graph is empty (see _stats)
        elif job.graph not in self.graphs:
            raise JobError("not_found", f"no graph <{job.graph}> in this release")
        else:
            query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{job.graph}> {{ ?s ?p ?o }} }}"
            answer = self._post(query, [], timeout)
            media_type = _media_type(answer)
            rdf_format = ox.RdfFormat.from_media_type(media_type) or ox.RdfFormat.N_TRIPLES
            triples = list(ox.parse(answer.content, format=rdf_format))
        if job.format not in _RDF_FORMATS:
            raise JobError("not_acceptable", "graph")
        return Outcome(_serialise_triples(triples, job.format, self.prefixes), job.format)


def _text(answer: httpx.Response) -> str:
    return answer.text[:500].strip() or answer.reason_phrase


def check_syntax(query: str, base_iri: str | None) -> None:
    """Refuse what is not one standard SPARQL 1.1 query before it reaches the remote endpoint.

    Virtuoso's ``/sparql`` also runs updates and its own extensions (``DEFINE``…) given as ``query``: a
    public proxy must forward queries only, and the same ones the embedded store takes. pyoxigraph has no
    parser on its own, so the query is prepared on an empty store; its solutions are never read.
    """
    try:
        prepared = ox.Store().query(query, base_iri=base_iri)
    except SyntaxError as exc:
        raise JobError("syntax", str(exc)) from None
    except (OSError, ValueError):
        return  # it parsed; evaluating it on nothing failed, which says nothing about the remote
    del prepared  # dropped on the thread that made it (see engine._execute_query)


def canonical_booleans(body: bytes) -> bytes:
    """SPARQL JSON results with every ``xsd:boolean`` in its canonical form (``true``/``false``).

    Virtuoso writes booleans as ``"1"^^xsd:boolean`` (its EXISTS, even a cast one): the same value, but a
    different term than the ``true`` the embedded store and Jena give, so rows would not compare equal.
    """
    if XSD_BOOLEAN.encode() not in body:
        return body  # the common case costs a byte search, not a JSON round trip
    try:
        data = json.loads(body)
        for row in data["results"]["bindings"]:
            for term in row.values():
                if term.get("datatype") == XSD_BOOLEAN and term.get("value") in ("1", "0"):
                    term["value"] = "true" if term["value"] == "1" else "false"
    except (ValueError, KeyError, TypeError, AttributeError):
        return body  # not results we can read: the parser reports it
    return json.dumps(data).encode()


def _media_type(answer: httpx.Response) -> str:
    return str(answer.headers.get("content-type", "")).split(";")[0].strip().lower()
