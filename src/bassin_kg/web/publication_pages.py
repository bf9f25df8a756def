"""The publication as pages for people: the DCAT catalogue, the VoID description, the downloads list.

``/catalog`` and ``/.well-known/void`` answer RDF to RDF clients (web/wellknown.py); a browser asking
for HTML gets these pages instead, read from the same Turtle files, so a click on "Données" never
downloads a file. ``/dist/`` lists the files of ``checksums.sha256``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from bassin_kg.web.describe.formatting import format_number

DCAT = "http://www.w3.org/ns/dcat#"
DCTERMS = "http://purl.org/dc/terms/"
VOID = "http://rdfs.org/ns/void#"
SD = "http://www.w3.org/ns/sparql-service-description#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"

Terms = dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]]


@dataclass
class Link:
    text: str
    href: str
    note: str = ""


@dataclass
class Entry:
    """A dataset (or service) of the catalogue or of VoID, as the page lists it."""

    title: str
    description: str = ""
    figures: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)


@dataclass
class PublicationView:
    title: str
    description: str
    entries: list[Entry]


def read_turtle(path: Path) -> dict[str, Terms]:
    """Subject -> predicate -> objects of a Turtle file (blank-node subjects keyed by their id)."""
    table: dict[str, Terms] = defaultdict(lambda: defaultdict(list))
    for triple in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
        table[triple.subject.value][triple.predicate.value].append(triple.object)
    return table


def _french(terms: Terms, predicate: str) -> str:
    """The French literal of ``predicate``, else an untagged one, else any."""
    literals = [t for t in terms.get(predicate, []) if isinstance(t, ox.Literal)]
    for wanted in ("fr", "", None):
        for literal in literals:
            if wanted is None or (literal.language or "") == wanted:
                return literal.value
    return ""


def _local(iri: str, base: str, root: str) -> str:
    """An IRI under the deployment's base as a path of this server (links work on any host)."""
    return root + "/" + iri[len(base) :] if iri.startswith(base) else iri


def _size(terms: Terms) -> str:
    value = next((t.value for t in terms.get(DCAT + "byteSize", [])), None)
    if value is None:
        return ""
    try:
        size = float(value)
    except ValueError:
        return ""
    for unit, factor in (("Go", 1e9), ("Mo", 1e6), ("ko", 1e3)):
        if size >= factor:
            return f"{size / factor:.1f}".replace(".", ",") + f"\u202f{unit}"
    return f"{int(size)}\u202foctets"


def catalog_view(path: Path, base: str, root: str) -> PublicationView:
    """The catalogue's datasets, each with its distributions (links to this server's files)."""
    table = read_turtle(path)
    types = {s: {t.value for t in p.get(RDF_TYPE, [])} for s, p in table.items()}
    catalog = next((s for s, t in types.items() if DCAT + "Catalog" in t), "")
    entries = []
    for subject in sorted(s for s, t in types.items() if DCAT + "Dataset" in t):
        terms = table[subject]
        links = []
        for dist in sorted(t.value for t in terms.get(DCAT + "distribution", [])):
            dist_terms = table.get(dist, {})
            url = next((t.value for t in dist_terms.get(DCAT + "downloadURL", [])), None)
            url = url or next((t.value for t in dist_terms.get(DCAT + "accessURL", [])), None)
            if url is None:
                continue
            described = (_french(dist_terms, DCTERMS + "description"), _size(dist_terms))
            note = " · ".join(x for x in described if x)
            links.append(Link(_french(dist_terms, DCTERMS + "title") or url, _local(url, base, root), note))
        title = _french(terms, DCTERMS + "title") or subject
        entries.append(Entry(title, _french(terms, DCTERMS + "description"), [], links))
    for subject in sorted(s for s, t in types.items() if DCAT + "DataService" in t):
        terms = table[subject]
        urls = [t.value for t in terms.get(DCAT + "endpointURL", [])]
        entries.append(
            Entry(
                _french(terms, DCTERMS + "title") or "Point d'accès SPARQL",
                _french(terms, DCTERMS + "description"),
                [],
                [Link("point d'accès", _local(u, base, root)) for u in urls],
            )
        )
    return PublicationView(
        _french(table.get(catalog, {}), DCTERMS + "title") or "Catalogue des données",
        _french(table.get(catalog, {}), DCTERMS + "description"),
        entries,
    )


def void_view(path: Path, base: str, root: str) -> PublicationView:
    """The VoID datasets: triples per named graph, links to other datasets, dumps and endpoint."""
    table = read_turtle(path)
    types = {s: {t.value for t in p.get(RDF_TYPE, [])} for s, p in table.items()}
    entries = []
    for subject in sorted(s for s, t in types.items() if VOID + "Dataset" in t):
        terms = table[subject]
        figures = []
        triples = next((t.value for t in terms.get(VOID + "triples", [])), None)
        if triples is not None:
            figures.append(f"{format_number(triples, XSD_INTEGER) or triples} triplets")
        graph = next((t.value for t in terms.get(SD + "name", [])), None)
        if graph:
            figures.append(f"graphe nommé {graph}")
        links = [Link("fichier", _local(t.value, base, root)) for t in terms.get(VOID + "dataDump", [])]
        endpoints = terms.get(VOID + "sparqlEndpoint", [])
        links += [Link("point d'accès SPARQL", _local(t.value, base, root)) for t in endpoints]
        title = _french(terms, DCTERMS + "title") or (graph or subject).rsplit("/", 1)[-1]
        entries.append(Entry(title, _french(terms, DCTERMS + "description"), figures, links))
    for subject in sorted(s for s, t in types.items() if VOID + "Linkset" in t):
        terms = table[subject]
        predicate = next((t.value for t in terms.get(VOID + "linkPredicate", [])), "")
        triples = next((t.value for t in terms.get(VOID + "triples", [])), "")
        target = next((t.value for t in terms.get(VOID + "objectsTarget", [])), "")
        entries.append(
            Entry(
                f"Liens {predicate.rsplit('#', 1)[-1]} vers {target.rsplit('/', 1)[-1]}",
                "",
                [f"{format_number(triples, XSD_INTEGER) or triples} liens"] if triples else [],
            )
        )
    return PublicationView(
        "Description VoID du graphe",
        "Le graphe, ses graphes nommés (un par source), leur taille et leurs liens vers d'autres jeux de "
        "données.",
        entries,
    )


@dataclass
class DistFile:
    name: str
    size: str
    checksum: str


def dist_files(folder: Path, listing: Path) -> list[DistFile]:
    """The files of ``checksums.sha256`` present in ``folder``, with their sizes."""
    files: list[DistFile] = []
    if not listing.is_file():
        return files
    for line in listing.read_text(encoding="utf-8").splitlines():
        checksum, sep, name = line.partition("  ")
        if not sep or not (folder / name).is_file():
            continue
        size = (folder / name).stat().st_size
        terms: Terms = {DCAT + "byteSize": [ox.Literal(str(size))]}
        files.append(DistFile(name, _size(terms), checksum))
    return files
