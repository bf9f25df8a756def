"""Fixtures of the reliability tests: throw-away projects, fast builds, and real server processes.

Fast builds run two converters: the deck's, and a SYNTHETIC stand-in for the FAP-2009 classification
(one made-up concept per code of the project's occupations.csv, plus one made-up alternative label per
line of ``data/synthetic/extra_labels.txt`` when the test writes that file, to change the graph's size
from one build to the next). Nothing here is project data.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from rdflib import Literal
from rdflib.namespace import RDF, SKOS

import bassin_kg.release.build as build_module
from bassin_kg.namespaces import Iris
from bassin_kg.progress import Progress
from bassin_kg.release.build import BuildResult, build
from bassin_kg.settings import Settings
from bassin_kg.sources import deck as deck_converter
from bassin_kg.sources import ontology
from bassin_kg.sources.base import ConvertContext, GraphPart, new_graph
from bassin_kg.sources.common import read_table
from serving import BassinKgServer, bassin_kg_server
from synthetic_places import add_places_and_parents

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "curated-min"
QUIET = Progress(quiet=True)
EXTRA_LABELS = "data/synthetic/extra_labels.txt"
COUNTS_QUERY = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"


def synthetic_fap2009(ctx: ConvertContext) -> list[GraphPart]:
    """SYNTHETIC stand-in for sources/occupations.py (see the module docstring)."""
    graph = new_graph()
    scheme = ctx.iris.scheme("fap2009")
    graph.add((scheme, RDF.type, SKOS.ConceptScheme))
    graph.add((scheme, SKOS.prefLabel, Literal("FAP-2009 (synthetic test subset)", lang="fr")))
    table = read_table(ctx.settings.root, "data/curated/occupations.csv", ["codes_fap2009"])
    codes = sorted({code for row in table for code in row.text("codes_fap2009").split()})
    for code in codes:
        concept = ctx.iris.fap2009(code)
        graph.add((concept, RDF.type, SKOS.Concept))
        graph.add((concept, SKOS.inScheme, scheme))
        graph.add((concept, SKOS.notation, Literal(code)))
        graph.add((concept, SKOS.prefLabel, Literal(f"famille {code}", lang="fr")))
    extra = ctx.settings.root / EXTRA_LABELS
    if extra.is_file() and codes:
        for text in extra.read_text(encoding="utf-8").split():
            graph.add((ctx.iris.fap2009(codes[0]), SKOS.altLabel, Literal(text, lang="fr")))
    # SYNTHETIC: the zones (insee-territoires) and FAP-87 parents the deck graph refers to
    add_places_and_parents(ctx, graph, {code for row in table for code in row.text("codes_fap2009").split()})
    return [GraphPart("fap2009", graph)]


def make_project(root: Path, *, real_data: bool = False) -> Path:
    """A project folder: the synthetic curated tables (or a copy of the real data/), the real ontology,
    shapes and named queries."""
    if real_data:
        shutil.copytree(REPO / "data", root / "data")
    else:
        shutil.copytree(FIXTURE, root / "data" / "curated")
    (root / "ontology").mkdir(parents=True)
    shutil.copy(REPO / "ontology" / "bassin.ttl", root / "ontology" / "bassin.ttl")
    shutil.copytree(REPO / "shapes", root / "shapes")
    shutil.copytree(REPO / "queries", root / "queries")
    return root


def set_extra_labels(root: Path, count: int) -> None:
    """Change the input of the synthetic converter: ``count`` extra triples in graph fap2009."""
    path = root / EXTRA_LABELS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(" ".join(f"label{i}" for i in range(count)) + "\n", encoding="utf-8")


@pytest.fixture
def fast_converters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        build_module, "converters", lambda: [ontology.convert, deck_converter.convert, synthetic_fap2009]
    )


@pytest.fixture
def project(tmp_path: Path, fast_converters: None) -> Settings:
    """Settings of a synthetic project whose builds take a second or two."""
    root = make_project(tmp_path / "project")
    return Settings(root=root, build_dir=tmp_path / "build", keep_releases=2)


def fast_build(settings: Settings) -> BuildResult:
    return build(settings, progress=QUIET)


def graph_counts(result: BuildResult, settings: Settings) -> dict[str, int]:
    """Triples per graph IRI, as the endpoint's COUNTS_QUERY answers them."""
    iris = Iris(settings.base_iri)
    return {str(iris.graph(name)): count for name, count in result.graphs.items()}


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (links followed) with the sha256 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def counts_of(body: dict[str, object]) -> dict[str, int]:
    rows = body["results"]["bindings"]  # type: ignore[index]
    return {row["g"]["value"]: int(row["n"]["value"]) for row in rows}


# --- server processes -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Server(BassinKgServer):
    def counts(self, client: httpx.Client | None = None) -> tuple[str, dict[str, int]]:
        get = client.get if client is not None else httpx.get
        response = get(
            self.endpoint,
            params={"query": COUNTS_QUERY},
            headers={"accept": "application/sparql-results+json"},
            timeout=20,
        )
        assert response.status_code == 200, response.text
        return response.headers["etag"], counts_of(response.json())


def start_server(args: list[str], *, env: dict[str, str] | None = None) -> Generator[Server, None, None]:
    """``bassin-kg … serve --port P`` on 127.0.0.1, stopped at the end; ``args`` go before ``serve``'s."""
    with bassin_kg_server(args, env=env) as running:
        yield Server(running.process, running.url)
