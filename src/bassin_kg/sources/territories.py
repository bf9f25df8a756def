"""INSEE territories: ZE2010 and ZE2020 zones, their communes, départements, the region, and BMO bassins.

By default only what touches the mining basin (the four zones in each zoning) is loaded; ``all_france``
loads every zone and commune. Zones of different zonings are related by ``igeo:territoireCommunAvec``
and a ``bm:RecouvrementTerritorial`` counting the communes they share, matched by commune code. Codes
listed in one composition file and not in the other (commune mergers between vintages) are kept, with
the vintages they appear in (``bm:millesimeGeographique``), and listed in the part's notes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, SKOS, XSD

from bassin_kg.namespaces import BM, IGEO, Iris
from bassin_kg.sources.base import CatalogueEntry, ConvertContext, GraphPart, Source, fixed_entry, new_graph
from bassin_kg.sources.common import Row, SourceRecords, read_reference, read_table, reference_records

ZE2010_LIST = "insee_ze2010_list_2018.csv"
ZE2010_COMPOSITION = "insee_ze2010_composition_2018.csv"
ZE2020_LIST = "insee_ze2020_list_2022.csv"
ZE2020_COMPOSITION = "insee_ze2020_composition_2022.csv"
BMO_BASSINS = "bmo_bassins_communes.csv"
#: where département and region names come from (the only reference file that gives them)
BMO_EXTRACT = "data/sources/bmo/bmo2024_bassin_minier_extract.csv"

#: the mining basin in each zoning (data/reference/README.md, "Key codes")
BASIN_ZE2010 = ("3123", "3122", "3114", "3115")
BASIN_ZE2020 = ("3205", "3215", "3212", "3222")
BASIN_BMO = ("3225", "3227", "3220", "3221")

VINTAGE_ZE2010 = "2018"
MERGED_NOTE = (
    "Code communal absent de la composition communale INSEE 2022 (commune fusionnée) : "
    "aucun fichier de référence ne donne son nom."
)
VINTAGE_ZE2020 = "2022"

#: zoning key -> (IRI key prefix, rdf type)
ZONINGS: dict[str, tuple[str, URIRef]] = {
    "ze2010": ("ze2010", IGEO.ZoneDEmploi2010),
    "ze2020": ("ze2020", IGEO.ZoneDEmploi2020),
    "bmo": ("bassin-bmo", BM.BassinEmploiBMO),
}


@dataclass
class Compositions:
    """Commune -> territory code per zoning, as read from the reference files (whole of France)."""

    #: zoning -> commune code -> territory code
    membership: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    #: zoning -> territory code -> (name, line in its list file)
    names: dict[str, dict[str, tuple[str, int]]] = field(default_factory=lambda: defaultdict(dict))
    #: zoning -> commune code -> line of the composition file
    lines: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    commune_names: dict[str, str] = field(default_factory=dict)
    commune_dep: dict[str, str] = field(default_factory=dict)
    dep_region: dict[str, str] = field(default_factory=dict)

    def communes_of(self, zoning: str, code: str) -> set[str]:
        return {c for c, z in self.membership[zoning].items() if z == code}

    def totals(self, zoning: str) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for zone in self.membership[zoning].values():
            counts[zone] += 1
        return counts


def read_compositions(ctx: ConvertContext) -> Compositions:
    """Read the five territory files of ``data/reference/``; unknown zone codes are a DataError."""
    comp = Compositions()
    for row in read_reference(ctx.data_dir, ZE2010_LIST, ["ZE2010", "LIBZE2010"]):
        comp.names["ze2010"][row.text("ZE2010")] = (row.text("LIBZE2010"), row.line)
    for row in read_reference(ctx.data_dir, ZE2020_LIST, ["ZE2020", "LIBZE2020"]):
        comp.names["ze2020"][row.text("ZE2020")] = (row.text("LIBZE2020"), row.line)
    for row in read_reference(ctx.data_dir, ZE2010_COMPOSITION, ["CODGEO", "ZE2010", "DEP", "REG"]):
        commune, dep = row.text("CODGEO"), row.text("DEP")
        comp.membership["ze2010"][commune] = _zone(comp, "ze2010", row, "ZE2010")
        comp.lines["ze2010"][commune] = row.line
        comp.commune_dep.setdefault(commune, dep)
        comp.dep_region.setdefault(dep, row.text("REG"))
    for row in read_reference(ctx.data_dir, ZE2020_COMPOSITION, ["CODGEO", "LIBGEO", "ZE2020", "DEP", "REG"]):
        commune, dep = row.text("CODGEO"), row.text("DEP")
        comp.membership["ze2020"][commune] = _zone(comp, "ze2020", row, "ZE2020")
        comp.lines["ze2020"][commune] = row.line
        comp.commune_names[commune] = row.text("LIBGEO")
        # the 2022 geography wins for the département of a commune
        comp.commune_dep[commune] = dep
        comp.dep_region.setdefault(dep, row.text("REG"))
    columns = ["dep", "code_commune_insee", "code_bassin_BMO", "lib_bassin_BMO"]
    for row in read_reference(ctx.data_dir, BMO_BASSINS, columns):
        bassin, commune = row.text("code_bassin_BMO"), row.text("code_commune_insee")
        comp.membership["bmo"][commune] = bassin
        comp.lines["bmo"][commune] = row.line
        comp.names["bmo"].setdefault(bassin, (row.text("lib_bassin_BMO"), row.line))
    return comp


def _zone(comp: Compositions, zoning: str, row: Row, field_name: str) -> str:
    """The row's zone code, which must be in the zoning's list."""
    code = row.text(field_name)
    if code not in comp.names[zoning]:
        raise row.error(
            f"zone code not in the {zoning.upper()} list",
            field=field_name,
            value=code,
            hint="the composition and list files must be of the same vintage",
        )
    return code


@dataclass(frozen=True)
class Scope:
    """Which territories and communes are loaded."""

    zones: dict[str, set[str]]
    communes: set[str]
    #: territories whose overlaps are complete (every commune of theirs is loaded)
    anchors: dict[str, set[str]]


def described_places(ctx: ConvertContext) -> dict[str, set[str]]:
    """Codes of the BMO bassins (``bmo``) and départements (``departement``) this graph describes."""
    comp = read_compositions(ctx)
    scope = france_scope(comp) if ctx.all_france else basin_scope(comp)
    departments = {comp.commune_dep[c] for c in scope.communes if c in comp.commune_dep}
    return {"bmo": set(scope.zones["bmo"]), "departement": departments}


def basin_scope(comp: Compositions) -> Scope:
    """The basin's twelve territories, every commune of theirs, and every zone those communes are in."""
    anchors = {"ze2010": set(BASIN_ZE2010), "ze2020": set(BASIN_ZE2020), "bmo": set(BASIN_BMO)}
    communes: set[str] = set()
    for zoning, codes in anchors.items():
        communes |= {c for c, z in comp.membership[zoning].items() if z in codes}
    zones = {zoning: {comp.membership[zoning][c] for c in communes if c in comp.membership[zoning]}
             for zoning in ZONINGS}  # fmt: skip
    return Scope(zones, communes, anchors)


def france_scope(comp: Compositions) -> Scope:
    """Everything in the files."""
    communes: set[str] = set()
    for zoning in ZONINGS:
        communes |= set(comp.membership[zoning])
    zones = {zoning: set(comp.membership[zoning].values()) for zoning in ZONINGS}
    return Scope(zones, communes, zones)


class _Writer:
    def __init__(self, ctx: ConvertContext, graph: Graph) -> None:
        self.iris: Iris = ctx.iris
        self.graph = graph
        self.records: dict[str, Callable[[int], URIRef]] = {
            name: reference_records(graph, ctx.iris, name)
            for name in (ZE2010_LIST, ZE2010_COMPOSITION, ZE2020_LIST, ZE2020_COMPOSITION, BMO_BASSINS)
        }

    def zone_iri(self, zoning: str, code: str) -> URIRef:
        if zoning == "ze2010":
            return self.iris.ze2010(code)
        if zoning == "ze2020":
            return self.iris.ze2020(code)
        return self.iris.bassin_bmo(code)

    def add(self, s: URIRef, p: URIRef, o: URIRef | Literal) -> None:
        self.graph.add((s, p, o))


def convert(ctx: ConvertContext) -> list[GraphPart]:
    """The ``insee-territoires`` graph: zones, bassins, communes, départements, region and overlaps."""
    comp = read_compositions(ctx)
    scope = france_scope(comp) if ctx.all_france else basin_scope(comp)
    graph = new_graph()
    w = _Writer(ctx, graph)
    _zones(w, comp, scope)
    changed = _communes(w, comp, scope)
    dep_names, region_names = _admin_names(ctx)
    _admin(w, comp, scope, dep_names, region_names)
    _overlaps(w, comp, scope)
    sources = [f"data/reference/{name}" for name in w.records]
    part = GraphPart("insee-territoires", graph, sources)
    if changed:
        # The build report prints the notes: codes of one vintage absent from the other are mergers
        # or splits; they are kept, not dropped (see data/reference/README.md).
        part.notes.append(
            f"insee-territoires: {len(changed)} commune code(s) missing from one of the composition files "
            f"(ZE2010 {VINTAGE_ZE2010}, ZE2020 {VINTAGE_ZE2020}, BMO bassins), kept with the zones of the "
            f"files that list them: {', '.join(sorted(changed)[:20])}" + (" …" if len(changed) > 20 else "")
        )
    return [part]


def _zones(w: _Writer, comp: Compositions, scope: Scope) -> None:
    list_files = {"ze2010": ZE2010_LIST, "ze2020": ZE2020_LIST, "bmo": BMO_BASSINS}
    for zoning, codes in scope.zones.items():
        rdf_type = ZONINGS[zoning][1]
        for code in sorted(codes):
            name, line = comp.names[zoning][code]
            iri = w.zone_iri(zoning, code)
            w.add(iri, RDF.type, rdf_type)
            w.add(iri, PROV.wasDerivedFrom, w.records[list_files[zoning]](line))
            if zoning == "bmo":
                # BMO codes are not INSEE codes: a notation, never igeo:codeINSEE
                w.add(iri, SKOS.notation, Literal(code))
                w.add(iri, SKOS.prefLabel, Literal(name, lang="fr"))
                w.add(iri, RDFS.label, Literal(name, lang="fr"))
                continue
            w.add(iri, IGEO.codeINSEE, Literal(code))
            w.add(iri, IGEO.nom, Literal(name, lang="fr"))
            # the deck graph gives the four basin ZE2010 zones their deck name as label (MODEL.md)
            if not (zoning == "ze2010" and code in BASIN_ZE2010):
                w.add(iri, SKOS.prefLabel, Literal(name, lang="fr"))
                w.add(iri, RDFS.label, Literal(name, lang="fr"))


def _communes(w: _Writer, comp: Compositions, scope: Scope) -> set[str]:
    """Write communes; return the codes missing from one of the three composition files, with where."""
    in_2010, in_2020 = comp.membership["ze2010"], comp.membership["ze2020"]
    changed: set[str] = set()
    files = {"ze2010": ZE2010_COMPOSITION, "ze2020": ZE2020_COMPOSITION, "bmo": BMO_BASSINS}
    for code in sorted(scope.communes):
        iri = w.iris.commune(code)
        w.add(iri, RDF.type, IGEO.Commune)
        w.add(iri, IGEO.codeINSEE, Literal(code))
        if code in comp.commune_names:
            w.add(iri, IGEO.nom, Literal(comp.commune_names[code], lang="fr"))
            w.add(iri, RDFS.label, Literal(comp.commune_names[code], lang="fr"))
        else:
            # a code only the 2018 or the BMO list cites (a commune merged since): no file names it,
            # so its label says what it is rather than leave a page or a query without a name
            w.add(iri, RDFS.label, Literal(f"Commune {code}", lang="fr"))
            w.add(iri, SKOS.note, Literal(MERGED_NOTE, lang="fr"))
        for zoning, file_name in files.items():
            zone = comp.membership[zoning].get(code)
            if zone is None:
                continue
            w.add(iri, IGEO.subdivisionDirecteDe, w.zone_iri(zoning, zone))
            w.add(iri, PROV.wasDerivedFrom, w.records[file_name](comp.lines[zoning][code]))
        if code in in_2010:
            w.add(iri, BM.millesimeGeographique, Literal(VINTAGE_ZE2010, datatype=XSD.gYear))
        if code in in_2020:
            w.add(iri, BM.millesimeGeographique, Literal(VINTAGE_ZE2020, datatype=XSD.gYear))
        listed = [zoning for zoning in files if code in comp.membership[zoning]]
        if len(listed) != len(files):
            changed.add(f"{code} ({'+'.join(listed)} only)")
        dep = comp.commune_dep.get(code)
        if dep:
            w.add(iri, IGEO.subdivisionDirecteDe, w.iris.departement(dep))
    return changed


def _admin_names(ctx: ConvertContext) -> tuple[dict[str, tuple[str, int]], dict[str, tuple[str, int]]]:
    """Département and region names from the committed BMO extract (no INSEE file here gives them)."""
    path = ctx.settings.root / BMO_EXTRACT
    deps: dict[str, tuple[str, int]] = {}
    regions: dict[str, tuple[str, int]] = {}
    if not path.is_file():
        return deps, regions
    for row in read_table(ctx.settings.root, BMO_EXTRACT, ["REG", "NOM_REG", "Dept", "NomDept"]):
        deps.setdefault(row.text("Dept"), (row.text("NomDept"), row.line))
        regions.setdefault(row.text("REG"), (row.text("NOM_REG"), row.line))
    return deps, regions


def _admin(
    w: _Writer,
    comp: Compositions,
    scope: Scope,
    dep_names: dict[str, tuple[str, int]],
    region_names: dict[str, tuple[str, int]],
) -> None:
    # keyed by this graph: the bmo-2024 graph mints its own records of the same file (MODEL.md)
    key = f"insee-territoires-{Path(BMO_EXTRACT).stem}"
    extract = SourceRecords(w.graph, w.iris).for_file(key, BMO_EXTRACT)
    deps = {comp.commune_dep[c] for c in scope.communes if c in comp.commune_dep}
    for dep in sorted(deps):
        iri = w.iris.departement(dep)
        w.add(iri, RDF.type, IGEO.Departement)
        w.add(iri, IGEO.codeINSEE, Literal(dep))
        region = comp.dep_region.get(dep)
        if region:
            w.add(iri, IGEO.subdivisionDirecteDe, w.iris.region(region))
        _name(w, iri, dep_names.get(dep), extract)
    for region in sorted({comp.dep_region[d] for d in deps if d in comp.dep_region}):
        iri = w.iris.region(region)
        w.add(iri, RDF.type, IGEO.Region)
        w.add(iri, IGEO.codeINSEE, Literal(region))
        _name(w, iri, region_names.get(region), extract)


def _name(w: _Writer, iri: URIRef, named: tuple[str, int] | None, records: Callable[[int], URIRef]) -> None:
    if named is None:
        return
    name, line = named
    w.add(iri, IGEO.nom, Literal(name, lang="fr"))
    w.add(iri, RDFS.label, Literal(name, lang="fr"))
    w.add(iri, PROV.wasDerivedFrom, records(line))


def share(common: int, total: int) -> Decimal:
    """Share of the source's communes in common, between 0 and 1, four decimals (bm:partCommunes)."""
    return (Decimal(common) / Decimal(total)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def overlap_counts(
    comp: Compositions, source: str, target: str, communes: Iterable[str]
) -> dict[tuple[str, str], int]:
    """Number of communes, among ``communes``, in each (source zone, target zone) pair, matched by code."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    a, b = comp.membership[source], comp.membership[target]
    for code in communes:
        if code in a and code in b:
            counts[(a[code], b[code])] += 1
    return counts


def _overlaps(w: _Writer, comp: Compositions, scope: Scope) -> None:
    totals = {zoning: comp.totals(zoning) for zoning in ZONINGS}
    pairs = (("ze2010", "ze2020"), ("ze2010", "bmo"), ("ze2020", "bmo"))
    for first, second in pairs:
        counts = overlap_counts(comp, first, second, scope.communes)
        for (a, b), common in sorted(counts.items()):
            # an overlap is complete only when one side has all its communes loaded
            if a not in scope.anchors[first] and b not in scope.anchors[second]:
                continue
            ia, ib = w.zone_iri(first, a), w.zone_iri(second, b)
            w.add(ia, IGEO.territoireCommunAvec, ib)
            w.add(ib, IGEO.territoireCommunAvec, ia)
            key_a, key_b = f"{ZONINGS[first][0]}-{a}", f"{ZONINGS[second][0]}-{b}"
            for (src, src_iri, src_zoning, src_key), (dst_iri, dst_key) in (
                ((a, ia, first, key_a), (ib, key_b)),
                ((b, ib, second, key_b), (ia, key_a)),
            ):
                iri = w.iris.overlap(src_key, dst_key)
                w.add(iri, RDF.type, BM.RecouvrementTerritorial)
                w.add(iri, BM.territoireSource, src_iri)
                w.add(iri, BM.territoireCible, dst_iri)
                w.add(iri, BM.nombreCommunesCommunes, Literal(common, datatype=XSD.integer))
                total = totals[src_zoning][src]
                w.add(iri, BM.partCommunes, Literal(share(common, total), datatype=XSD.decimal))


SOURCE = Source(
    "territories",
    graphs=("insee-territoires",),
    catalogue=fixed_entry(
        CatalogueEntry(
            "territoires",
            ("insee-territoires",),
            title=(
                "Territoires Insee du bassin minier : zones d'emploi 2010 et 2020, communes, bassins BMO",
                "INSEE territories of the mining basin: 2010 and 2020 employment zones, communes, BMO areas",
            ),
            description=(
                "Zones d'emploi 2010 et 2020, communes, départements et région de l'Insee, bassins d'emploi "
                "de l'enquête BMO de France Travail, leurs inclusions et leurs recouvrements mesurés en "
                "communes.",
                "INSEE 2010 and 2020 employment zones, communes, départements and region, France Travail BMO "
                "areas, their inclusions and their overlaps counted in communes.",
            ),
            keywords=("zones d'emploi", "communes", "géographie", "Insee", "bassin minier"),
            themes=("REGI",),
            creators=("insee", "france-travail"),
        )
    ),
    convert=convert,
)
