"""The sources registry: a catalogue entry for every graph a source writes, a subcommand per loader."""

from __future__ import annotations

import pytest

from bassin_kg.cli import build_parser
from bassin_kg.errors import UsageError
from bassin_kg.sources.base import LICENCE_OUVERTE, ODBL, Source
from bassin_kg.sources.registry import SOURCES, catalogue, converters, loader, loaders, source_of


def _example(pattern: str) -> str:
    return pattern.replace("*", "2024")


def _catalogue_problems(source: Source) -> list[str]:
    """What is missing from the catalogue entries of ``source`` for the graphs it declares."""
    graphs = [_example(g) for g in source.graphs]
    entries = source.catalogue(graphs)
    problems = [] if entries else [f"source {source.name} has no catalogue entry"]
    covered = {g for entry in entries for g in entry.graphs}
    problems += [
        f"graph {g} of source {source.name} is in no catalogue entry" for g in graphs if g not in covered
    ]
    for entry in entries:
        if not (all(entry.title) and all(entry.description) and entry.keywords and entry.themes):
            problems.append(f"entry {entry.key}: title, description, keywords and themes are all needed")
        if entry.licence not in (LICENCE_OUVERTE, ODBL):
            problems.append(f"entry {entry.key}: licence {entry.licence} is not one the catalogue describes")
    return problems


@pytest.mark.parametrize("source", SOURCES, ids=[s.name for s in SOURCES])
def test_every_graph_of_a_source_has_its_catalogue_entry(source: Source) -> None:
    assert _catalogue_problems(source) == []


def test_a_source_without_a_catalogue_entry_is_caught() -> None:
    silent = Source("silent", graphs=("silent",), catalogue=lambda names: [])
    assert _catalogue_problems(silent) == [
        "source silent has no catalogue entry",
        "graph silent of source silent is in no catalogue entry",
    ]


def test_each_graph_belongs_to_one_source() -> None:
    for source in SOURCES:
        for graph in source.graphs:
            assert source_of(_example(graph)) is source
    assert source_of("synthetic") is None


def test_a_graph_of_no_source_gets_a_plain_entry() -> None:
    [entry] = catalogue(["synthetic"])
    assert entry.title == ("Graphe synthetic", "Graph synthetic")


def test_the_build_runs_the_converters_of_the_registry() -> None:
    assert converters() == [s.convert for s in SOURCES if s.convert is not None]


def test_the_cli_offers_one_subcommand_per_loader() -> None:
    parser = build_parser()
    args = parser.parse_args(["ingest", "acoss", "file.csv"])
    assert args.loader is loaders("ingest")["acoss"]
    assert set(loaders("ingest")) == {"bmo", "acoss"}
    assert set(loaders("link")) == {"insee"}


def test_an_unknown_loader_names_the_known_ones() -> None:
    with pytest.raises(UsageError, match="expected one of acoss, bmo"):
        loader("ingest", "nope")
