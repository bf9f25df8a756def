"""What the pages show about a resource, read by SPARQL from the served store.

Every query goes through the app's :class:`~bassin_kg.web.sparql.SparqlService` (so it runs in the
engine's workers, off the event loop, with the endpoint's timeout and cache). IRIs are only ever put into
query text in their N-Triples form, after :class:`pyoxigraph.NamedNode` has checked them.

The generic description of a resource is its outgoing triples plus the resources that point to it, each
shown by its label (French first) rather than its IRI. The views below (territory, occupation, actor,
SWOT item, home, ontology) add what MODEL.md says those resources carry, each figure with its source;
a territory also gets its overlaps with the other zonings and, when ``bassin-kg ingest acoss`` has
loaded it, the Urssaf employment series of the 2020 zone that holds most of its communes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox

from bassin_kg.french import MONTHS
from bassin_kg.namespaces import BM, PREFIXES, QB, Iris
from bassin_kg.web.sparql import SparqlService

Row = dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]

RDF_TYPE = PREFIXES["rdf"] + "type"
XSD = PREFIXES["xsd"]
#: the ontology's IRI (fixed whatever the deployment's base, like the bm: namespace)
ONTOLOGY = str(BM)[:-1]
#: at most this many resources pointing to a resource are listed (a class may have thousands)
INCOMING_CAP = 500

_PREFIX_LINES = "\n".join(f"PREFIX {p}: <{ns}>" for p, ns in PREFIXES.items())

#: label properties, best first
_LABEL_PROPERTIES = (
    PREFIXES["skos"] + "prefLabel",
    PREFIXES["rdfs"] + "label",
    PREFIXES["dcterms"] + "title",
    "http://rdf.insee.fr/def/geo#nom",
    "https://schema.org/name",
    PREFIXES["foaf"] + "name",
    PREFIXES["skos"] + "notation",
)
_FILE = str(BM.fichier)
_LINE = str(BM.ligne)
_LINE_END = str(BM.ligneFin)

#: French labels of the reused vocabularies' terms the graph uses (their own files are not loaded)
FRENCH_LABELS: dict[str, str] = {
    f"{PREFIXES[p]}{local}": text
    for p, local, text in [
        ("rdf", "type", "type"),
        ("rdfs", "label", "libellé"),
        ("rdfs", "comment", "commentaire"),
        ("rdfs", "subClassOf", "sous-classe de"),
        ("rdfs", "subPropertyOf", "sous-propriété de"),
        ("rdfs", "domain", "domaine"),
        ("rdfs", "range", "portée"),
        ("rdfs", "isDefinedBy", "défini par"),
        ("rdfs", "seeAlso", "voir aussi"),
        ("skos", "prefLabel", "libellé préféré"),
        ("skos", "altLabel", "autre libellé"),
        ("skos", "notation", "code"),
        ("skos", "note", "note"),
        ("skos", "editorialNote", "note éditoriale"),
        ("skos", "definition", "définition"),
        ("skos", "inScheme", "dans le schéma"),
        ("skos", "topConceptOf", "concept de tête de"),
        ("skos", "hasTopConcept", "concept de tête"),
        ("skos", "broader", "plus générique"),
        ("skos", "narrower", "plus spécifique"),
        ("skos", "exactMatch", "correspondance exacte"),
        ("skos", "closeMatch", "correspondance proche"),
        ("skos", "broadMatch", "correspondance plus générique"),
        ("skos", "narrowMatch", "correspondance plus spécifique"),
        ("skos", "Concept", "concept"),
        ("skos", "ConceptScheme", "schéma de concepts"),
        ("prov", "wasDerivedFrom", "source"),
        ("prov", "Entity", "entité (PROV)"),
        ("dcterms", "isPartOf", "fait partie de"),
        ("dcterms", "hasPart", "comprend"),
        ("dcterms", "subject", "secteur"),
        ("dcterms", "type", "type"),
        ("dcterms", "title", "titre"),
        ("dcterms", "description", "description"),
        ("dcterms", "issued", "publié le"),
        ("dcterms", "source", "source"),
        ("dcterms", "license", "licence"),
        ("dcterms", "spatial", "territoire"),
        ("igeo", "codeINSEE", "code INSEE"),
        ("igeo", "nom", "nom INSEE"),
        ("igeo", "subdivisionDirecteDe", "subdivision de"),
        ("igeo", "territoireCommunAvec", "territoire commun avec"),
        ("igeo", "ZoneDEmploi2010", "zone d'emploi 2010"),
        ("igeo", "ZoneDEmploi2020", "zone d'emploi 2020"),
        ("igeo", "Commune", "commune"),
        ("igeo", "Departement", "département"),
        ("igeo", "Region", "région"),
        ("igeo", "TerritoireStatistique", "territoire statistique"),
        ("qb", "dataSet", "jeu de données"),
        ("qb", "structure", "structure"),
        ("qb", "Observation", "observation"),
        ("qb", "DataSet", "jeu de données statistiques"),
        ("qb", "DataStructureDefinition", "structure de jeu de données"),
        ("qb", "MeasureProperty", "mesure"),
        ("qb", "AttributeProperty", "attribut"),
        ("qb", "DimensionProperty", "dimension"),
        ("sdmx-dimension", "refArea", "territoire"),
        ("sdmx-dimension", "refPeriod", "période"),
        ("sdmx-dimension", "occupation", "métier"),
        ("sdmx-attribute", "obsStatus", "statut de l'observation"),
        ("org", "Organization", "organisation"),
        ("schema", "Place", "lieu"),
        ("foaf", "Document", "document"),
        ("dcat", "Dataset", "jeu de données"),
        ("owl", "Class", "classe"),
        ("owl", "ObjectProperty", "propriété (lien)"),
        ("owl", "DatatypeProperty", "propriété (valeur)"),
        ("owl", "Ontology", "ontologie"),
        ("owl", "versionInfo", "version"),
        ("owl", "disjointWith", "disjointe de"),
    ]
}

_YEAR = re.compile(r"^http://reference\.data\.gouv\.uk/id/year/(\d{4})$")
_QUARTER = re.compile(r"^http://reference\.data\.gouv\.uk/id/quarter/(\d{4})-Q([1-4])$")


# --- links and display -----------------------------------------------------------------------------
class Links:
    """Maps IRIs under the base to paths on this server, so links work on whatever host serves it."""

    def __init__(self, base: str, root_path: str = "") -> None:
        self.base = base if base.endswith("/") else base + "/"
        self.root = root_path.rstrip("/")
        self._ontologies = {ONTOLOGY, self.base + "def"}

    def local(self, iri: str) -> str | None:
        """The path of ``iri`` on this server, or None when it is not ours."""
        if iri.startswith(self.base + "id/"):
            return self.root + "/" + iri[len(self.base) :]
        for ontology in self._ontologies:
            if iri == ontology:
                return self.root + "/def"
            if iri.startswith(ontology + "#"):
                return self.root + "/def" + iri[len(ontology) :]
        return None

    def href(self, iri: str) -> str | None:
        """Where a link to ``iri`` goes: our page for it, or the IRI itself if it is a web address.

        Other schemes (``javascript:``, ``data:``, ``urn:``…) are not links: an IRI from data never
        becomes something a click could run.
        """
        local = self.local(iri)
        if local is not None:
            return local
        return iri if iri.startswith(("http://", "https://")) else None

    def iri(self, path: str) -> str:
        """``id/territoire/ze2010/3123`` -> ``<base>id/territoire/ze2010/3123``."""
        return self.base + path


@dataclass(frozen=True)
class Shown:
    """A term as a person sees it: text, optional link, the full IRI as a tooltip."""

    text: str
    href: str | None = None
    title: str | None = None
    lang: str | None = None
    numeric: bool = False


def prefixed(iri: str) -> str | None:
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns) :]}"
    return None


def fallback_label(iri: str) -> str:
    """A readable name for an IRI without a label in the graph."""
    if iri in FRENCH_LABELS:
        return FRENCH_LABELS[iri]
    year = _YEAR.match(iri)
    if year:
        return year.group(1)
    quarter = _QUARTER.match(iri)
    if quarter:
        number = quarter.group(2)
        return f"{number}{'er' if number == '1' else 'e'} trimestre {quarter.group(1)}"
    short = prefixed(iri)
    if short:
        return short
    tail = re.split(r"[/#]", iri.rstrip("/#"))[-1]
    return tail or iri


def format_number(lexical: str, datatype: str) -> str | None:
    """French form of a numeric literal ('1 234', '10,7', '-0,4'), or None if it is not a number."""
    if datatype not in {XSD + t for t in ("integer", "int", "long", "decimal", "double", "float")}:
        return None
    try:
        number = Decimal(lexical)
    except InvalidOperation:
        return None
    if datatype in (XSD + "double", XSD + "float"):
        text = f"{float(number):g}"
    else:
        text = format(number.normalize() if number == number.to_integral() else number, "f")
    whole, _, fraction = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    groups: list[str] = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    # a narrow no-break space between thousands, as French typography wants
    return sign + "\u202f".join(groups) + ("," + fraction if fraction else "")


def format_date(lexical: str) -> str:
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", lexical)
    if not match:
        return lexical
    year, month, day = match.groups()
    if not 1 <= int(month) <= 12:
        return lexical
    return f"{int(day)}{'er' if day == '01' else ''} {MONTHS[int(month) - 1]} {year}"


def number(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> float | None:
    if isinstance(term, ox.Literal):
        try:
            return float(term.value)
        except ValueError:
            return None
    return None


def text(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str:
    return "" if term is None else term.value


class Labels:
    """Best labels of IRIs, fetched in one query per batch (French first, then untagged, then English)."""

    def __init__(self, links: Links) -> None:
        self.links = links
        self._labels: dict[str, str] = {}

    def __contains__(self, iri: str) -> bool:
        return iri in self._labels

    async def fetch(self, service: SparqlService, iris: Iterable[str]) -> None:
        wanted = sorted({i for i in iris if i and i not in self._labels})
        if not wanted:
            return
        for start in range(0, len(wanted), 400):
            await self._fetch(service, wanted[start : start + 400])

    async def _fetch(self, service: SparqlService, batch: Sequence[str]) -> None:
        nodes = " ".join(str(ox.NamedNode(i)) for i in batch)
        props = " ".join(f"<{p}>" for p in (*_LABEL_PROPERTIES, _FILE, _LINE, _LINE_END))
        rows = await service.solutions(
            f"SELECT DISTINCT ?x ?p ?l WHERE {{ VALUES ?x {{ {nodes} }} VALUES ?p {{ {props} }} ?x ?p ?l }}"
        )
        found: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        files: dict[str, dict[str, str]] = defaultdict(dict)
        for row in rows:
            subject, prop, label = row.get("x"), row.get("p"), row.get("l")
            if not isinstance(subject, ox.NamedNode) or not isinstance(label, ox.Literal) or prop is None:
                continue
            if prop.value in (_FILE, _LINE, _LINE_END):
                files[subject.value][prop.value] = label.value
                continue
            lang = label.language or ""
            lang_rank = 0 if lang.startswith("fr") else 1 if lang == "" else 2 if lang == "en" else 3
            found[subject.value].append((lang_rank, _LABEL_PROPERTIES.index(prop.value), label.value))
        for iri, candidates in found.items():
            self._labels[iri] = min(candidates)[2]
        for iri, parts in files.items():
            if iri not in self._labels and _FILE in parts and _LINE in parts:
                self._labels[iri] = source_text(parts[_FILE], parts[_LINE], parts.get(_LINE_END))
        unlabelled = [i for i in batch if i not in self._labels]
        if unlabelled:
            await self._fetch_observations(service, unlabelled)

    async def _fetch_observations(self, service: SparqlService, batch: Sequence[str]) -> None:
        """Observations have no label: name them by data set, territory and occupation or period."""
        nodes = " ".join(str(ox.NamedNode(i)) for i in batch)
        rows = await service.solutions(
            f"""{_PREFIX_LINES}
SELECT ?x (SAMPLE(?d) AS ?ds) (SAMPLE(?a) AS ?area) (SAMPLE(?o) AS ?occ) (SAMPLE(?per) AS ?period) WHERE {{
  VALUES ?x {{ {nodes} }}
  ?x qb:dataSet ?set .
  OPTIONAL {{ ?set dcterms:title ?d FILTER(LANGMATCHES(LANG(?d), "fr")) }}
  OPTIONAL {{ ?x sdmx-dimension:refArea/skos:prefLabel ?a FILTER(LANGMATCHES(LANG(?a), "fr")) }}
  OPTIONAL {{ ?x sdmx-dimension:occupation/skos:prefLabel ?o FILTER(LANGMATCHES(LANG(?o), "fr")) }}
  OPTIONAL {{ ?x sdmx-dimension:refPeriod ?per }}
}} GROUP BY ?x"""
        )
        for row in rows:
            title = re.split(r" : | \(", text(row.get("ds")))[0]
            period = row.get("period")
            detail = text(row.get("occ")) or (fallback_label(period.value) if period is not None else "")
            parts = [p for p in (title or "Observation", text(row.get("area")), detail) if p]
            self._labels[text(row.get("x"))] = " – ".join(parts)

    def get(self, iri: str) -> str:
        return self._labels.get(iri) or fallback_label(iri)

    def show(self, term: ox.NamedNode | ox.BlankNode | ox.Literal | str | None) -> Shown:
        if term is None:
            return Shown("")
        if isinstance(term, str):
            term = ox.NamedNode(term)
        if isinstance(term, ox.NamedNode):
            return Shown(self.get(term.value), self.links.href(term.value), term.value)
        if isinstance(term, ox.BlankNode):
            return Shown(f"nœud anonyme {term.value}")
        datatype = term.datatype.value
        formatted = format_number(term.value, datatype)
        if formatted is not None:
            return Shown(formatted, numeric=True)
        if datatype == XSD + "date":
            return Shown(format_date(term.value))
        return Shown(term.value, lang=term.language)


def source_text(file: str, line: str, end: str | None = None) -> str:
    name = file.rsplit("/", 1)[-1]
    if end and end != line:
        return f"{name}, lignes {line}–{end}"
    return f"{name}, ligne {line}"


# --- the generic description -----------------------------------------------------------------------
@dataclass
class Property:
    predicate: Shown
    values: list[Shown]


@dataclass(frozen=True)
class Source:
    """Where a figure or an item comes from: a curated table line and, behind it, the deck's lines."""

    record: Shown
    file: str
    line: str
    deck: Shown | None = None
    deck_line: str | None = None
    deck_line_end: str | None = None
    page: str | None = None

    @property
    def deck_text(self) -> str | None:
        if self.deck_line is None:
            return None
        where = f"lignes {self.deck_line}–{self.deck_line_end}" if self.deck_line_end else None
        if where is None or self.deck_line_end == self.deck_line:
            where = f"ligne {self.deck_line}"
        page = f"p. {self.page}, " if self.page else ""
        return f"plaquette 2019, {page}{where}"


@dataclass
class Description:
    iri: str
    label: str
    types: list[str]
    type_labels: list[Shown]
    properties: list[Property]
    incoming: list[Property]
    incoming_truncated: bool
    sources: list[Source] = field(default_factory=list)

    def has_type(self, *iris: str) -> bool:
        return any(t in self.types for t in iris)


def node(iri: str) -> str:
    """``iri`` in N-Triples form, checked: the only way an IRI enters query text here."""
    return str(ox.NamedNode(iri))


def _predicate_order(predicate: str, label: str) -> tuple[int, str]:
    first = [RDF_TYPE, PREFIXES["skos"] + "prefLabel", PREFIXES["rdfs"] + "label"]
    if predicate in first:
        return (first.index(predicate), "")
    if predicate == PREFIXES["prov"] + "wasDerivedFrom":
        return (9, "")  # sources last
    return (5, label.lower())


async def describe(service: SparqlService, iri: str, labels: Labels) -> Description | None:
    """Outgoing triples and labelled incoming links of ``iri``; None when the graph never mentions it."""
    me = node(iri)
    rows = await service.solutions(
        f"""SELECT DISTINCT ?dir ?p ?o WHERE {{
  {{ {me} ?p ?o . BIND("out" AS ?dir) }}
  UNION
  {{ {{ SELECT DISTINCT ?p ?o WHERE {{ ?o ?p {me} }} LIMIT {INCOMING_CAP + 1} }} BIND("in" AS ?dir) }}
}}"""
    )
    if not rows:
        return None
    outgoing: dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]] = defaultdict(list)
    incoming: dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]] = defaultdict(list)
    for row in rows:
        predicate, value = row.get("p"), row.get("o")
        if predicate is None or value is None:
            continue
        target = outgoing if text(row.get("dir")) == "out" else incoming
        target[predicate.value].append(value)
    count_in = sum(len(v) for v in incoming.values())
    mentioned = {iri, *outgoing, *incoming}
    mentioned |= {v.value for vs in (*outgoing.values(), *incoming.values()) for v in vs if _is_iri(v)}
    await labels.fetch(service, mentioned)
    types = sorted(v.value for v in outgoing.get(RDF_TYPE, []) if _is_iri(v))
    sources = (await fetch_sources(service, [iri], labels)).get(iri, [])
    return Description(
        iri=iri,
        label=labels.get(iri),
        types=types,
        type_labels=[labels.show(t) for t in types],
        properties=_properties(outgoing, labels),
        incoming=_properties(incoming, labels),
        incoming_truncated=count_in > INCOMING_CAP,
        sources=sources,
    )


def _is_iri(term: object) -> bool:
    return isinstance(term, ox.NamedNode)


def _properties(
    table: dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]], labels: Labels
) -> list[Property]:
    result = []
    for predicate, values in table.items():
        shown = sorted((labels.show(v) for v in values), key=lambda s: (not s.numeric, s.text.lower()))
        result.append(Property(labels.show(predicate), shown))
    result.sort(key=lambda p: _predicate_order(p.predicate.title or "", p.predicate.text))
    return result


def construct_query(iri: str) -> str:
    """The RDF description served for ``iri``: its triples, and the labelled resources pointing to it."""
    me = node(iri)
    label = PREFIXES["rdfs"] + "label"
    return f"""CONSTRUCT {{ {me} ?p ?o . ?s ?q {me} . ?s <{label}> ?sl . }}
WHERE {{
  {{ {me} ?p ?o }}
  UNION
  {{ {{ SELECT DISTINCT ?s ?q WHERE {{ ?s ?q {me} }} LIMIT {INCOMING_CAP} }}
     OPTIONAL {{ ?s <{label}> ?sl }} }}
}}"""


async def exists(service: SparqlService, iri: str) -> bool:
    me = node(iri)
    rows = await service.solutions(f"SELECT ?x WHERE {{ {{ {me} ?p ?x }} UNION {{ ?x ?p {me} }} }} LIMIT 1")
    return bool(rows)


async def fetch_sources(
    service: SparqlService, iris: Iterable[str], labels: Labels
) -> dict[str, list[Source]]:
    """The source records (curated table line, then deck lines) of each of ``iris``."""
    wanted = sorted(set(iris))
    if not wanted:
        return {}
    values = " ".join(node(i) for i in wanted)
    rows = await service.solutions(
        f"""{_PREFIX_LINES}
SELECT DISTINCT ?x ?rec ?file ?line ?deck ?dline ?dend ?page WHERE {{
  VALUES ?x {{ {values} }}
  ?x prov:wasDerivedFrom ?rec . ?rec bm:fichier ?file ; bm:ligne ?line .
  OPTIONAL {{
    ?rec prov:wasDerivedFrom ?deck . ?deck bm:ligne ?dline .
    OPTIONAL {{ ?deck bm:ligneFin ?dend }}
    OPTIONAL {{ ?deck bm:page ?page }}
  }}
}} ORDER BY ?x ?file ?line"""
    )
    result: dict[str, list[Source]] = defaultdict(list)
    for row in rows:
        record, deck = row.get("rec"), row.get("deck")
        file, line = text(row.get("file")), text(row.get("line"))
        shown = Shown(source_text(file, line), labels.links.href(record.value) if record else None, file)
        deck_shown = None
        if isinstance(deck, ox.NamedNode):
            deck_shown = Shown("plaquette", labels.links.href(deck.value), deck.value)
        result[text(row.get("x"))].append(
            Source(
                record=shown,
                file=file,
                line=line,
                deck=deck_shown,
                deck_line=text(row.get("dline")) or None,
                deck_line_end=text(row.get("dend")) or None,
                page=text(row.get("page")) or None,
            )
        )
    return dict(result)


# --- territory ------------------------------------------------------------------------------------
SWOT_BOXES: tuple[tuple[str, str, str], ...] = (
    ("force", str(BM.Force), "Forces"),
    ("faiblesse", str(BM.Faiblesse), "Faiblesses"),
    ("opportunite", str(BM.Opportunite), "Opportunités"),
    ("menace", str(BM.Menace), "Menaces"),
)
SWOT_CLASSES = tuple(c for _, c, _ in SWOT_BOXES)


@dataclass(frozen=True)
class Segment:
    """A piece of an item's text: plain, or an actor's name linked to its page."""

    text: str
    href: str | None = None


@dataclass
class SwotItem:
    iri: str
    href: str | None
    category: str
    rank: int
    text: str
    segments: list[Segment]
    actors: list[Shown]
    subjects: list[Shown]
    sources: list[Source]


@dataclass
class SwotBox:
    key: str
    title: str
    items: list[SwotItem]


@dataclass
class Figure:
    """One number of a chart or key figure, with what it is about and where it comes from."""

    label: Shown
    value: float
    shown: str
    rank: int | None
    sources: list[Source]
    territory: Shown | None = None


@dataclass
class Unemployment:
    rate: Figure
    change: Figure | None
    period: str
    #: the period as ``2018-Q2`` when it is a quarter
    quarter: str | None = None


@dataclass(frozen=True)
class Overlap:
    """A territory of another zoning sharing communes with a zone (a ``bm:RecouvrementTerritorial``)."""

    iri: str
    territory: Shown
    kind: str
    code: str
    common: int | None
    #: share of the zone's communes that lie in the other territory (0–1)
    share: float
    #: share of the other territory's communes that lie in the zone (0–1), when the graph gives it
    share_back: float | None = None

    @property
    def share_text(self) -> str:
        return format_share(self.share)

    @property
    def share_back_text(self) -> str | None:
        return None if self.share_back is None else format_share(self.share_back)


@dataclass(frozen=True)
class SeriesPoint:
    """One quarter of the Urssaf series: seasonally adjusted and raw head counts, with the file line."""

    period: str
    label: str
    value: float | None
    shown: str
    raw: str
    sources: list[Source]


@dataclass
class EmploymentSeries:
    """Urssaf's private-sector employment in the 2020 zone that holds most of a 2010 zone's communes."""

    zone: Overlap
    points: list[SeriesPoint]
    dataset: Shown
    publisher: str
    licence: Shown
    #: the file and lines the points come from, e.g. "effectifs.csv, lignes 2–13"
    files: list[str]

    def at(self, period: str) -> SeriesPoint | None:
        return next((p for p in self.points if p.period == period), None)


@dataclass
class Employment:
    """What the territory page says about the Urssaf series: loaded or not, for which 2020 zone."""

    loaded: bool
    zone: Overlap | None
    series: EmploymentSeries | None


@dataclass
class TerritoryView:
    description: Description
    code: str
    boxes: list[SwotBox]
    projects: list[Figure]
    difficulties: list[Figure]
    unemployment: Unemployment | None
    overlaps: list[Overlap] = field(default_factory=list)
    employment: Employment | None = None


def link_actors(item_text: str, actors: Sequence[tuple[str, Shown]]) -> list[Segment]:
    """Split ``item_text`` so each actor name found in it becomes a link (case and apostrophes ignored)."""
    folded = _fold(item_text)
    spans: list[tuple[int, int, str]] = []
    for name, shown in actors:
        if not name or shown.href is None:
            continue
        start = folded.find(_fold(name))
        if start < 0:
            continue
        end = start + len(name)
        if all(end <= s or start >= e for s, e, _ in spans):
            spans.append((start, end, shown.href))
    spans.sort()
    segments: list[Segment] = []
    position = 0
    for start, end, href in spans:
        if start > position:
            segments.append(Segment(item_text[position:start]))
        segments.append(Segment(item_text[start:end], href))
        position = end
    if position < len(item_text):
        segments.append(Segment(item_text[position:]))
    return segments


def _fold(value: str) -> str:
    # same length as the input, so offsets found in the folded text apply to the original
    return value.lower().replace("’", "'")


async def swot_items(service: SparqlService, territory: str, labels: Labels) -> list[SwotItem]:
    classes = " ".join(node(c) for c in SWOT_CLASSES)
    rows = await service.solutions(
        f"""{_PREFIX_LINES}
SELECT DISTINCT ?item ?class ?rank ?text ?actor ?actorName ?subject WHERE {{
  VALUES ?class {{ {classes} }}
  ?item a ?class ; bm:territoire {node(territory)} ; rdfs:label ?text .
  OPTIONAL {{ ?item bm:rang ?rank }}
  OPTIONAL {{ ?item bm:mentionne ?actor .
             OPTIONAL {{ ?actor skos:prefLabel|skos:altLabel|rdfs:label ?actorName }} }}
  OPTIONAL {{ ?item dcterms:subject ?subject }}
}}"""
    )
    return await _items(service, rows, labels)


async def _items(service: SparqlService, rows: list[Row], labels: Labels) -> list[SwotItem]:
    by_item: dict[str, dict[str, object]] = {}
    names: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    subjects: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        item = text(row.get("item"))
        by_item.setdefault(
            item,
            {"class": text(row.get("class")), "rank": number(row.get("rank")), "text": text(row.get("text"))},
        )
        actor = row.get("actor")
        if isinstance(actor, ox.NamedNode):
            names[item][actor.value].add(text(row.get("actorName")))
        subject = row.get("subject")
        if isinstance(subject, ox.NamedNode):
            subjects[item].add(subject.value)
    all_actors = {a for per in names.values() for a in per}
    all_subjects = {s for per in subjects.values() for s in per}
    await labels.fetch(service, all_actors | all_subjects | {c for c in SWOT_CLASSES})
    sources = await fetch_sources(service, by_item, labels)
    items = []
    for item, entry in by_item.items():
        actors = sorted((labels.show(a) for a in names[item]), key=lambda s: s.text.lower())
        pairs = [
            (name, labels.show(actor))
            for actor, known in names[item].items()
            # longest names first, so 'Université d'Artois' wins over 'Artois'
            for name in sorted(known | {labels.get(actor)}, key=len, reverse=True)
        ]
        item_text = str(entry["text"])
        rank = entry["rank"]
        items.append(
            SwotItem(
                iri=item,
                href=labels.links.href(item),
                category=str(entry["class"]),
                rank=int(rank) if isinstance(rank, float) else 0,
                text=item_text,
                segments=link_actors(item_text, pairs),
                actors=actors,
                subjects=sorted((labels.show(s) for s in subjects[item]), key=lambda s: s.text.lower()),
                sources=sources.get(item, []),
            )
        )
    items.sort(key=lambda i: (SWOT_CLASSES.index(i.category) if i.category in SWOT_CLASSES else 9, i.rank))
    return items


def boxes(items: Sequence[SwotItem]) -> list[SwotBox]:
    return [SwotBox(key, title, [i for i in items if i.category == cls]) for key, cls, title in SWOT_BOXES]


async def figures(
    service: SparqlService,
    labels: Labels,
    measure: str,
    *,
    dataset: str,
    territory: str | None = None,
    occupation: str | None = None,
    unit: str = "",
) -> list[Figure]:
    """Observations of ``dataset`` for a territory (by occupation) or an occupation (by territory)."""
    fixed = ""
    if territory:
        fixed += f"VALUES ?area {{ {node(territory)} }}\n"
    if occupation:
        fixed += f"VALUES ?job {{ {node(occupation)} }}\n"
    rows = await service.solutions(
        f"""{_PREFIX_LINES}
SELECT DISTINCT ?obs ?area ?job ?value ?rank WHERE {{
  {fixed}
  ?obs qb:dataSet {node(dataset)} ; sdmx-dimension:refArea ?area ;
       sdmx-dimension:occupation ?job ; {node(measure)} ?value .
  OPTIONAL {{ ?obs bm:rang ?rank }}
}}"""
    )
    about = [text(r.get("job")) if territory else text(r.get("area")) for r in rows]
    areas = [text(r.get("area")) for r in rows]
    await labels.fetch(service, about + areas)
    sources = await fetch_sources(service, (text(r.get("obs")) for r in rows), labels)
    result = []
    for row, subject in zip(rows, about, strict=True):
        value = number(row.get("value"))
        if value is None:
            continue
        rank = number(row.get("rank"))
        shown = labels.show(row.get("value")).text + unit
        result.append(
            Figure(
                label=labels.show(subject),
                value=value,
                shown=shown,
                rank=int(rank) if rank is not None else None,
                sources=sources.get(text(row.get("obs")), []),
                territory=labels.show(text(row.get("area"))),
            )
        )
    result.sort(key=lambda f: (f.rank if f.rank is not None else 99, -f.value, f.label.text))
    return result


async def unemployment(service: SparqlService, territory: str, labels: Labels) -> Unemployment | None:
    rows = await service.solutions(
        f"""{_PREFIX_LINES}
SELECT ?obs ?rate ?change ?period WHERE {{
  ?obs sdmx-dimension:refArea {node(territory)} ; bm:tauxChomage ?rate .
  OPTIONAL {{ ?obs sdmx-dimension:refPeriod ?period }}
  OPTIONAL {{ ?obs bm:evolutionTauxChomage1An ?change }}
}} ORDER BY DESC(STR(?period)) LIMIT 1"""
    )
    if not rows:
        return None
    row = rows[0]
    rate = number(row.get("rate"))
    if rate is None:
        return None
    obs = text(row.get("obs"))
    sources = (await fetch_sources(service, [obs], labels)).get(obs, [])
    period = row.get("period")
    period_text = labels.get(period.value) if isinstance(period, ox.NamedNode) else ""
    rate_figure = Figure(
        Shown("taux de chômage"), rate, labels.show(row.get("rate")).text + " %", None, sources
    )
    change = None
    change_value = number(row.get("change"))
    if change_value is not None:
        shown = labels.show(row.get("change")).text
        if change_value > 0:
            shown = "+" + shown
        change = Figure(Shown("évolution sur un an"), change_value, shown + " point", None, sources)
    quarter = _QUARTER.match(period.value) if isinstance(period, ox.NamedNode) else None
    quarter_key = f"{quarter.group(1)}-Q{quarter.group(2)}" if quarter else None
    return Unemployment(rate_figure, change, period_text, quarter_key)


def datasets(base: str) -> tuple[str, str]:
    iris = Iris(base)
    return str(iris.dataset("deck-projets-recrutement")), str(iris.dataset("deck-difficultes-recrutement"))


async def territory_view(
    service: SparqlService, description: Description, labels: Labels, base: str
) -> TerritoryView:
    projects_ds, difficulties_ds = datasets(base)
    iri = description.iri
    items = await swot_items(service, iri, labels)
    projects = await figures(service, labels, str(BM.projetsRecrutement), dataset=projects_ds, territory=iri)
    hard = await figures(
        service, labels, str(BM.partProjetsDifficiles), dataset=difficulties_ds, territory=iri, unit=" %"
    )
    zones = await overlaps(service, iri, labels)
    return TerritoryView(
        description=description,
        code=iri.rstrip("/").rsplit("/", 1)[-1],
        boxes=boxes(items),
        projects=projects,
        difficulties=hard,
        unemployment=await unemployment(service, iri, labels),
        overlaps=zones,
        employment=await employment(service, zones, labels),
    )


# --- overlaps with other zonings, and the Urssaf employment series -----------------------------------
ZONE_KINDS: dict[str, str] = {
    "http://rdf.insee.fr/def/geo#ZoneDEmploi2020": "zone d'emploi 2020",
    "http://rdf.insee.fr/def/geo#ZoneDEmploi2010": "zone d'emploi 2010",
    str(BM.BassinEmploiBMO): "bassin d'emploi BMO",
}
ZE2020 = "http://rdf.insee.fr/def/geo#ZoneDEmploi2020"
#: the Data Cube structure of the Urssaf export loaded by ``bassin-kg ingest acoss``
ACOSS_STRUCTURE = str(BM["dsd-acoss-effectifs-ze"])
#: licences by their usual short name (their IRIs carry no label in the graph)
LICENCE_NAMES = {
    "https://opendatacommons.org/licenses/odbl/1-0/": "ODbL 1.0",
    "https://www.etalab.gouv.fr/licence-ouverte-open-licence/": "Licence Ouverte 2.0",
}


def format_share(share: float) -> str:
    """A share (0–1) as a whole French percentage; a non-zero share under 0.5 % is '< 1 %'."""
    percent = round(share * 100)
    if percent == 0 and share > 0:
        return "< 1\u202f%"
    return f"{percent}\u202f%"


async def overlaps(service: SparqlService, territory: str, labels: Labels) -> list[Overlap]:
    """The territories of other zonings sharing communes with ``territory``, 2020 zones first."""
    kinds = " ".join(node(k) for k in ZONE_KINDS)
    me = node(territory)
    rows = await service.solutions(
        f"""{_PREFIX_LINES}
SELECT DISTINCT ?other ?kind ?share ?common ?back ?code WHERE {{
  ?overlap bm:territoireSource {me} ; bm:territoireCible ?other ; bm:partCommunes ?share .
  OPTIONAL {{ ?overlap bm:nombreCommunesCommunes ?common }}
  OPTIONAL {{ ?reverse bm:territoireSource ?other ; bm:territoireCible {me} ; bm:partCommunes ?back }}
  OPTIONAL {{ VALUES ?kind {{ {kinds} }} ?other a ?kind }}
  OPTIONAL {{ ?other igeo:codeINSEE|skos:notation ?code }}
}}"""
    )
    found: dict[str, Overlap] = {}
    for row in rows:
        other, share = text(row.get("other")), number(row.get("share"))
        if not other or share is None or other in found:
            continue
        common = number(row.get("common"))
        kind = row.get("kind")
        found[other] = Overlap(
            iri=other,
            territory=Shown(other),  # labelled below, in one query for all
            kind=ZONE_KINDS.get(kind.value, "territoire") if kind is not None else "territoire",
            code=text(row.get("code")) or other.rsplit("/", 1)[-1],
            common=int(common) if common is not None else None,
            share=share,
            share_back=number(row.get("back")),
        )
    await labels.fetch(service, found)
    order = list(ZONE_KINDS.values())
    result = [
        Overlap(o.iri, labels.show(o.iri), o.kind, o.code, o.common, o.share, o.share_back)
        for o in found.values()
    ]
    result.sort(key=lambda o: (order.index(o.kind) if o.kind in order else 9, -o.share, o.territory.text))
    return result


def main_zone(zones: Sequence[Overlap]) -> Overlap | None:
    """The 2020 zone holding most of the zone's communes (more than half), if there is one."""
    candidates = [z for z in zones if z.kind == ZONE_KINDS[ZE2020] and z.share > 0.5]
    return max(candidates, key=lambda z: z.share, default=None)


def line_ranges(sources: Iterable[Source]) -> list[str]:
    """'file, lignes 2–13' for each file the sources cite (first to last line)."""
    lines: dict[str, list[int]] = defaultdict(list)
    for src in sources:
        if src.line.isdigit():
            lines[src.file].append(int(src.line))
    ranges = []
    for file, numbers in sorted(lines.items()):
        first, last = min(numbers), max(numbers)
        ranges.append(f"{file}, ligne {first}" if first == last else f"{file}, lignes {first}–{last}")
    return ranges


async def employment(service: SparqlService, zones: Sequence[Overlap], labels: Labels) -> Employment:
    """The Urssaf series (``bassin-kg ingest acoss``) of the zone's main 2020 zone, when loaded."""
    zone = main_zone(zones)
    series = await employment_series(service, zone, labels) if zone is not None else None
    if series is not None:
        return Employment(True, zone, series)
    rows = await service.solutions(
        f"SELECT ?ds WHERE {{ ?ds <{QB}structure> {node(ACOSS_STRUCTURE)} }} LIMIT 1"
    )
    return Employment(bool(rows), zone, None)


async def employment_series(service: SparqlService, zone: Overlap, labels: Labels) -> EmploymentSeries | None:
    rows = await service.solutions(
        f"""{_PREFIX_LINES}
SELECT DISTINCT ?obs ?ds ?period ?cvs ?raw WHERE {{
  ?obs qb:dataSet ?ds ; sdmx-dimension:refArea {node(zone.iri)} ; sdmx-dimension:refPeriod ?period .
  ?ds qb:structure {node(ACOSS_STRUCTURE)} .
  OPTIONAL {{ ?obs bm:effectifsSalariesCvs ?cvs }}
  OPTIONAL {{ ?obs bm:effectifsSalariesBrut ?raw }}
}}"""
    )
    by_period: dict[str, Row] = {}
    for row in rows:
        match = _QUARTER.match(text(row.get("period")))
        if match:
            by_period.setdefault(f"{match.group(1)}-Q{match.group(2)}", row)
    if not by_period:
        return None
    observations = [text(r.get("obs")) for r in by_period.values()]
    sources = await fetch_sources(service, observations, labels)
    points = []
    for period, row in sorted(by_period.items()):
        cvs, raw = row.get("cvs"), row.get("raw")
        points.append(
            SeriesPoint(
                period=period,
                label=fallback_label(text(row.get("period"))),
                value=number(cvs),
                shown=labels.show(cvs).text if cvs is not None else "",
                raw=labels.show(raw).text if raw is not None else "",
                sources=sources.get(text(row.get("obs")), []),
            )
        )
    dataset = text(next(iter(by_period.values())).get("ds"))
    about = await service.solutions(
        f"""{_PREFIX_LINES}
SELECT ?publisher ?licence WHERE {{
  OPTIONAL {{ {node(dataset)} dcterms:publisher ?publisher }}
  OPTIONAL {{ {node(dataset)} dcterms:license ?licence }}
}} LIMIT 1"""
    )
    await labels.fetch(service, [dataset])
    publisher = text(about[0].get("publisher")) if about else ""
    licence_iri = text(about[0].get("licence")) if about else ""
    licence = Shown(
        LICENCE_NAMES.get(licence_iri, licence_iri or "non précisée"),
        labels.links.href(licence_iri) if licence_iri else None,
        licence_iri or None,
    )
    return EmploymentSeries(
        zone=zone,
        points=points,
        dataset=labels.show(dataset),
        publisher=publisher or "Urssaf",
        licence=licence,
        files=line_ranges(s for p in points for s in p.sources),
    )


# --- occupation -----------------------------------------------------------------------------------
@dataclass
class Code:
    scheme: str
    code: str
    relation: str
    concept: Shown


@dataclass
class OccupationView:
    description: Description
    projects: list[Figure]
    difficulties: list[Figure]
    fap: list[Code]
    rome: list[Code]


_MATCHES = ("exactMatch", "narrowMatch", "closeMatch", "broadMatch")


async def occupation_view(
    service: SparqlService, description: Description, labels: Labels, base: str
) -> OccupationView:
    projects_ds, difficulties_ds = datasets(base)
    iri = description.iri
    projects = await figures(service, labels, str(BM.projetsRecrutement), dataset=projects_ds, occupation=iri)
    hard = await figures(
        service, labels, str(BM.partProjetsDifficiles), dataset=difficulties_ds, occupation=iri, unit=" %"
    )
    iris = Iris(base)
    fap_prefix, rome_prefix = str(iris.fap2009("")), str(iris.rome(""))
    matches = " ".join(f"skos:{m}" for m in _MATCHES)
    rows = await service.solutions(
        f"""{_PREFIX_LINES}
SELECT DISTINCT ?fap ?rel ?fapCode ?rome ?romeRel ?romeCode WHERE {{
  VALUES ?rel {{ {matches} }}
  {node(iri)} ?rel ?fap .
  FILTER(STRSTARTS(STR(?fap), "{fap_prefix}"))
  OPTIONAL {{ ?fap skos:notation ?fapCode }}
  OPTIONAL {{
    VALUES ?romeRel {{ {matches} }}
    ?fap ?romeRel ?rome .
    FILTER(STRSTARTS(STR(?rome), "{rome_prefix}") && !CONTAINS(STR(?rome), "/appellation/"))
    OPTIONAL {{ ?rome skos:notation ?romeCode }}
  }}
}}"""
    )
    await labels.fetch(service, [text(r.get("fap")) for r in rows] + [text(r.get("rome")) for r in rows])
    fap: dict[str, Code] = {}
    rome: dict[str, Code] = {}
    for row in rows:
        fap_iri = text(row.get("fap"))
        code = text(row.get("fapCode")) or fap_iri.rsplit("/", 1)[-1]
        relation = FRENCH_LABELS.get(text(row.get("rel")), "")
        fap.setdefault(fap_iri, Code("FAP-2009", code, relation, labels.show(fap_iri)))
        rome_iri = row.get("rome")
        if isinstance(rome_iri, ox.NamedNode):
            rome_code = text(row.get("romeCode")) or rome_iri.value.rsplit("/", 1)[-1]
            rome.setdefault(
                rome_iri.value,
                Code("ROME", rome_code, f"via FAP {code}", labels.show(rome_iri.value)),
            )
    return OccupationView(
        description=description,
        projects=projects,
        difficulties=hard,
        fap=sorted(fap.values(), key=lambda c: c.code),
        rome=sorted(rome.values(), key=lambda c: c.code),
    )


# --- actor, SWOT item -------------------------------------------------------------------------------
@dataclass
class ActorView:
    description: Description
    kind: list[Shown]
    items: list[SwotItem]
    territories: list[Shown]


async def items_mentioning(service: SparqlService, actor: str, labels: Labels) -> list[SwotItem]:
    classes = " ".join(node(c) for c in SWOT_CLASSES)
    rows = await service.solutions(
        f"""{_PREFIX_LINES}
SELECT DISTINCT ?item ?class ?rank ?text ?actor ?actorName ?subject ?territory WHERE {{
  VALUES ?class {{ {classes} }}
  ?item bm:mentionne {node(actor)} ; a ?class ; rdfs:label ?text .
  OPTIONAL {{ ?item bm:rang ?rank }}
  OPTIONAL {{ ?item bm:territoire ?territory }}
  OPTIONAL {{ ?item bm:mentionne ?actor .
             OPTIONAL {{ ?actor skos:prefLabel|skos:altLabel|rdfs:label ?actorName }} }}
  OPTIONAL {{ ?item dcterms:subject ?subject }}
}}"""
    )
    return await _items(service, rows, labels)


async def actor_view(service: SparqlService, description: Description, labels: Labels) -> ActorView:
    iri = description.iri
    items = await items_mentioning(service, iri, labels)
    rows = await service.solutions(
        f"""{_PREFIX_LINES}
SELECT DISTINCT ?territory ?kind WHERE {{
  {{ ?item bm:mentionne {node(iri)} ; bm:territoire ?territory }}
  UNION {{ {node(iri)} dcterms:type ?kind }}
}}"""
    )
    territories = sorted({text(r.get("territory")) for r in rows if r.get("territory") is not None})
    kinds = sorted({text(r.get("kind")) for r in rows if r.get("kind") is not None})
    await labels.fetch(service, territories + kinds)
    return ActorView(
        description=description,
        kind=[labels.show(k) for k in kinds],
        items=items,
        territories=sorted((labels.show(t) for t in territories), key=lambda s: s.text),
    )


@dataclass
class SwotItemView:
    description: Description
    item: SwotItem | None
    box: str
    territory: Shown | None


async def swot_item_view(service: SparqlService, description: Description, labels: Labels) -> SwotItemView:
    iri = description.iri
    rows = await service.solutions(
        f"""{_PREFIX_LINES}
SELECT DISTINCT ?item ?class ?rank ?text ?actor ?actorName ?subject ?territory WHERE {{
  VALUES ?item {{ {node(iri)} }}
  VALUES ?class {{ {" ".join(node(c) for c in SWOT_CLASSES)} }}
  ?item a ?class ; rdfs:label ?text .
  OPTIONAL {{ ?item bm:rang ?rank }}
  OPTIONAL {{ ?item bm:territoire ?territory }}
  OPTIONAL {{ ?item bm:mentionne ?actor .
             OPTIONAL {{ ?actor skos:prefLabel|skos:altLabel|rdfs:label ?actorName }} }}
  OPTIONAL {{ ?item dcterms:subject ?subject }}
}}"""
    )
    items = await _items(service, rows, labels)
    territory = next((text(r.get("territory")) for r in rows if r.get("territory") is not None), None)
    if territory:
        await labels.fetch(service, [territory])
    item = items[0] if items else None
    box = next((title for _, cls, title in SWOT_BOXES if item and item.category == cls), "")
    return SwotItemView(description, item, box, labels.show(territory) if territory else None)


# --- home ---------------------------------------------------------------------------------------------
@dataclass
class TerritoryCard:
    territory: Shown
    code: str
    counts: list[tuple[str, str, int]]
    unemployment: Unemployment | None
    top_project: Figure | None
    top_difficulty: Figure | None


async def home_view(service: SparqlService, labels: Labels, base: str) -> list[TerritoryCard]:
    """The employment zones the deck describes (those with SWOT items), side by side."""
    classes = " ".join(node(c) for c in SWOT_CLASSES)
    rows = await service.solutions(
        f"""{_PREFIX_LINES}
SELECT ?territory ?class (COUNT(DISTINCT ?item) AS ?n) WHERE {{
  VALUES ?class {{ {classes} }}
  ?item a ?class ; bm:territoire ?territory .
  ?territory a igeo:ZoneDEmploi2010 .
}} GROUP BY ?territory ?class"""
    )
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        value = number(row.get("n"))
        counts[text(row.get("territory"))][text(row.get("class"))] = int(value or 0)
    await labels.fetch(service, counts)
    projects_ds, difficulties_ds = datasets(base)
    cards = []
    for territory in counts:
        projects = await figures(
            service, labels, str(BM.projetsRecrutement), dataset=projects_ds, territory=territory
        )
        hard = await figures(
            service,
            labels,
            str(BM.partProjetsDifficiles),
            dataset=difficulties_ds,
            territory=territory,
            unit=" %",
        )
        cards.append(
            TerritoryCard(
                territory=labels.show(territory),
                code=territory.rsplit("/", 1)[-1],
                counts=[(key, title, counts[territory].get(cls, 0)) for key, cls, title in SWOT_BOXES],
                unemployment=await unemployment(service, territory, labels),
                top_project=projects[0] if projects else None,
                top_difficulty=hard[0] if hard else None,
            )
        )
    # west to east, as on the deck's map: Béthune-Bruay, Lens-Hénin, Douaisis, Valenciennois
    order = ["3123", "3122", "3114", "3115"]
    cards.sort(key=lambda c: (order.index(c.code) if c.code in order else 9, c.territory.text))
    return cards


# --- the ontology -------------------------------------------------------------------------------------
@dataclass
class Term:
    iri: str
    anchor: str
    kinds: list[Shown]
    label_fr: str
    label_en: str
    comment_fr: str
    comment_en: str
    parents: list[Shown]
    domains: list[Shown]
    ranges: list[Shown]


@dataclass
class OntologyView:
    title: str
    description: str
    version: str
    classes: list[Term]
    properties: list[Term]
    others: list[Term]


async def ontology_view(service: SparqlService, labels: Labels, graph: str) -> OntologyView:
    """Every term of the ontology's named graph with its labels, comments, domains and ranges."""
    rows = await service.solutions(
        f"""{_PREFIX_LINES}
SELECT ?term ?p ?o WHERE {{
  GRAPH {node(graph)} {{
    ?term ?p ?o .
    VALUES ?p {{ rdf:type rdfs:label rdfs:comment rdfs:subClassOf rdfs:subPropertyOf rdfs:domain rdfs:range
               dcterms:title dcterms:description owl:versionInfo }}
  }}
}}"""
    )
    data: dict[str, dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in rows:
        term, prop, value = row.get("term"), row.get("p"), row.get("o")
        if isinstance(term, ox.NamedNode) and prop is not None and value is not None:
            data[term.value][prop.value].append(value)
    await labels.fetch(
        service, {v.value for props in data.values() for vs in props.values() for v in vs if _is_iri(v)}
    )
    await labels.fetch(service, data)

    def literal(values: list[ox.NamedNode | ox.BlankNode | ox.Literal], lang: str) -> str:
        return next((v.value for v in values if isinstance(v, ox.Literal) and v.language == lang), "")

    def shown(values: list[ox.NamedNode | ox.BlankNode | ox.Literal]) -> list[Shown]:
        return sorted((labels.show(v) for v in values if _is_iri(v)), key=lambda s: s.text.lower())

    rdfs, owl = PREFIXES["rdfs"], PREFIXES["owl"]
    head = data.get(ONTOLOGY, {})
    classes: list[Term] = []
    properties: list[Term] = []
    others: list[Term] = []
    for iri, props in data.items():
        if iri == ONTOLOGY or not iri.startswith(ONTOLOGY + "#"):
            continue
        types = {v.value for v in props.get(RDF_TYPE, [])}
        entry = Term(
            iri=iri,
            anchor=iri[len(ONTOLOGY) + 1 :],
            kinds=shown(props.get(RDF_TYPE, [])),
            label_fr=literal(props.get(rdfs + "label", []), "fr"),
            label_en=literal(props.get(rdfs + "label", []), "en"),
            comment_fr=literal(props.get(rdfs + "comment", []), "fr"),
            comment_en=literal(props.get(rdfs + "comment", []), "en"),
            parents=shown(props.get(rdfs + "subClassOf", []) + props.get(rdfs + "subPropertyOf", [])),
            domains=shown(props.get(rdfs + "domain", [])),
            ranges=shown(props.get(rdfs + "range", [])),
        )
        if owl + "Class" in types:
            classes.append(entry)
        elif types & {owl + "ObjectProperty", owl + "DatatypeProperty", PREFIXES["rdf"] + "Property"}:
            properties.append(entry)
        else:
            others.append(entry)
    for terms in (classes, properties, others):
        terms.sort(key=lambda t: t.anchor.lower())
    pref = PREFIXES["dcterms"]
    return OntologyView(
        title=literal(head.get(pref + "title", []), "fr") or "Ontologie",
        description=literal(head.get(pref + "description", []), "fr"),
        version=next((v.value for v in head.get(owl + "versionInfo", [])), ""),
        classes=classes,
        properties=properties,
        others=others,
    )
