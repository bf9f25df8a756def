"""Check a graph against the SHACL shapes of ``shapes/`` and report what is wrong and where it came from.

The report keeps severities apart (a warning never makes the graph non-conforming) and gives each result
the ``file:line`` of its source record (:mod:`.report`). Two engines fill it:

- ``fast`` (the default, :mod:`.fastshacl`): each constraint compiled into one SPARQL query over all its
  focus nodes, run by Oxigraph on an in-memory copy of the data;
- ``pyshacl`` (:mod:`.pyshacl_engine`): the reference, the whole of SHACL; it runs when the shapes use a
  feature the compiler does not handle exactly, or the data holds a literal Oxigraph would not keep as
  written (the report says so in its notes). The compiler never answers for what it does not compile:
  the whole W3C SHACL test suite runs through :func:`validate_files` (tests/validate/test_w3c.py).

:func:`validate_files` and :func:`validate_rdf` check any data against any shapes (``bassin-kg validate
--data … --shapes …``); the others check the project's graph against ``shapes/``.

Tests check that both give the same results on every shapes fixture. No inference is run: the shapes
target every SWOT subclass explicitly. Rules that apply to a subset of a class (the deck's occupations,
one dataset's observations) use SPARQL targets (SHACL Advanced Features).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Literal as Literal_

import pyoxigraph as ox
from rdflib import Graph
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.term import Node

from bassin_kg.errors import DataError
from bassin_kg.namespaces import PREFIXES
from bassin_kg.store import open_read_only, to_rdflib
from bassin_kg.validate import exact, fastshacl, pyshacl_engine
from bassin_kg.validate.exact import UnstableTermError, read_rdf
from bassin_kg.validate.fastshacl import UnsupportedShapeError
from bassin_kg.validate.report import Report, Result, ResultPath, Severity, report_prefixes, shape_owners

__all__ = [
    "Engine",
    "Report",
    "Result",
    "ResultPath",
    "Severity",
    "load_shapes",
    "load_store_graph",
    "read_rdf",
    "shape_files",
    "validate_files",
    "validate_graph",
    "validate_ntriples",
    "validate_rdf",
    "validate_store",
]

Engine = Literal_["fast", "pyshacl"]


# --- shapes -----------------------------------------------------------------------------------------
def shape_files(shapes_dir: Path) -> list[Path]:
    """The Turtle files of ``shapes_dir``, sorted; a missing or empty folder is an error."""
    if not shapes_dir.is_dir():
        raise DataError(
            "shapes folder not found",
            file=shapes_dir,
            hint="run from the project root or pass --root; the shapes live in <root>/shapes/",
        )
    files = sorted(shapes_dir.glob("*.ttl"))
    if not files:
        raise DataError("no *.ttl shapes file in the shapes folder", file=shapes_dir)
    return files


def load_shapes(shapes_dir: Path) -> Graph:
    """All ``shapes_dir/*.ttl`` files in one graph."""
    shapes = Graph()
    for path in shape_files(shapes_dir):
        try:
            shapes.parse(path, format="turtle")
        except BadSyntax as exc:
            raise DataError(
                f"shapes file is not valid Turtle: {exc.message}",
                file=path,
                line=exc.lines + 1,
                hint="fix the syntax; every shapes file must parse on its own",
            ) from None
    return shapes


# --- validation -------------------------------------------------------------------------------------
def validate_graph(
    data: Graph, shapes_dir: Path, *, ontology: Graph | None = None, engine: Engine = "fast"
) -> Report:
    """Validate ``data`` against every shape of ``shapes_dir``; ``data`` is not modified.

    ``ontology``, when given, is added to a copy of the data, so that ``sh:class`` also accepts
    instances of subclasses; the shapes do not need it since their targets are explicit.
    """
    return validate_rdf(data, load_shapes(shapes_dir), ontology=ontology, engine=engine)


def validate_files(
    data_files: Sequence[Path], shapes_files: Sequence[Path], *, engine: Engine = "fast"
) -> Report:
    """Validate the union of ``data_files`` against the union of ``shapes_files`` (any RDF format)."""
    return validate_rdf(read_rdf(data_files), read_rdf(shapes_files), engine=engine)


def validate_rdf(
    data: Graph, shapes: Graph, *, ontology: Graph | None = None, engine: Engine = "fast"
) -> Report:
    """Validate ``data`` against ``shapes``, term for term: the results name the data's own terms.

    The fast engine runs when it compiles every shape exactly and Oxigraph keeps every literal of
    the data as written (:mod:`.exact`); otherwise pyshacl runs and the report's notes say why.
    """
    target = data
    if ontology is not None:
        target = Graph()
        for prefix, ns in data.namespace_manager.namespaces():
            target.bind(prefix, ns, override=False)
        target += data
        target += ontology
    owners = shape_owners(shapes)
    prefixes = report_prefixes(data)
    notes: list[str] = []
    if engine == "fast":
        start = time.perf_counter()
        try:
            checks = fastshacl.compile_shapes(
                shapes, lambda n: (n, None, None) in target or (None, None, n) in target
            )
            store, terms = exact.load_exact(target, fastshacl.literal_constants(shapes))
        except UnsupportedShapeError as exc:
            notes.append(f"the shapes use {exc}, which the fast validator does not compile: ran pyshacl")
        except UnstableTermError as exc:
            notes.append(f"{exc}, so the compiled checks would not see the data's terms: ran pyshacl")
        else:
            try:
                results = fastshacl.run_checks(store, checks, terms)
            except SyntaxError as exc:  # a SPARQL constraint Oxigraph does not parse (rdflib may)
                notes.append(f"Oxigraph does not run a SPARQL query of the shapes ({exc}): ran pyshacl")
            else:
                elapsed = time.perf_counter() - start
                return Report(results, prefixes, elapsed, owners, engine="fast", shapes_graph=shapes)
    results, elapsed = pyshacl_engine.validate(data, shapes, ontology=ontology)
    return Report(results, prefixes, elapsed, owners, engine="pyshacl", notes=notes, shapes_graph=shapes)


def validate_ntriples(
    chunks: Iterable[bytes], shapes_dir: Path, *, ontology: Graph | None = None, engine: Engine = "fast"
) -> Report:
    """Validate the union of N-Triples documents (the build's parts, an ingested file)."""
    documents = list(chunks)

    def parsed() -> Graph:
        graph = Graph()
        for document in documents:
            graph.parse(data=document.decode("utf-8"), format="nt")
        return graph

    return _validate(
        lambda: documents,
        parsed,
        load_shapes(shapes_dir),
        ontology=ontology,
        engine=engine,
        prefixes=report_prefixes(),
    )


def validate_store(store_path: Path, shapes_dir: Path, *, engine: Engine = "fast") -> Report:
    """Validate the union of every named graph of the Oxigraph store at ``store_path``."""
    if engine == "pyshacl":
        return validate_graph(load_store_graph(store_path), shapes_dir, engine=engine)
    store = open_read_only(store_path)
    # CONSTRUCT over the union default graph: a triple in two named graphs is validated once, as pyshacl
    # sees it in the union graph
    union = store.query("CONSTRUCT WHERE { ?s ?p ?o }", use_default_graph_as_union=True)
    assert isinstance(union, ox.QueryTriples), "a CONSTRUCT query returns triples"
    data = ox.serialize(union, format=ox.RdfFormat.N_TRIPLES)
    del store, union
    assert data is not None, "serialising without an output returns the bytes"
    return validate_ntriples([data], shapes_dir, engine=engine)


def load_store_graph(store_path: Path) -> Graph:
    """Every quad of the store (opened read-only) as one rdflib graph: the union of its named graphs.

    Iterating the quads and converting each distinct term once was measured about twice as fast as
    dumping N-Quads and parsing them with rdflib (300 000 triples: 6 s against 12 s).
    """
    store = open_read_only(store_path)
    graph = Graph()
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns, override=True)
    cache: dict[object, Node] = {}

    def convert(term: object) -> Node:
        found = cache.get(term)
        if found is None:
            found = cache[term] = to_rdflib(term)
        return found

    quads = store.quads_for_pattern(None, None, None, None)
    graph.addN((convert(q.subject), convert(q.predicate), convert(q.object), graph) for q in quads)
    return graph


def _validate(
    documents: Callable[[], list[bytes]],
    graph: Callable[[], Graph],
    shapes: Graph,
    *,
    ontology: Graph | None,
    engine: Engine,
    prefixes: dict[str, str],
) -> Report:
    """Run the fast engine on ``documents()``, or pyshacl on ``graph()`` (asked for, or as the fallback).

    The documents are bulk-loaded: Oxigraph keeps literals in canonical form, as the published store
    holds them, which is what the build and the ingest validate.
    """
    owners = shape_owners(shapes)
    notes: list[str] = []
    if engine == "fast":
        try:
            checks = fastshacl.compile_shapes(shapes)
        except UnsupportedShapeError as exc:
            notes.append(f"the shapes use {exc}, which the fast validator does not compile: ran pyshacl")
        else:
            start = time.perf_counter()
            store = ox.Store()  # in memory: the union of the documents, each triple once
            for document in documents():
                store.bulk_load(document, ox.RdfFormat.N_TRIPLES)
            if ontology is not None:
                store.bulk_load(ontology.serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES)
            results = fastshacl.run_checks(store, checks)
            elapsed = time.perf_counter() - start
            return Report(results, prefixes, elapsed, owners, engine="fast", shapes_graph=shapes)
    results, elapsed = pyshacl_engine.validate(graph(), shapes, ontology=ontology)
    return Report(results, prefixes, elapsed, owners, engine="pyshacl", notes=notes, shapes_graph=shapes)
