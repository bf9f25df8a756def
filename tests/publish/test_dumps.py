"""The dumps parse back to the store's counts, and their sizes and checksums are the files'."""

from __future__ import annotations

import gzip
import hashlib
import io
from pathlib import Path

import pyoxigraph as ox

from bassin_kg.publish import PublishResult
from bassin_kg.release.dumps import CHECKSUMS, SPECS
from bassin_kg.settings import Settings


def _count(store: ox.Store, query: str) -> int:
    rows = list(store.query(query))  # type: ignore[arg-type]
    return int(rows[0]["n"].value)


def _parse_count(path: Path, fmt: ox.RdfFormat) -> int:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return sum(1 for _ in ox.parse(io.BytesIO(data), fmt))


FORMATS = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt.gz": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "nq": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
}


def test_every_dump_parses_back_to_the_store_counts(published: tuple[Settings, PublishResult]) -> None:
    settings, result = published
    store = ox.Store.read_only(str(result.release_dir / "store"))
    distinct = _count(
        store, "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }"
    )
    quads = _count(store, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert distinct > 50_000
    dist = settings.dist_dir  # the root link: what users see
    assert {d.name for d in result.dumps} == {s.name for s in SPECS}
    for dump in result.dumps:
        expected = quads if dump.spec.named_graphs else distinct
        assert dump.statements == expected, dump.name
        assert _parse_count(dist / dump.name, FORMATS[dump.spec.key]) == expected, dump.name


def test_named_graph_dumps_keep_every_graph(published: tuple[Settings, PublishResult]) -> None:
    settings, result = published
    store = ox.Store.read_only(str(result.release_dir / "store"))
    graphs = {g.value for g in store.named_graphs()}
    for name in ("bassin-minier.nq", "bassin-minier.trig"):
        fmt = ox.RdfFormat.N_QUADS if name.endswith(".nq") else ox.RdfFormat.TRIG
        found = {q.graph_name.value for q in ox.parse(path=settings.dist_dir / name, format=fmt)}
        assert found == graphs


def test_sizes_and_checksums_are_those_of_the_files(published: tuple[Settings, PublishResult]) -> None:
    settings, result = published
    dist = settings.dist_dir
    listed = {}
    for line in (dist / CHECKSUMS).read_text().splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    for dump in [*result.dumps, *result.source_dumps]:
        data = (dist / dump.name).read_bytes()
        assert dump.bytes == len(data)
        assert dump.sha256 == hashlib.sha256(data).hexdigest() == listed[dump.name]
    # the metadata files are listed too, with their real digests
    for name in ("void.ttl", "catalog.ttl", "catalog.rdf", "index.html"):
        assert listed[name] == hashlib.sha256((dist / name).read_bytes()).hexdigest()


def test_one_source_dump_per_source_holds_its_graphs(published: tuple[Settings, PublishResult]) -> None:
    settings, result = published
    store = ox.Store.read_only(str(result.release_dir / "store"))
    by_name = {d.name: d for d in result.source_dumps}
    assert "sources/plaquette.nt.gz" in by_name
    assert "sources/metiers.nt.gz" in by_name
    names = [g for d in result.source_dumps for g in d.graphs]
    assert sorted(names) == sorted({n for n in names}), "a graph is in one source only"
    deck = by_name["sources/plaquette.nt.gz"]
    assert deck.graphs == ("deck",)
    expected = _count(
        store,
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/bassin-minier/id/graph/deck> { ?s ?p ?o } }",
    )
    assert deck.statements == expected
    assert _parse_count(settings.dist_dir / deck.name, ox.RdfFormat.N_TRIPLES) == expected


def test_gzip_dump_is_reproducible(published: tuple[Settings, PublishResult], tmp_path: Path) -> None:
    from bassin_kg.release.dumps import write_ntriples_gz

    _settings, result = published
    store = ox.Store.read_only(str(result.release_dir / "store"))
    write_ntriples_gz(store, tmp_path / "again.nt.gz")
    first = next(d for d in result.dumps if d.spec.key == "nt.gz")
    assert hashlib.sha256((tmp_path / "again.nt.gz").read_bytes()).hexdigest() == first.sha256
