"""Servers for the link tests, all on 127.0.0.1: a real Oxigraph server loaded with the SYNTHETIC INSEE
fixture (tests/fixtures/insee/, fake IRIs), a tiny HTTP server that fails on purpose, and a closed port.

Also a small SYNTHETIC graph of "our" territories (codes of data/reference, no figures), as the
territories converter writes them.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS, XSD

from bassin_kg.namespaces import BM, IGEO, Iris
from bassin_kg.release import new_release_id
from serving import OXIGRAPH, free_port, oxigraph_server

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "insee" / "cog-fixture.ttl"
FX = "http://example.org/fixture/insee/"


@pytest.fixture(scope="session")
def insee_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The query URL of a real ``oxigraph serve`` holding the synthetic INSEE fixture."""
    location = tmp_path_factory.mktemp("insee-standin") / "store"
    subprocess.run(
        [str(OXIGRAPH), "load", "--location", str(location), "--file", str(FIXTURE)],
        check=True,
        capture_output=True,
    )
    try:
        with oxigraph_server(location) as running:
            yield running.url + "/query"
    finally:
        shutil.rmtree(location, ignore_errors=True)


@dataclass
class FailingServer:
    """Answers every request with ``status`` after ``delay`` seconds; counts the requests."""

    url: str
    requests: list[str] = field(default_factory=list)


def _serve(status: int, delay: float) -> Iterator[FailingServer]:
    record = FailingServer("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            record.requests.append(self.command)
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            if delay:
                time.sleep(delay)
            body = b"synthetic failure of the test server\n"
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout): nothing to answer to

        do_GET = _answer  # noqa: N815 - the names http.server dispatches to
        do_POST = _answer  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    record.url = f"http://127.0.0.1:{server.server_address[1]}/sparql"
    try:
        yield record
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def server_500() -> Iterator[FailingServer]:
    yield from _serve(500, 0.0)


@pytest.fixture
def server_400() -> Iterator[FailingServer]:
    yield from _serve(400, 0.0)


@pytest.fixture
def server_slow() -> Iterator[FailingServer]:
    yield from _serve(200, 3.0)


@pytest.fixture
def closed_port_url() -> str:
    """An endpoint URL on a port nothing listens on (connection refused)."""
    return f"http://127.0.0.1:{free_port()}/sparql"


# --- our side (synthetic) --------------------------------------------------------------------------------
def our_territories_graph(iris: Iris) -> Graph:
    """ZE2020 3205 and 3215, ZE2010 3123 (sharing communes with 3205), communes, départements 59 and 62,
    region 32, in the shape of sources/territories.py. 62999 is a code the INSEE fixture lacks."""
    graph = Graph()
    add = graph.add

    def territory(iri: URIRef, rdf_type: URIRef, code: str, name: str) -> None:
        add((iri, RDF.type, rdf_type))
        add((iri, IGEO.codeINSEE, Literal(code)))
        add((iri, IGEO.nom, Literal(name, lang="fr")))
        add((iri, SKOS.prefLabel, Literal(name, lang="fr")))

    territory(iris.ze2020("3205"), IGEO.ZoneDEmploi2020, "3205", "Béthune")
    territory(iris.ze2020("3215"), IGEO.ZoneDEmploi2020, "3215", "Lens")
    territory(iris.ze2010("3123"), IGEO.ZoneDEmploi2010, "3123", "Béthune - Bruay")
    add((iris.ze2010("3123"), IGEO.territoireCommunAvec, iris.ze2020("3205")))
    add((iris.ze2020("3205"), IGEO.territoireCommunAvec, iris.ze2010("3123")))
    for code, name, zone in (
        ("62119", "Béthune", "3205"),
        ("62498", "Lens", "3215"),
        ("62001", "Commune synthétique", "3205"),
        ("62999", "Commune absente", "3215"),
    ):
        iri = iris.commune(code)
        territory(iri, IGEO.Commune, code, name)
        add((iri, IGEO.subdivisionDirecteDe, iris.ze2020(zone)))
        add((iri, BM.millesimeGeographique, Literal("2022", datatype=XSD.gYear)))
    territory(iris.departement("62"), IGEO.Departement, "62", "Pas-de-Calais")
    territory(iris.departement("59"), IGEO.Departement, "59", "Nord")
    territory(iris.region("32"), IGEO.Region, "32", "Hauts-de-France")
    for dep in ("59", "62"):
        add((iris.departement(dep), IGEO.subdivisionDirecteDe, iris.region("32")))
    return graph


def graph_store(graph: Graph, graph_iri: str) -> ox.Store:
    """An in-memory pyoxigraph store with ``graph`` in the named graph ``graph_iri``."""
    store = ox.Store()
    store.load(
        graph.serialize(format="nt", encoding="utf-8"),
        format=ox.RdfFormat.N_TRIPLES,
        to_graph=ox.NamedNode(graph_iri),
    )
    return store


def fake_build(build_dir: Path, graph: Graph, iris: Iris) -> Path:
    """A published release holding ``graph`` as graph insee-territoires, laid out as `build` leaves it."""
    release_id = new_release_id()
    release = build_dir / "releases" / release_id
    release.mkdir(parents=True)
    store = ox.Store(str(release / "store"))
    store.bulk_load(
        graph.serialize(format="nt", encoding="utf-8"),
        ox.RdfFormat.N_TRIPLES,
        to_graph=ox.NamedNode(str(iris.graph("insee-territoires"))),
    )
    store.flush()
    del store
    manifest = {"release": release_id, "graphs": {"insee-territoires": {"triples": len(graph)}}, "files": {}}
    (release / "release.json").write_text(json.dumps(manifest), encoding="utf-8")
    (build_dir / "current").symlink_to(os.path.relpath(release, build_dir))
    return release


@pytest.fixture
def iris() -> Iris:
    return Iris()


@pytest.fixture
def our_store(iris: Iris) -> ox.Store:
    return graph_store(our_territories_graph(iris), str(iris.graph("insee-territoires")))
