"""INSEE zones, communes, bassins and their overlaps, from the committed reference tables."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import RDF, SKOS, XSD

from bassin_kg.namespaces import BM, IGEO, Iris
from bassin_kg.settings import Settings
from bassin_kg.sources.base import ConvertContext, GraphPart
from bassin_kg.sources.territories import convert, share

IRIS = Iris()
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def part() -> GraphPart:
    (found,) = convert(ConvertContext(Settings(root=ROOT), IRIS))
    return found


@pytest.fixture(scope="module")
def graph(part: GraphPart) -> Graph:
    return part.graph


def test_four_zones_in_each_zoning(graph: Graph) -> None:
    for code in ("3123", "3122", "3114", "3115"):
        assert (IRIS.ze2010(code), RDF.type, IGEO.ZoneDEmploi2010) in graph
    for code in ("3205", "3215", "3212", "3222"):
        assert (IRIS.ze2020(code), RDF.type, IGEO.ZoneDEmploi2020) in graph
    for code in ("3225", "3227", "3220", "3221"):
        assert (IRIS.bassin_bmo(code), RDF.type, BM.BassinEmploiBMO) in graph
    assert graph.value(IRIS.ze2010("3123"), IGEO.nom) == Literal("Béthune - Bruay", lang="fr")
    assert graph.value(IRIS.ze2010("3123"), IGEO.codeINSEE) == Literal("3123")
    # BMO codes are not INSEE codes
    assert (IRIS.bassin_bmo("3225"), IGEO.codeINSEE, None) not in graph
    assert graph.value(IRIS.bassin_bmo("3225"), SKOS.notation) == Literal("3225")


def test_deck_zones_keep_the_deck_label_alone(graph: Graph) -> None:
    # the deck graph labels the four ZE2010; a second prefLabel@fr would break the SKOS rule
    assert (IRIS.ze2010("3123"), SKOS.prefLabel, None) not in graph
    assert graph.value(IRIS.ze2010("3121"), SKOS.prefLabel) == Literal("Arras", lang="fr")


def test_commune_belongs_to_its_zones_and_departement(graph: Graph) -> None:
    lens = IRIS.commune("62498")
    assert (lens, RDF.type, IGEO.Commune) in graph
    parents = set(graph.objects(lens, IGEO.subdivisionDirecteDe))
    assert parents == {
        IRIS.ze2010("3122"),
        IRIS.ze2020("3215"),
        IRIS.bassin_bmo("3227"),
        IRIS.departement("62"),
    }
    assert (IRIS.departement("62"), IGEO.subdivisionDirecteDe, IRIS.region("32")) in graph
    assert graph.value(IRIS.departement("62"), IGEO.nom) == Literal("Pas-de-Calais", lang="fr")
    vintages = set(graph.objects(lens, BM.millesimeGeographique))
    assert vintages == {Literal("2018", datatype=XSD.gYear), Literal("2022", datatype=XSD.gYear)}


def test_overlap_counts_match_the_crosswalk(graph: Graph) -> None:
    # crosswalk_bassin_minier_ze2010_ze2020_bmo.csv: 85 communes of ZE2010 3123 are in ZE2020 3205
    overlap = IRIS.overlap("ze2010-3123", "ze2020-3205")
    assert (overlap, RDF.type, BM.RecouvrementTerritorial) in graph
    assert graph.value(overlap, BM.nombreCommunesCommunes) == Literal(85, datatype=XSD.integer)
    # 102 communes in ZE2010 3123 (insee_ze2010_composition_2018.csv)
    assert graph.value(overlap, BM.partCommunes).toPython() == Decimal("0.8333")
    back = IRIS.overlap("ze2020-3205", "ze2010-3123")
    assert graph.value(back, BM.territoireSource) == IRIS.ze2020("3205")
    assert (IRIS.ze2010("3123"), IGEO.territoireCommunAvec, IRIS.ze2020("3205")) in graph
    assert (IRIS.ze2020("3205"), IGEO.territoireCommunAvec, IRIS.ze2010("3123")) in graph


def test_overlaps_between_two_outside_zones_are_not_claimed(graph: Graph) -> None:
    # Arras (ZE2010 3121) and Arras (ZE2020 3203) share communes, but neither is loaded whole
    assert (IRIS.ze2010("3121"), IGEO.territoireCommunAvec, IRIS.ze2020("3203")) not in graph
    assert (IRIS.ze2010("3121"), IGEO.territoireCommunAvec, IRIS.ze2020("3205")) in graph


def test_changed_commune_codes_are_kept_and_reported(part: GraphPart, graph: Graph) -> None:
    # 62110, 62482, 62575: listed by the BMO bassin file only (merged before 2018)
    for code in ("62110", "62482", "62575"):
        commune = IRIS.commune(code)
        assert (commune, IGEO.subdivisionDirecteDe, IRIS.bassin_bmo("3225")) in graph
        assert (commune, BM.millesimeGeographique, None) not in graph
    assert len(part.notes) == 1
    assert "62110 (bmo only)" in part.notes[0]


def _synthetic_reference(root: Path) -> None:
    """SYNTHETIC reference files: two small zonings far from the basin, one commune merged by 2022."""
    ref = root / "data" / "reference"
    ref.mkdir(parents=True)
    files = {
        "insee_ze2010_list_2018.csv": "ZE2010,LIBZE2010\n0050,Zone A\n0051,Zone B\n",
        "insee_ze2010_composition_2018.csv": "CODGEO,ZE2010,DEP,REG\n01001,0050,01,84\n01002,0050,01,84\n"
        "01003,0051,01,84\n",
        "insee_ze2020_list_2022.csv": "ZE2020,LIBZE2020,NB_COM\n8401,Zone Nouvelle,2\n",
        "insee_ze2020_composition_2022.csv": "CODGEO,LIBGEO,ZE2020,LIBZE2020,ZE2020_PARTIE_REG,DEP,REG\n"
        "01001,Un,8401,Zone Nouvelle,,01,84\n01003,Trois,8401,Zone Nouvelle,,01,84\n",
        "bmo_bassins_communes.csv": "reg,dep,code_commune_insee,code_bassin_BMO,lib_bassin_BMO\n"
        "84,01,01001,8499,BASSIN X\n84,01,01002,8499,BASSIN X\n84,01,01003,8499,BASSIN X\n",
    }
    for name, text in files.items():
        (ref / name).write_text(text, encoding="utf-8")


def test_default_scope_leaves_out_zones_away_from_the_basin(tmp_path: Path) -> None:
    _synthetic_reference(tmp_path)
    (found,) = convert(ConvertContext(Settings(root=tmp_path), IRIS))
    assert not list(found.graph.subjects(RDF.type, IGEO.Commune))


def test_all_france_loads_every_zone_and_counts_overlaps(tmp_path: Path) -> None:
    _synthetic_reference(tmp_path)
    (found,) = convert(ConvertContext(Settings(root=tmp_path), IRIS, all_france=True))
    graph = found.graph
    assert len(set(graph.subjects(RDF.type, IGEO.Commune))) == 3
    overlap = IRIS.overlap("ze2020-8401", "ze2010-0050")
    assert graph.value(overlap, BM.nombreCommunesCommunes) == Literal(1, datatype=XSD.integer)
    assert graph.value(overlap, BM.partCommunes).toPython() == Decimal("0.5000")
    assert graph.value(IRIS.overlap("ze2010-0050", "bassin-bmo-8499"), BM.partCommunes).toPython() == 1
    # 01002 is gone from the 2022 file (merged): kept with its 2010 zone, reported
    merged = IRIS.commune("01002")
    assert set(graph.objects(merged, BM.millesimeGeographique)) == {Literal("2018", datatype=XSD.gYear)}
    assert (merged, IGEO.subdivisionDirecteDe, IRIS.ze2010("0050")) in graph
    assert "01002 (ze2010+bmo only)" in found.notes[0]


def test_share_rounds_to_four_decimals() -> None:
    assert share(85, 102) == Decimal("0.8333")
    assert share(1, 1) == Decimal("1.0000")
