"""The one list of sources that the build, ``ingest``/``link`` and the DCAT catalogue all read.

Adding a source: write ``sources/<source>.py`` with its ``SOURCE`` (converter and/or loader, and its
catalogue entry), then add it here.
"""

from __future__ import annotations

from collections.abc import Sequence

from bassin_kg.errors import UsageError
from bassin_kg.sources import acoss, bmo, deck, insee_links, occupations, ontology, territories
from bassin_kg.sources.base import CatalogueEntry, Converter, Loader, Source

#: in the order the build converts them and the catalogue lists them
SOURCES: tuple[Source, ...] = (
    deck.SOURCE,
    occupations.SOURCE,
    territories.SOURCE,
    bmo.SOURCE,
    acoss.SOURCE,
    insee_links.SOURCE,
    ontology.SOURCE,
)


def converters() -> list[Converter]:
    """The converters every build runs, in order."""
    return [source.convert for source in SOURCES if source.convert is not None]


def loaders(command: str) -> dict[str, Loader]:
    """The sources ``bassin-kg <command> NAME`` loads (``ingest`` or ``link``), by name."""
    return {s.name: s.loader for s in SOURCES if s.loader is not None and s.loader.command == command}


def source_of(graph: str) -> Source | None:
    """The source that writes the named graph ``graph`` (None for a graph of no source)."""
    return next((source for source in SOURCES if source.writes(graph)), None)


def catalogue(graph_names: Sequence[str]) -> list[CatalogueEntry]:
    """The catalogue entries of a release's named graphs, in the registry's order.

    A graph of no source (written through the Graph Store protocol, say) gets a plain entry of its own.
    """
    names = list(graph_names)
    entries = [entry for source in SOURCES for entry in source.catalogue(names)]
    used = {graph for entry in entries for graph in entry.graphs}
    entries += [_plain_entry(name) for name in sorted(set(names) - used)]
    return entries


def _plain_entry(name: str) -> CatalogueEntry:
    return CatalogueEntry(
        name,
        (name,),
        title=(f"Graphe {name}", f"Graph {name}"),
        description=(f"Le graphe nommé {name} de la publication.", f"The publication's named graph {name}."),
        keywords=("bassin minier",),
        themes=("ECON",),
    )


def loader(command: str, name: str) -> Loader:
    """The loader of ``bassin-kg <command> <name>``."""
    found = loaders(command)
    if name not in found:
        raise UsageError(f"no source {name!r} for `{command}`; expected one of {', '.join(sorted(found))}")
    return found[name]
