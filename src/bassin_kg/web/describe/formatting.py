"""French display of terms: labels of reused vocabularies, numbers, dates, shares, source lines."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from bassin_kg.french import MONTHS
from bassin_kg.namespaces import PREFIXES
from bassin_kg.web.describe.rows import XSD

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
        ("dcterms", "type", "catégorie"),
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

YEAR = re.compile(r"^http://reference\.data\.gouv\.uk/id/year/(\d{4})$")
QUARTER = re.compile(r"^http://reference\.data\.gouv\.uk/id/quarter/(\d{4})-Q([1-4])$")


def prefixed(iri: str) -> str | None:
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns) :]}"
    return None


def fallback_label(iri: str) -> str:
    """A readable name for an IRI without a label in the graph."""
    if iri in FRENCH_LABELS:
        return FRENCH_LABELS[iri]
    year = YEAR.match(iri)
    if year:
        return year.group(1)
    quarter = QUARTER.match(iri)
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


def source_text(file: str, line: str, end: str | None = None) -> str:
    name = file.rsplit("/", 1)[-1]
    if end and end != line:
        return f"{name}, lignes {line}–{end}"
    return f"{name}, ligne {line}"


def format_share(share: float) -> str:
    """A share (0–1) as a whole French percentage; a non-zero share under 0.5 % is '< 1 %'."""
    percent = round(share * 100)
    if percent == 0 and share > 0:
        return "< 1\u202f%"
    return f"{percent}\u202f%"
