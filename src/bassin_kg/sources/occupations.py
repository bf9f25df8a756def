"""Occupation classifications as SKOS: FAP-2009, FAP-2021, ROME v3, and the mappings between them and ESCO.

Reads the tables of ``data/reference/`` (origin and mapping rules in its README). One named graph per
scheme or mapping: ``fap2009``, ``fap2021``, ``rome``, ``esco-mapping``, ``fap2009-rome``,
``fap2009-fap2021``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import PROV, RDF, RDFS, SKOS, XSD

from bassin_kg.errors import DataError
from bassin_kg.namespaces import BM, ESCO, XKOS
from bassin_kg.sources.base import CatalogueEntry, ConvertContext, GraphPart, Source, fixed_entry, new_graph
from bassin_kg.sources.common import read_reference, reference_record_iris, reference_records

FAP2009_LABELS = "fap2009_intitules.csv"
FAP2021_LABELS = "fap2021_intitules.csv"
ROME_V3 = "rome_v3_codes_v346.csv"
ROME_V4 = "rome_v4_referentiel_code_rome_v460_utf8.csv"
PASSAGE = "fap2009_rome_v3_passage_dares.csv"
ESCO_EXTRACT = "esco_rome_mapping_extract_bmo_targets.csv"

#: FAP-2009 levels in the order of the file, with their depth (the file gives no group -> domain link)
FAP2009_LEVELS = {"grand_groupe_4": 1, "domaine_22": 2, "fap_87": 3, "fap_225": 4}
#: FAP-2021 level columns, broadest first
FAP2021_LEVELS = ("FAP22", "FAP86", "FAP228", "FAP341")

SKOS_RELATIONS = {
    "skos:exactMatch": SKOS.exactMatch,
    "skos:closeMatch": SKOS.closeMatch,
    "skos:broadMatch": SKOS.broadMatch,
    "skos:narrowMatch": SKOS.narrowMatch,
}
#: each mapping relation and the one that states it from the other side (SKOS reference, section 10)
INVERSE: dict[URIRef, URIRef] = {
    SKOS.exactMatch: SKOS.exactMatch,
    SKOS.closeMatch: SKOS.closeMatch,
    SKOS.relatedMatch: SKOS.relatedMatch,
    SKOS.broadMatch: SKOS.narrowMatch,
    SKOS.narrowMatch: SKOS.broadMatch,
}

# mapping methods (individuals of bm:MethodeCorrespondance, defined in ontology/bassin.ttl)
METHOD_DARES_DIRECT = BM["methode-dares-direct"]
METHOD_DARES_QUALIFICATION = BM["methode-dares-qualification"]
METHOD_CODE_AND_LABEL = BM["methode-meme-code-meme-libelle"]
METHOD_CODE_AND_LABEL_NO_STATUS = BM["methode-meme-code-libelle-sans-statut"]
METHOD_LABEL = BM["methode-meme-libelle"]
METHOD_CODE_ONLY = BM["methode-meme-code"]

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# FAP-2009 splits employees from the self-employed; FAP-2021 labels drop the status word
_STATUS = re.compile(r"\b(salaries|independants)\b")


def normalise_label(text: str) -> str:
    """Compare labels without accents, case, punctuation or 'œ' ligatures."""
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("’", "'")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub(" ", ascii_text.lower()).strip()


def _without_status(label: str) -> str:
    return " ".join(_STATUS.sub(" ", label).split())


def fap2021_code_for(code_2009: str) -> str:
    """The FAP-2021 spelling of a FAP-2009 code: the third character Z became X (T2A60 stays T2A60)."""
    return code_2009[:2] + "X" + code_2009[3:] if len(code_2009) >= 3 and code_2009[2] == "Z" else code_2009


@dataclass
class _Scheme:
    """A concept scheme being written: concept IRIs by code, to check links point to known codes."""

    iri: URIRef
    concepts: dict[str, URIRef] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    #: line of the reference file each code was first read from
    lines: dict[str, int] = field(default_factory=dict)
    #: level key of each code (FAP-2009 only)
    levels: dict[str, str] = field(default_factory=dict)


def _scheme_header(graph: Graph, iri: URIRef, label_fr: str, label_en: str, levels: list[URIRef]) -> None:
    graph.add((iri, RDF.type, SKOS.ConceptScheme))
    graph.add((iri, SKOS.prefLabel, Literal(label_fr, lang="fr")))
    graph.add((iri, SKOS.prefLabel, Literal(label_en, lang="en")))
    graph.add((iri, RDFS.label, Literal(label_fr, lang="fr")))
    if levels:
        graph.add((iri, XKOS.numberOfLevels, Literal(len(levels), datatype=XSD.integer)))
        head = URIRef(str(iri) + "/niveaux")
        Collection(graph, head, list(levels))
        graph.add((iri, XKOS.levels, head))


def _level(graph: Graph, scheme: URIRef, key: str, depth: int, label: str) -> URIRef:
    iri = URIRef(f"{scheme}/niveau/{key}")
    graph.add((iri, RDF.type, XKOS.ClassificationLevel))
    graph.add((iri, XKOS.depth, Literal(depth, datatype=XSD.integer)))
    graph.add((iri, SKOS.prefLabel, Literal(label, lang="fr")))
    graph.add((iri, SKOS.inScheme, scheme))
    return iri


def _concept(
    graph: Graph, iri: URIRef, scheme: URIRef, code: str, label: str, source: URIRef, level: URIRef | None
) -> None:
    graph.add((iri, RDF.type, SKOS.Concept))
    graph.add((iri, SKOS.inScheme, scheme))
    graph.add((iri, SKOS.notation, Literal(code)))
    graph.add((iri, SKOS.prefLabel, Literal(label, lang="fr")))
    graph.add((iri, PROV.wasDerivedFrom, source))
    if level is not None:
        graph.add((level, SKOS.member, iri))


def convert_fap2009(ctx: ConvertContext) -> tuple[GraphPart, _Scheme]:
    """FAP-2009: 4 groups, 22 domains, 87 families, 225 detailed families (the BMO 2018 codes)."""
    graph = new_graph()
    iris = ctx.iris
    scheme = _Scheme(iris.scheme("fap2009"))
    levels = {
        key: _level(graph, scheme.iri, key.replace("_", "-"), depth, f"FAP-2009, niveau {key}")
        for key, depth in FAP2009_LEVELS.items()
    }
    _scheme_header(
        graph,
        scheme.iri,
        "Familles professionnelles FAP-2009 (DARES)",
        "FAP-2009 occupational families (DARES)",
        list(levels.values()),
    )
    table = read_reference(ctx.data_dir, FAP2009_LABELS, ["code_fap2009", "niveau", "libelle", "parent"])
    records = reference_records(graph, iris, FAP2009_LABELS)
    parents: list[tuple[int, str, str]] = []
    for row in table:
        code, level, label = row.text("code_fap2009"), row.text("niveau"), row.text("libelle")
        if level not in levels:
            raise row.error(
                "unknown FAP-2009 level",
                field="niveau",
                value=level,
                hint=f"expected one of {', '.join(levels)}",
            )
        iri = iris.fap2009(code)
        _concept(graph, iri, scheme.iri, code, label, records(row.line), levels[level])
        scheme.concepts[code] = iri
        scheme.labels[code] = label
        scheme.lines[code] = row.line
        scheme.levels[code] = level
        if row.text("parent"):
            parents.append((row.line, code, row.text("parent")))
        else:
            graph.add((iri, SKOS.topConceptOf, scheme.iri))
            graph.add((scheme.iri, SKOS.hasTopConcept, iri))
    for line, code, parent in parents:
        if parent not in scheme.concepts:
            raise DataError(
                "parent code is not in the file", file=table.file, line=line, field="parent", value=parent
            )
        graph.add((scheme.concepts[code], SKOS.broader, scheme.concepts[parent]))
    return GraphPart("fap2009", graph, [f"data/reference/{FAP2009_LABELS}"]), scheme


def convert_fap2021(ctx: ConvertContext) -> tuple[GraphPart, _Scheme]:
    """FAP-2021: 22 domains, 86, 228 (the BMO 2024 codes) and 341 families; one concept per distinct code."""
    graph = new_graph()
    iris = ctx.iris
    scheme = _Scheme(iris.scheme("fap2021"))
    levels = {
        key: _level(graph, scheme.iri, key.lower(), depth, f"FAP-2021, niveau {key}")
        for depth, key in enumerate(FAP2021_LEVELS, start=1)
    }
    _scheme_header(
        graph,
        scheme.iri,
        "Familles professionnelles FAP-2021 (DARES)",
        "FAP-2021 occupational families (DARES)",
        list(levels.values()),
    )
    records = reference_records(graph, iris, FAP2021_LABELS)
    columns = [c for key in FAP2021_LEVELS for c in (f"Code_{key}", f"Intitulé_{key}")]
    broader: dict[str, str] = {}
    for row in read_reference(ctx.data_dir, FAP2021_LABELS, columns):
        parent: str | None = None
        for key in FAP2021_LEVELS:
            code = row.required(f"Code_{key}")
            label = row.text(f"Intitulé_{key}")
            if code not in scheme.concepts:
                iri = iris.fap2021(code)
                _concept(graph, iri, scheme.iri, code, label, records(row.line), None)
                scheme.concepts[code] = iri
                scheme.labels[code] = label
                scheme.lines[code] = row.line
                if parent is None:
                    graph.add((iri, SKOS.topConceptOf, scheme.iri))
                    graph.add((scheme.iri, SKOS.hasTopConcept, iri))
            # an unsplit FAP228 family keeps its code at the FAP341 level: one concept, member of both
            graph.add((levels[key], SKOS.member, scheme.concepts[code]))
            if parent is not None and parent != code:
                known = broader.setdefault(code, parent)
                if known != parent:
                    raise row.error(
                        "code has two different parents",
                        field=f"Code_{key}",
                        value=code,
                        hint=f"first parent {known}, here {parent}",
                    )
                graph.add((scheme.concepts[code], SKOS.broader, scheme.concepts[parent]))
            parent = code
    return GraphPart("fap2021", graph, [f"data/reference/{FAP2021_LABELS}"]), scheme


def convert_rome(ctx: ConvertContext) -> tuple[GraphPart, _Scheme]:
    """ROME v3 (v3.46, 532 codes) with the ROME 4.0 (v4.60) label of the same code as skos:altLabel."""
    graph = new_graph()
    iris = ctx.iris
    scheme = _Scheme(iris.scheme("rome"))
    level_code = _level(graph, scheme.iri, "fiche", 1, "ROME v3, fiche (code ROME)")
    level_title = _level(graph, scheme.iri, "appellation", 2, "ROME v3, appellation (code OGR)")
    _scheme_header(
        graph,
        scheme.iri,
        "Répertoire opérationnel des métiers et des emplois (ROME v3)",
        "French operational directory of trades and jobs (ROME v3)",
        [level_code, level_title],
    )
    records = reference_records(graph, iris, ROME_V3)
    for row in read_reference(ctx.data_dir, ROME_V3, ["code_rome", "code_ogr", "libelle_rome"]):
        code, label = row.text("code_rome"), row.text("libelle_rome")
        iri = iris.rome(code)
        _concept(graph, iri, scheme.iri, code, label, records(row.line), level_code)
        graph.add((iri, SKOS.topConceptOf, scheme.iri))
        graph.add((scheme.iri, SKOS.hasTopConcept, iri))
        scheme.concepts[code] = iri
        scheme.labels[code] = label
    v4_records = reference_records(graph, iris, ROME_V4)
    for row in read_reference(ctx.data_dir, ROME_V4, ["code_rome", "libelle_rome"]):
        code, label = row.text("code_rome"), row.text("libelle_rome")
        # ROME 4.0 adds 1,052 codes; only the labels of the 532 v3 codes are kept, as alternatives
        if code in scheme.concepts and label != scheme.labels[code]:
            iri = scheme.concepts[code]
            graph.add((iri, SKOS.altLabel, Literal(label, lang="fr")))
            graph.add((iri, PROV.wasDerivedFrom, v4_records(row.line)))
    sources = [f"data/reference/{ROME_V3}", f"data/reference/{ROME_V4}"]
    return GraphPart("rome", graph, sources), scheme


def _correspondence(
    graph: Graph,
    iri: URIRef,
    source: URIRef,
    target: URIRef,
    relation: URIRef,
    method: URIRef,
) -> None:
    graph.add((iri, RDF.type, BM.CorrespondanceMetier))
    graph.add((iri, BM.metierSource, source))
    graph.add((iri, BM.metierCible, target))
    graph.add((iri, BM.relationCorrespondance, relation))
    graph.add((iri, BM.methodeCorrespondance, method))
    # stated both ways, so a query may start from either scheme (ROME skos:broadMatch FAP, …)
    graph.add((source, relation, target))
    graph.add((target, INVERSE[relation], source))


def convert_fap2009_rome(ctx: ConvertContext, fap: _Scheme, rome: _Scheme) -> GraphPart:
    """DARES passage table. A ROME code assigned whole to a FAP is narrower than it (FAP skos:narrowMatch
    ROME); one assigned only for some qualification codes overlaps it (skos:closeMatch), never exact."""
    graph = new_graph()
    iris = ctx.iris
    records = reference_records(graph, iris, PASSAGE)
    direct: dict[tuple[str, str], list[int]] = {}
    conditional: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    for row in read_reference(ctx.data_dir, PASSAGE, ["code_rome_v3", "qualification_code", "code_fap2009"]):
        rome_code, fap_code = row.text("code_rome_v3"), row.text("code_fap2009")
        qualification = row.text("qualification_code")
        if fap_code not in fap.concepts:
            raise row.error("unknown FAP-2009 code", field="code_fap2009", value=fap_code)
        if rome_code not in rome.concepts:
            raise row.error("unknown ROME v3 code", field="code_rome_v3", value=rome_code)
        if qualification:
            conditional[(fap_code, rome_code)].append((row.line, qualification))
        else:
            direct.setdefault((fap_code, rome_code), []).append(row.line)
    for (fap_code, rome_code), lines in direct.items():
        iri = iris.correspondence("fap2009-rome", fap_code, rome_code)
        _correspondence(
            graph,
            iri,
            fap.concepts[fap_code],
            rome.concepts[rome_code],
            SKOS.narrowMatch,
            METHOD_DARES_DIRECT,
        )
        for line in lines:
            graph.add((iri, PROV.wasDerivedFrom, records(line)))
    for (fap_code, rome_code), entries in conditional.items():
        iri = iris.correspondence("fap2009-rome", fap_code, rome_code)
        _correspondence(
            graph,
            iri,
            fap.concepts[fap_code],
            rome.concepts[rome_code],
            SKOS.closeMatch,
            METHOD_DARES_QUALIFICATION,
        )
        for line, qualification in entries:
            graph.add((iri, BM.conditionQualification, Literal(qualification)))
            graph.add((iri, PROV.wasDerivedFrom, records(line)))
    return GraphPart("fap2009-rome", graph, [f"data/reference/{PASSAGE}"])


def convert_esco_mapping(ctx: ConvertContext, rome: _Scheme) -> GraphPart:
    """ROME appellations (OGR) -> ESCO occupations, with the relation France Travail states.

    The mapping is stated from the ROME appellation to the ESCO occupation (``Conducteur d'abatteuses``
    skos:broadMatch ``conducteur d'engins forestiers``). Each appellation is skos:broader its ROME code.
    """
    graph = new_graph()
    iris = ctx.iris
    records = reference_records(graph, iris, ESCO_EXTRACT)
    level_title = URIRef(f"{rome.iri}/niveau/appellation")
    columns = ["code_rome_v3", "code_ogr", "libelle_appellation", "mapping_relation", "esco_occupation_uri"]
    seen: set[str] = set()
    for row in read_reference(ctx.data_dir, ESCO_EXTRACT, [*columns, "esco_prefLabel_fr"]):
        rome_code, ogr = row.text("code_rome_v3"), row.text("code_ogr")
        if rome_code not in rome.concepts:
            raise row.error("unknown ROME v3 code", field="code_rome_v3", value=rome_code)
        relation = SKOS_RELATIONS.get(row.text("mapping_relation"))
        if relation is None:
            raise row.error(
                "unknown mapping relation",
                field="mapping_relation",
                value=row.text("mapping_relation"),
                hint=f"expected one of {', '.join(SKOS_RELATIONS)}",
            )
        esco_uri = row.text("esco_occupation_uri")
        if not esco_uri.startswith(str(ESCO)):
            raise row.error(
                "not an ESCO occupation IRI",
                field="esco_occupation_uri",
                value=esco_uri,
                hint=f"expected {ESCO}<uuid>",
            )
        source = records(row.line)
        title = iris.rome_appellation(ogr)
        if ogr not in seen:
            seen.add(ogr)
            _concept(graph, title, rome.iri, ogr, row.text("libelle_appellation"), source, level_title)
            graph.add((title, SKOS.broader, rome.concepts[rome_code]))
            # from the ROME code down to its appellations, hence to ESCO in two hops
            graph.add((rome.concepts[rome_code], SKOS.narrower, title))
        esco = URIRef(esco_uri)
        graph.add((title, relation, esco))
        graph.add((esco, INVERSE[relation], title))
        graph.add((esco, SKOS.prefLabel, Literal(row.text("esco_prefLabel_fr"), lang="fr")))
    return GraphPart("esco-mapping", graph, [f"data/reference/{ESCO_EXTRACT}"])


def convert_fap2009_fap2021(ctx: ConvertContext, fap2009: _Scheme, fap2021: _Scheme) -> GraphPart:
    """Links from the 225 detailed FAP-2009 families to FAP-2021 where codes or labels show them.

    No official table exists in the reference files, so each link says how it was found (see
    data/reference/README.md): same code (Z -> X) and same label, same code and same label once the
    status word is dropped (closeMatch); same label under another code (closeMatch); same code only
    (relatedMatch: the labels differ, the scope may too).
    """
    graph = new_graph()
    iris = ctx.iris
    # the records of these lines are described in the fap2009 and fap2021 graphs: cited, not repeated
    records_2009 = reference_record_iris(iris, FAP2009_LABELS)
    records_2021 = reference_record_iris(iris, FAP2021_LABELS)
    by_label: dict[str, list[str]] = defaultdict(list)
    for code, label in fap2021.labels.items():
        by_label[normalise_label(label)].append(code)
    detailed = [code for code, level in fap2009.levels.items() if level == "fap_225"]
    for code in detailed:
        label = normalise_label(fap2009.labels[code])
        candidate = fap2021_code_for(code)
        links: dict[str, URIRef] = {}
        if candidate in fap2021.concepts:
            other = normalise_label(fap2021.labels[candidate])
            if other == label:
                links[candidate] = METHOD_CODE_AND_LABEL
            elif _without_status(other) == _without_status(label):
                links[candidate] = METHOD_CODE_AND_LABEL_NO_STATUS
            else:
                links[candidate] = METHOD_CODE_ONLY
        for other_code in by_label.get(label, []):
            if other_code != candidate:
                links[other_code] = METHOD_LABEL
        for target, method in links.items():
            relation = SKOS.relatedMatch if method == METHOD_CODE_ONLY else SKOS.closeMatch
            iri = iris.correspondence("fap2009-fap2021", code, target)
            _correspondence(graph, iri, fap2009.concepts[code], fap2021.concepts[target], relation, method)
            graph.add((iri, PROV.wasDerivedFrom, records_2009(fap2009.lines[code])))
            graph.add((iri, PROV.wasDerivedFrom, records_2021(fap2021.lines[target])))
    sources = [f"data/reference/{FAP2009_LABELS}", f"data/reference/{FAP2021_LABELS}"]
    return GraphPart("fap2009-fap2021", graph, sources)


def convert(ctx: ConvertContext) -> list[GraphPart]:
    """Every occupation graph, in dependency order (mappings check their codes against the schemes)."""
    fap2009_part, fap2009 = convert_fap2009(ctx)
    fap2021_part, fap2021 = convert_fap2021(ctx)
    rome_part, rome = convert_rome(ctx)
    return [
        fap2009_part,
        fap2021_part,
        rome_part,
        convert_esco_mapping(ctx, rome),
        convert_fap2009_rome(ctx, fap2009, rome),
        convert_fap2009_fap2021(ctx, fap2009, fap2021),
    ]


GRAPHS = ("fap2009", "fap2021", "rome", "esco-mapping", "fap2009-rome", "fap2009-fap2021")

SOURCE = Source(
    "occupations",
    graphs=GRAPHS,
    catalogue=fixed_entry(
        CatalogueEntry(
            "metiers",
            GRAPHS,
            title=(
                "Nomenclatures des métiers FAP-2009, FAP-2021 et ROME, et leurs correspondances (dont ESCO)",
                "Occupation classifications FAP-2009, FAP-2021 and ROME, and their mappings (including ESCO)",
            ),
            description=(
                "Familles professionnelles de la Dares (FAP-2009, FAP-2021), codes et appellations du ROME "
                "de France Travail, table de passage FAP-2009 / ROME de la Dares et correspondances ROME / "
                "ESCO de France Travail, en SKOS ; chaque correspondance porte sa méthode et ses lignes "
                "sources.",
                "DARES occupational families (FAP-2009, FAP-2021), France Travail ROME codes and job titles, "
                "the DARES FAP-2009 / ROME table and the France Travail ROME / ESCO mapping, in SKOS; each "
                "mapping carries its method and source lines.",
            ),
            keywords=("métiers", "nomenclature", "FAP", "ROME", "ESCO", "SKOS"),
            themes=("ECON", "SOCI"),
            creators=("dares", "france-travail"),
        )
    ),
    convert=convert,
)
