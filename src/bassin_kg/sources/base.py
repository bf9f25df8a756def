"""What every source declares: its converter, its loader for ``ingest``/``link``, its catalogue entry.

A converter is a function ``(ctx) -> list[GraphPart]`` that the build runs; each part is loaded into its
named graph ``ctx.iris.graph(part.name)``. A loader reads a user's file (or a remote service) into one
graph's N-Triples, which the release writer validates and swaps into the published release.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from pathlib import Path

from rdflib import Graph, URIRef

from bassin_kg.namespaces import PREFIXES, Iris
from bassin_kg.progress import Progress
from bassin_kg.settings import Settings

LICENCE_OUVERTE = URIRef("https://www.etalab.gouv.fr/licence-ouverte-open-licence/")
#: Open Database License 1.0, the licence URSSAF publishes its open data under
ODBL = URIRef("https://opendatacommons.org/licenses/odbl/1-0/")


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


@dataclass
class Loaded:
    """One graph a loader read, as N-Triples, ready to replace its named graph in the published release."""

    graph: str
    data: bytes
    rows: int
    #: files (relative to the root) or service URLs it was read from, for the manifest
    sources: list[str]
    #: seconds per step so far (read, convert); the release writer adds validate and publish
    timings: dict[str, float] = field(default_factory=dict)
    #: what the command prints before the release lines (empty: the ingest summary)
    report: str = ""
    #: what the user should know about the input, printed with the summary (bassins created from a file…)
    notices: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Loader:
    """A ``bassin-kg <command> <source>`` subcommand: its help, its own arguments and the loader it runs."""

    #: "ingest" (a user's file) or "link" (another party's linked data)
    command: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    load: Callable[[ConvertContext, argparse.Namespace, Progress], Loaded]


@dataclass(frozen=True)
class CatalogueEntry:
    """How the DCAT catalogue describes a source: one ``dcat:Dataset`` with its own dump.

    ``title`` and ``description`` are (French, English); ``creators`` are keys of the catalogue's agents.
    """

    key: str
    graphs: tuple[str, ...]
    title: tuple[str, str]
    description: tuple[str, str]
    keywords: tuple[str, ...]
    themes: tuple[str, ...]
    creators: tuple[str, ...] = ()
    licence: URIRef = LICENCE_OUVERTE


def fixed_entry(entry: CatalogueEntry) -> Callable[[Sequence[str]], list[CatalogueEntry]]:
    """The catalogue of a source with fixed graph names: its entry, for the graphs the release holds."""

    def entries(names: Sequence[str]) -> list[CatalogueEntry]:
        present = tuple(g for g in entry.graphs if g in names)
        return [replace(entry, graphs=present)] if present else []

    return entries


@dataclass(frozen=True)
class Source:
    """One source of the graph, as the registry lists it."""

    name: str
    #: the named graphs it writes; ``*`` stands for a part such as a survey year (``bmo-*``)
    graphs: tuple[str, ...]
    #: its catalogue entries for the graph names of a release (the graphs of this source it holds)
    catalogue: Callable[[Sequence[str]], list[CatalogueEntry]]
    #: run by every build (None: loaded only on demand, by ``ingest`` or ``link``)
    convert: Converter | None = None
    loader: Loader | None = None

    def writes(self, graph: str) -> bool:
        """Whether ``graph`` is one of this source's named graphs."""
        return any(fnmatchcase(graph, pattern) for pattern in self.graphs)
