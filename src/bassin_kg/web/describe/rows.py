"""Query text helpers and reading terms out of SPARQL solution rows."""

from __future__ import annotations

import pyoxigraph as ox

from bassin_kg.namespaces import PREFIXES

Row = dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]

RDF_TYPE = PREFIXES["rdf"] + "type"
XSD = PREFIXES["xsd"]
#: every known prefix, to start query text with
PREFIX_LINES = "\n".join(f"PREFIX {p}: <{ns}>" for p, ns in PREFIXES.items())


def number(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> float | None:
    if isinstance(term, ox.Literal):
        try:
            return float(term.value)
        except ValueError:
            return None
    return None


def text(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str:
    return "" if term is None else term.value


def node(iri: str) -> str:
    """``iri`` in N-Triples form, checked: the only way an IRI enters query text here."""
    return str(ox.NamedNode(iri))


def is_iri(term: object) -> bool:
    return isinstance(term, ox.NamedNode)
