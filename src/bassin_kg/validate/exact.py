"""RDF read and loaded into Oxigraph term for term, so that the compiled checks are exact.

Two things would make the compiled checks answer for other terms than the data's own:

- rdflib normalises literals as it parses (``"1"^^xsd:boolean`` becomes ``"true"``): :func:`read_rdf`
  parses with Oxigraph's parsers and builds rdflib literals unnormalised;
- Oxigraph stores a literal of a type it knows in canonical form (``"2.0"^^xsd:decimal`` as ``2``,
  ``"300"^^xsd:byte`` as ``"300"^^xsd:integer``): term equality, ``STR`` and ``DATATYPE`` would then see
  another term. :func:`load_exact` loads the data and names the first literal Oxigraph does not keep as
  written (:class:`UnstableTermError`); the caller runs pyshacl instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from bassin_kg.errors import DataError
from bassin_kg.validate.fastshacl import TermMap

#: file suffix -> Oxigraph format (the formats Oxigraph parses)
FORMATS = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".turtle": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".ntriples": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".trig": ox.RdfFormat.TRIG,
    ".n3": ox.RdfFormat.N3,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".xml": ox.RdfFormat.RDF_XML,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".json": ox.RdfFormat.JSON_LD,
}
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_PROBE = ox.NamedNode("urn:bassin-kg:probe")


class UnstableTermError(Exception):
    """The data holds a term Oxigraph would not keep as written: the compiled checks cannot be exact."""


def read_rdf(paths: Sequence[Path]) -> Graph:
    """The union of RDF files (every graph of a dataset file), each term exactly as written.

    Relative IRIs resolve against each file's own IRI; blank nodes are kept apart between files. The
    prefixes the files declare are bound in the graph (SPARQL constraints may rely on them).
    """
    graph = Graph(bind_namespaces="core")
    for path in paths:
        fmt = FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise DataError(
                "unknown RDF file type",
                file=path,
                hint=f"name the file with one of the suffixes {', '.join(sorted(FORMATS))}",
            )
        if not path.is_file():
            raise DataError("file not found", file=path, hint="check the path")
        try:
            with path.open("rb") as handle:
                parser = ox.parse(handle, fmt, base_iri=path.resolve().as_uri(), rename_blank_nodes=True)
                converter = _FromOxigraph()
                graph.addN(
                    (converter(q.subject), converter(q.predicate), converter(q.object), graph) for q in parser
                )
                prefixes = dict(parser.prefixes) if fmt in _PREFIXED else {}
        except SyntaxError as exc:
            raise DataError(
                f"not valid {fmt.name}: {exc}", file=path, hint="fix the syntax; each file must parse"
            ) from None
        for prefix, namespace in prefixes.items():
            graph.bind(prefix, namespace, override=False)
    return graph


_PREFIXED = {ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.N3, ox.RdfFormat.RDF_XML}


class _FromOxigraph:
    """Oxigraph terms as rdflib terms, literals unnormalised (rdflib would rewrite their lexical form)."""

    def __call__(self, term: object) -> Node:
        if isinstance(term, ox.NamedNode):
            return URIRef(term.value)
        if isinstance(term, ox.BlankNode):
            return BNode(term.value)
        if isinstance(term, ox.Literal):
            return _literal(term)
        raise DataError(f"unsupported RDF term {term!r} (RDF-star triples are not read)")


def _literal(term: ox.Literal) -> Literal:
    with warnings.catch_warnings():
        # rdflib warns when a lexical form is not in its datatype's space: that is for SHACL to report
        warnings.simplefilter("ignore")
        if term.language:
            return Literal(term.value, lang=term.language, normalize=False)
        datatype = term.datatype.value
        if datatype == _XSD_STRING:
            return Literal(term.value, normalize=False)
        return Literal(term.value, datatype=URIRef(datatype), normalize=False)


class ExactTerms(TermMap):
    """The data's own terms for the store's: blank nodes by a table, literals as loaded (kept as written)."""

    def __init__(self) -> None:
        self._to: dict[Node, ox.NamedNode | ox.BlankNode | ox.Literal] = {}
        self._back: dict[object, Node] = {}

    def to_store(self, node: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
        found = self._to.get(node)
        if found is not None:
            return found
        term: ox.NamedNode | ox.BlankNode | ox.Literal
        if isinstance(node, URIRef):
            try:
                term = ox.NamedNode(str(node))
            except ValueError:
                raise UnstableTermError(f"the IRI <{node}> is not valid for Oxigraph") from None
        elif isinstance(node, BNode):
            term = ox.BlankNode(f"b{len(self._to)}")  # rdflib allows ids Oxigraph does not
        elif isinstance(node, Literal):
            if node.language:
                term = ox.Literal(str(node), language=node.language)
            else:
                datatype = str(node.datatype) if node.datatype is not None else _XSD_STRING
                term = ox.Literal(str(node), datatype=ox.NamedNode(datatype))
        else:
            raise UnstableTermError(f"unsupported RDF term {node!r}")
        self._to[node] = term
        self._back[term] = node
        return term

    def from_store(self, term: object) -> Node:
        found = self._back.get(term)
        if found is not None:
            return found
        if isinstance(term, ox.Literal):
            return _literal(term)  # a literal of the shapes (sh:targetNode) that is not in the data
        return _FromOxigraph()(term)


def load_exact(graph: Graph, constants: Iterable[Literal] = ()) -> tuple[ox.Store, ExactTerms]:
    """An in-memory store holding ``graph``'s triples, and the map between its terms and the data's.

    Raises :class:`UnstableTermError` when Oxigraph would store a literal of the data, or of
    ``constants`` (the shapes' literals compared as terms), otherwise than as written.
    """
    terms = ExactTerms()
    convert = terms.to_store
    quads = []
    for s, p, o in graph:
        subject, predicate = convert(s), convert(p)
        assert not isinstance(subject, ox.Literal), "rdflib graphs have no literal subjects"
        assert isinstance(predicate, ox.NamedNode), "rdflib graphs have IRI predicates"
        quads.append(ox.Quad(subject, predicate, convert(o)))
    literals = [t for t in terms._to.values() if isinstance(t, ox.Literal)]
    literals.extend(_as_oxigraph(c) for c in constants)
    _check_kept(literals)
    store = ox.Store()
    store.extend(quads)
    return store, terms


def _as_oxigraph(literal: Literal) -> ox.Literal:
    if literal.language:
        return ox.Literal(str(literal), language=literal.language)
    return ox.Literal(str(literal), datatype=ox.NamedNode(str(literal.datatype or _XSD_STRING)))


def _check_kept(literals: list[ox.Literal]) -> None:
    """Raise :class:`UnstableTermError` unless Oxigraph stores each literal as written."""
    probe = ox.Store()
    probe.extend(ox.Quad(ox.NamedNode(f"urn:bassin-kg:{i}"), _PROBE, lit) for i, lit in enumerate(literals))
    for quad in probe:
        written = literals[int(quad.subject.value.rsplit(":", 1)[1])]
        if quad.object != written:
            raise UnstableTermError(f"Oxigraph stores the literal {written} as {quad.object}")
