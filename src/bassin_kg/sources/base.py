"""Converters: one module per source, each turning rows into rdflib graphs, one named graph each.

A converter is a function ``(ctx) -> list[GraphPart]``. ``build`` runs every converter of
:data:`CONVERTERS` in order, loads each part into its named graph ``ctx.iris.graph(part.name)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph

from bassin_kg.namespaces import PREFIXES, Iris
from bassin_kg.settings import Settings


@dataclass(frozen=True)
class ConvertContext:
    """What a converter may read: the settings (paths, base IRI) and the IRI minter."""

    settings: Settings
    iris: Iris
    all_france: bool = False

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir


@dataclass
class GraphPart:
    """One named graph produced by a converter."""

    name: str
    graph: Graph
    #: files the part was read from, relative to the project root (for the build report)
    sources: list[str] = field(default_factory=list)
    #: things the build report should say about this part (e.g. commune codes that changed)
    notes: list[str] = field(default_factory=list)


def new_graph() -> Graph:
    """An rdflib graph with the project's prefixes bound."""
    graph = Graph()
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns, override=True)
    return graph


Converter = Callable[[ConvertContext], list[GraphPart]]


def converters() -> list[Converter]:
    """The converters a build runs, in order (imported lazily so the CLI starts fast)."""
    from bassin_kg.sources import deck

    found: list[Converter] = [deck.convert]
    # issue 4: classifications, INSEE territories, and the committed BMO files (data/sources/bmo/)
    from bassin_kg.sources import bmo, occupations, territories

    found += [occupations.convert, territories.convert, bmo.convert]
    return found
