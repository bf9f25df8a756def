"""The dumps of a release: the union of the graphs (Turtle, gzipped N-Triples, JSON-LD) and the named
graphs (N-Quads, TriG), each described by its size and SHA-256, plus one gzipped N-Triples file per source.

Every writer streams from the Oxigraph store (never through rdflib): a CONSTRUCT over the union default
graph yields each distinct triple once, ``Store.dump`` writes the quads.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import pyoxigraph as ox

from bassin_kg.namespaces import PREFIXES
from bassin_kg.store import count_triples

CHECKSUMS = "checksums.sha256"
#: the publications office's file-type authority (what DCAT-AP wants in dct:format)
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
IANA = "https://www.iana.org/assignments/media-types/"


@dataclass(frozen=True)
class DumpSpec:
    """What a dump file is: its name, syntax, and whether it keeps the named graphs."""

    key: str
    name: str
    media_type: str
    file_type: str
    label: str
    #: True: quads with the named graphs; False: the union of the graphs as triples
    named_graphs: bool
    gzipped: bool = False

    @property
    def format_iri(self) -> str:
        return FILE_TYPE + self.file_type

    @property
    def media_type_iri(self) -> str:
        return IANA + self.media_type


SPECS: tuple[DumpSpec, ...] = (
    DumpSpec("ttl", "bassin-minier.ttl", "text/turtle", "RDF_TURTLE", "Turtle", False),
    DumpSpec(
        "nt.gz", "bassin-minier.nt.gz", "application/n-triples", "RDF_N_TRIPLES", "N-Triples", False, True
    ),
    DumpSpec("jsonld", "bassin-minier.jsonld", "application/ld+json", "JSON_LD", "JSON-LD", False),
    DumpSpec("nq", "bassin-minier.nq", "application/n-quads", "RDF_N_QUADS", "N-Quads", True),
    DumpSpec("trig", "bassin-minier.trig", "application/trig", "RDF_TRIG", "TriG", True),
)
#: the dumps every release carries (build, ingest, link); ``publish`` writes all of :data:`SPECS`
RELEASE_SPECS: tuple[DumpSpec, ...] = (SPECS[0], SPECS[3])
SOURCE_SPEC = DumpSpec("source", "", "application/n-triples", "RDF_N_TRIPLES", "N-Triples", False, True)


@dataclass(frozen=True)
class DumpFile:
    """A written dump: its spec, size in bytes, SHA-256 (hex) and how many triples or quads it holds."""

    spec: DumpSpec
    #: path relative to dist/ (``bassin-minier.ttl``, ``sources/deck.nt.gz``)
    name: str
    bytes: int
    sha256: str
    statements: int | None
    #: the named graphs it holds (names, as in release.json)
    graphs: tuple[str, ...] = ()


def _union(store: ox.Store) -> ox.QueryTriples:
    triples = store.query("CONSTRUCT WHERE { ?s ?p ?o }", use_default_graph_as_union=True)
    assert isinstance(triples, ox.QueryTriples), "a CONSTRUCT query returns triples"
    return triples


def write_turtle(store: ox.Store, path: Path) -> None:
    ox.serialize(_union(store), path, ox.RdfFormat.TURTLE, prefixes=PREFIXES)


def write_ntriples_gz(store: ox.Store, path: Path) -> None:
    # mtime=0 and no file name in the gzip header: the same triples give the same bytes and checksum
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
        ox.serialize(_union(store), cast(IO[bytes], out), ox.RdfFormat.N_TRIPLES)


def write_jsonld(store: ox.Store, path: Path) -> None:
    ox.serialize(_union(store), path, ox.RdfFormat.JSON_LD, prefixes=PREFIXES)


def write_nquads(store: ox.Store, path: Path) -> None:
    store.dump(path, ox.RdfFormat.N_QUADS)


def write_trig(store: ox.Store, path: Path) -> None:
    store.dump(path, ox.RdfFormat.TRIG, prefixes=PREFIXES)


#: one writer per dump (a table, so a test can make one fail)
WRITERS: dict[str, Callable[[ox.Store, Path], None]] = {
    "ttl": write_turtle,
    "nt.gz": write_ntriples_gz,
    "jsonld": write_jsonld,
    "nq": write_nquads,
    "trig": write_trig,
}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_dumps(
    store: ox.Store, dist: Path, specs: Sequence[DumpSpec] = SPECS, *, counted: bool = True
) -> list[DumpFile]:
    """Write the dumps ``specs`` into ``dist``: the one dump writer of a release.

    ``counted`` False leaves ``statements`` unknown (None): counting the union's distinct triples is a
    query over the whole store, which a build or an ingest does not need.
    """
    dist.mkdir(parents=True, exist_ok=True)
    union, quads = (count_triples(store), len(store)) if counted else (None, None)
    files = []
    for spec in specs:
        path = dist / spec.name
        WRITERS[spec.key](store, path)
        count = quads if spec.named_graphs else union
        files.append(DumpFile(spec, spec.name, path.stat().st_size, sha256_of(path), count))
    return files


def write_source_dump(store: ox.Store, dist: Path, key: str, graphs: Sequence[tuple[str, str]]) -> DumpFile:
    """The triples of the named graphs ``graphs`` ((name, IRI) pairs) as ``sources/<key>.nt.gz``."""
    folder = dist / "sources"
    folder.mkdir(exist_ok=True)
    path = folder / f"{key}.nt.gz"
    values = " ".join(f"<{iri}>" for _, iri in graphs)
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}"
    triples = store.query(query)
    assert isinstance(triples, ox.QueryTriples)
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
        ox.serialize(triples, cast(IO[bytes], out), ox.RdfFormat.N_TRIPLES)
    count = count_triples(store, [iri for _, iri in graphs])
    name = f"sources/{key}.nt.gz"
    return DumpFile(
        SOURCE_SPEC, name, path.stat().st_size, sha256_of(path), count, tuple(n for n, _ in graphs)
    )


def write_checksums(dist: Path, names: Iterable[str]) -> Path:
    """``checksums.sha256`` in the layout of ``sha256sum`` (``sha256sum -c checksums.sha256`` checks it)."""
    path = dist / CHECKSUMS
    lines = [f"{sha256_of(dist / name)}  {name}\n" for name in sorted(set(names))]
    path.write_text("".join(lines), encoding="utf-8")
    return path
