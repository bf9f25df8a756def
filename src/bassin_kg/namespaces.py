"""Namespaces and the IRI patterns of DESIGN.md, in one place.

The ontology namespace is fixed (a vocabulary keeps its identity whatever the deployment); data IRIs
are minted under the configurable base by :class:`Iris`.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from rdflib import Namespace, URIRef

DEFAULT_BASE = "https://w3id.org/bassin-minier/"

BM = Namespace(DEFAULT_BASE + "def#")
IGEO = Namespace("http://rdf.insee.fr/def/geo#")
QB = Namespace("http://purl.org/linked-data/cube#")
SDMX_DIM = Namespace("http://purl.org/linked-data/sdmx/2009/dimension#")
SDMX_ATT = Namespace("http://purl.org/linked-data/sdmx/2009/attribute#")
SDMX_MEAS = Namespace("http://purl.org/linked-data/sdmx/2009/measure#")
SDMX_CODE = Namespace("http://purl.org/linked-data/sdmx/2009/code#")
ORG = Namespace("http://www.w3.org/ns/org#")
SCHEMA = Namespace("https://schema.org/")
XKOS = Namespace("http://rdf-vocabulary.ddialliance.org/xkos#")
VOID = Namespace("http://rdfs.org/ns/void#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
ESCO = Namespace("http://data.europa.eu/esco/occupation/")
INTERVAL_YEAR = Namespace("http://reference.data.gouv.uk/id/year/")
INTERVAL_QUARTER = Namespace("http://reference.data.gouv.uk/id/quarter/")

#: prefixes bound in every graph, dump and query the project writes
PREFIXES: dict[str, str] = {
    "bm": str(BM),
    "igeo": str(IGEO),
    "qb": str(QB),
    "sdmx-dimension": str(SDMX_DIM),
    "sdmx-attribute": str(SDMX_ATT),
    "sdmx-measure": str(SDMX_MEAS),
    "sdmx-code": str(SDMX_CODE),
    "org": str(ORG),
    "schema": str(SCHEMA),
    "xkos": str(XKOS),
    "void": str(VOID),
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#",
    "dcterms": "http://purl.org/dc/terms/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "foaf": "http://xmlns.com/foaf/0.1/",
}

_SLUG_DROP = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """ASCII slug for IRIs: 'CRITT M2A' -> 'critt-m2a', 'École des Mines' -> 'ecole-des-mines'.

    Accents are dropped; any other non-ASCII character (’ – « ») separates words, so "d’entretien" and
    "d'entretien" give the same slug ('d-entretien'), and 'œ' is spelt 'oe'.
    """
    import unicodedata

    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(c if c.isascii() else " " for c in decomposed if not unicodedata.combining(c))
    return _SLUG_DROP.sub("-", ascii_text.lower()).strip("-")


class Iris:
    """Mints the IRIs of DESIGN.md under one base; codes are always qualified by their scheme."""

    def __init__(self, base: str = DEFAULT_BASE) -> None:
        if not base.endswith("/"):
            base += "/"
        self.base = base

    def _id(self, *parts: str) -> URIRef:
        return URIRef(self.base + "id/" + "/".join(quote(p, safe="-._~") for p in parts))

    # territories
    def ze2010(self, code: str) -> URIRef:
        return self._id("territoire", "ze2010", code)

    def ze2020(self, code: str) -> URIRef:
        return self._id("territoire", "ze2020", code)

    def bassin_bmo(self, code: str) -> URIRef:
        return self._id("territoire", "bassin-bmo", code)

    def bassin_minier(self) -> URIRef:
        return self._id("territoire", "bassin-minier")

    def commune(self, code: str) -> URIRef:
        return self._id("commune", code)

    def departement(self, code: str) -> URIRef:
        return self._id("departement", code)

    def region(self, code: str) -> URIRef:
        return self._id("region", code)

    # deck content
    def swot(self, territory_key: str, category: str, rank: int) -> URIRef:
        """``territory_key`` is 'ze2010-3123' or 'bassin-minier'; category force|faiblesse|..."""
        return self._id("swot", territory_key, f"{category}-{rank}")

    def perspective(self, rank: int) -> URIRef:
        return self._id("perspective", str(rank))

    def territory_link(self, rank: int) -> URIRef:
        return self._id("lien-territoires", str(rank))

    def actor(self, slug: str) -> URIRef:
        return self._id("acteur", slug)

    def actor_type(self, slug: str) -> URIRef:
        return self._id("type-acteur", slug)

    def sector(self, slug: str) -> URIRef:
        return self._id("secteur", slug)

    def deck(self) -> URIRef:
        return self._id("document", "trajectoire-economique-2019")

    def deck_occupation(self, slug: str) -> URIRef:
        return self._id("metier", "deck", slug)

    # classifications
    def fap2009(self, code: str) -> URIRef:
        return self._id("metier", "fap2009", code)

    def fap2021(self, code: str) -> URIRef:
        return self._id("metier", "fap2021", code)

    def rome(self, code: str) -> URIRef:
        return self._id("rome", code)

    def rome_appellation(self, ogr: str) -> URIRef:
        return self._id("rome", "appellation", ogr)

    def scheme(self, name: str) -> URIRef:
        return self._id("schema", name)

    # statistics, provenance, publication
    def observation(self, dataset: str, *dims: str) -> URIRef:
        return self._id("obs", dataset, *dims)

    def dataset(self, name: str) -> URIRef:
        return self._id("dataset", name)

    def graph(self, name: str) -> URIRef:
        return self._id("graph", name)

    def source_record(self, file_key: str, line: int) -> URIRef:
        return self._id("source", file_key, str(line))

    def multiplier(self, slug: str) -> URIRef:
        return self._id("multiplicateur", slug)

    # mappings and overlaps
    def correspondence(self, kind: str, source: str, target: str) -> URIRef:
        """A reified occupation mapping, e.g. kind 'fap2009-rome', source 'B0Z20', target 'F1701'."""
        return self._id("correspondance", kind, source, target)

    def overlap(self, source_key: str, target_key: str) -> URIRef:
        """How two territories of different versions overlap, e.g. 'ze2010-3123' -> 'ze2020-3205'."""
        return self._id("recouvrement", source_key, target_key)

    # provenance of linking runs
    def activity(self, name: str, stamp: str) -> URIRef:
        """A run of a step that fetched outside data, e.g. 'link-insee', '20251126T080000Z'."""
        return self._id("activite", name, stamp)
