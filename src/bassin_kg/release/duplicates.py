"""Each triple lives in exactly one named graph, so the union default graph counts it once.

Oxigraph's union default graph returns a triple once per named graph that holds it (upstream issue
#1919): a triple in two graphs makes a plain ``SUM`` or ``COUNT`` on ``/sparql`` count it twice. A build
or an ingest that would publish such a triple fails with the list of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import Graph

from bassin_kg.errors import DataError

#: triples listed in the error message (the count says how many there are in all)
SHOWN = 20


@dataclass(frozen=True)
class Duplicate:
    """One triple and the named graphs (by name) that each hold it."""

    triple: str
    graphs: tuple[str, ...]


def between_parts(parts: Mapping[str, Graph]) -> list[Duplicate]:
    """The triples held by more than one of the rdflib graphs ``parts`` (graph name -> graph)."""
    owner: dict[object, str] = {}
    found: dict[object, list[str]] = {}
    for name, graph in parts.items():
        for triple in graph:
            first = owner.setdefault(triple, name)
            if first != name:
                found.setdefault(triple, [first]).append(name)
    return [
        Duplicate(" ".join(term.n3() for term in triple), tuple(names))  # type: ignore[attr-defined]
        for triple, names in found.items()
    ]


def in_store(store: ox.Store, graph: str, names: Mapping[str, str]) -> list[Duplicate]:
    """The triples of named graph ``graph`` (an IRI) that another named graph of ``store`` holds too.

    ``names`` maps graph IRIs to the names shown in the message.
    """
    query = f"SELECT ?s ?p ?o ?g WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} GRAPH ?g {{ ?s ?p ?o }} }}"
    solutions = store.query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    found: dict[str, list[str]] = {}
    for solution in solutions:
        if solution["g"] == ox.NamedNode(graph):
            continue
        triple = f"{solution['s']} {solution['p']} {solution['o']}"
        other = solution["g"]
        assert isinstance(other, ox.NamedNode)
        found.setdefault(triple, [names.get(graph, graph)]).append(names.get(other.value, other.value))
    return [Duplicate(triple, tuple(graphs)) for triple, graphs in found.items()]


def refuse(duplicates: Iterable[Duplicate], *, file: str | None = None) -> None:
    """A DataError listing the duplicates (the first :data:`SHOWN`), when there are any."""
    listed = sorted(duplicates, key=lambda d: (d.graphs, d.triple))
    if not listed:
        return
    lines = [f"  {d.triple}  (graphes : {', '.join(d.graphs)})" for d in listed[:SHOWN]]
    more = f"\n  … et {len(listed) - SHOWN} autres" if len(listed) > SHOWN else ""
    raise DataError(
        f"{len(listed)} triplet(s) dans plusieurs graphes nommés :\n" + "\n".join(lines) + more,
        file=file,
        hint="chaque triplet doit venir d'une seule source (un seul graphe nommé) : retirez-le du "
        "convertisseur qui le répète, sinon le graphe par défaut le compterait deux fois",
    )
