"""Tests of sources/deck.py on the synthetic tables of tests/fixtures/curated-min (copied, then altered)."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, ORG, PROV, RDF, RDFS, SKOS, XSD

from bassin_kg.errors import DataError
from bassin_kg.namespaces import BM, IGEO, INTERVAL_YEAR, QB, SCHEMA, SDMX_DIM, Iris
from bassin_kg.settings import Settings
from bassin_kg.sources.base import ConvertContext
from bassin_kg.sources.deck import DECK_FILE, convert

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "curated-min"
BASE = "http://example.org/bm/"
IRIS = Iris(BASE)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A project folder holding a copy of the synthetic curated tables."""
    shutil.copytree(FIXTURE, tmp_path / "data" / "curated")
    return tmp_path


def deck_graph(root: Path) -> Graph:
    [part] = convert(ConvertContext(Settings(root=root, base_iri=BASE), IRIS))
    assert part.name == "deck"
    return part.graph


def alter(root: Path, stem: str, old: str, new: str) -> None:
    path = root / "data" / "curated" / f"{stem}.csv"
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {stem}.csv"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def append(root: Path, stem: str, line: str) -> None:
    with (root / "data" / "curated" / f"{stem}.csv").open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def fr(text: str) -> Literal:
    return Literal(text, lang="fr")


# --- what the graph says ----------------------------------------------------------------------------
def test_zones_and_basin(root: Path) -> None:
    g = deck_graph(root)
    zone, basin = IRIS.ze2010("3115"), IRIS.bassin_minier()
    # type, code and INSEE name are the insee-territoires graph's: each triple lives in one graph
    assert (zone, RDF.type, None) not in g
    assert (zone, IGEO.codeINSEE, None) not in g
    assert (zone, IGEO.nom, None) not in g
    # the section heading's spelling is the name; the other spellings are alternatives
    assert set(g.objects(zone, SKOS.prefLabel)) == {fr("Valenciennois")}
    assert set(g.objects(zone, SKOS.altLabel)) == {fr("Le Valenciennois")}
    assert (zone, DCTERMS.isPartOf, basin) in g
    # INSEE's "Béthune - Bruay" as running text writes it
    assert (IRIS.ze2010("3123"), SKOS.altLabel, fr("Béthune-Bruay")) in g
    assert set(g.objects(basin, DCTERMS.hasPart)) == {IRIS.ze2010("3115"), IRIS.ze2010("3123")}
    assert (basin, RDF.type, BM.BassinMinier) in g


def test_swot_item_with_rank_text_sectors_actors_and_two_level_provenance(root: Path) -> None:
    g = deck_graph(root)
    item = IRIS.swot("ze2010-3115", "opportunite", 1)
    assert item == URIRef(BASE + "id/swot/ze2010-3115/opportunite-1")
    assert (item, RDF.type, BM.Opportunite) in g
    assert g.value(item, BM.territoire) == IRIS.ze2010("3115")
    assert g.value(item, BM.rang) == Literal(1, datatype=XSD.integer)
    assert str(g.value(item, RDFS.label)).startswith("Structuration des filières automobile")
    assert set(g.objects(item, DCTERMS.subject)) == {IRIS.sector("automobile"), IRIS.sector("ferroviaire")}
    assert set(g.objects(item, BM.mentionne)) == {IRIS.actor("i-trans"), IRIS.actor("transalley")}
    record = g.value(item, PROV.wasDerivedFrom)
    assert record == IRIS.source_record("curated-swot_items", 4)
    assert g.value(record, BM.fichier) == Literal("data/curated/swot_items.csv")
    assert g.value(record, BM.ligne) == Literal(4, datatype=XSD.integer)
    deck_line = g.value(record, PROV.wasDerivedFrom)
    assert deck_line == IRIS.source_record("deck", 288)
    assert g.value(deck_line, BM.fichier) == Literal(DECK_FILE)
    assert g.value(deck_line, BM.ligneFin) == Literal(298, datatype=XSD.integer)
    assert g.value(deck_line, DCTERMS.isPartOf) == IRIS.deck()


def test_recruitment_observation_valenciennois_1152(root: Path) -> None:
    g = deck_graph(root)
    occupation = IRIS.deck_occupation("ouvriers-non-qualifies-metallerie-serrurerie-montage")
    obs = IRIS.observation(
        "deck-projets-recrutement", "ze2010-3115", "ouvriers-non-qualifies-metallerie-serrurerie-montage"
    )
    assert (obs, RDF.type, QB.Observation) in g
    assert g.value(obs, QB.dataSet) == IRIS.dataset("deck-projets-recrutement")
    assert g.value(obs, SDMX_DIM.refArea) == IRIS.ze2010("3115")
    assert g.value(obs, SDMX_DIM.refPeriod) == INTERVAL_YEAR["2018"]
    # the dimension is the FAP-2009 family; the deck's own occupation is an attribute
    assert g.value(obs, SDMX_DIM.occupation) == IRIS.fap2009("D3Z20")
    assert g.value(obs, BM.metierDiaporama) == occupation
    assert g.value(obs, BM.projetsRecrutement) == Literal(1152, datatype=XSD.integer)
    assert g.value(obs, BM.rang) == Literal(1, datatype=XSD.integer)
    deck_line = g.value(g.value(obs, PROV.wasDerivedFrom), PROV.wasDerivedFrom)
    assert g.value(deck_line, BM.ligne) == Literal(354, datatype=XSD.integer)
    assert g.value(deck_line, BM.ligneFin) == Literal(355, datatype=XSD.integer)
    dataset = IRIS.dataset("deck-projets-recrutement")
    assert g.value(dataset, QB.structure) == BM["dsd-deck-projets-recrutement"]


def test_difficulty_and_unemployment_observations(root: Path) -> None:
    g = deck_graph(root)
    share = IRIS.observation("deck-difficultes-recrutement", "ze2010-3115", "veterinaires")
    assert g.value(share, BM.partProjetsDifficiles).toPython() == Decimal("100")  # type: ignore[union-attr]
    rate = IRIS.observation("deck-chomage", "ze2010-3123", "2018-Q2")
    assert g.value(rate, BM.tauxChomage) == Literal(Decimal("10.7"), datatype=XSD.decimal)
    assert g.value(rate, BM.evolutionTauxChomage1An) == Literal(Decimal("-0.4"), datatype=XSD.decimal)
    assert g.value(rate, SDMX_DIM.refPeriod) == URIRef("http://reference.data.gouv.uk/id/quarter/2018-Q2")
    assert len(set(g.subjects(RDF.type, QB.Observation))) == 3 + 3 + 2


def test_occupation_links_follow_the_match(root: Path) -> None:
    g = deck_graph(root)
    merged = IRIS.deck_occupation("bouchers-boulangers-patissiers-charcutiers-traiteurs")
    assert set(g.objects(merged, SKOS.narrowMatch)) == {IRIS.fap2009(c) for c in ("S0Z40", "S0Z41", "S0Z42")}
    assert not set(g.objects(merged, SKOS.exactMatch))
    variant = IRIS.deck_occupation("aides-soignants")
    assert set(g.objects(variant, SKOS.exactMatch)) == {IRIS.fap2009("V0Z60")}
    assert g.value(variant, SKOS.editorialNote) == Literal(
        "the deck drops the hyphen of Aides-soignants", lang="en"
    )
    assert g.value(variant, SKOS.inScheme) == IRIS.scheme("metiers-deck")
    # stated from the FAP side too, so that a query may start from FAP-2009
    assert (IRIS.fap2009("V0Z60"), SKOS.exactMatch, variant) in g
    assert {(IRIS.fap2009(c), SKOS.broadMatch, merged) for c in ("S0Z40", "S0Z41", "S0Z42")} <= set(g)


def test_merged_occupation_observation_is_on_the_common_fap87_family(root: Path) -> None:
    g = deck_graph(root)
    merged = IRIS.deck_occupation("bouchers-boulangers-patissiers-charcutiers-traiteurs")
    observations = set(g.subjects(BM.metierDiaporama, merged))
    assert observations
    assert {g.value(obs, SDMX_DIM.occupation) for obs in observations} == {IRIS.fap2009("S0Z")}


def test_spellings_with_the_same_codes_are_one_concept(root: Path) -> None:
    # the Lens-Hénin table writes "Aides à domicile-aides ménagères": same FAP, hence the same concept
    append(root, "occupations", "Aides à domicile-aides ménagères,T2A60,variant,hyphen instead of 'et'")
    g = deck_graph(root)
    concepts = set(g.subjects(SKOS.exactMatch, IRIS.fap2009("T2A60")))
    assert concepts == {IRIS.deck_occupation("aides-a-domicile-et-aides-menageres")}
    (concept,) = concepts
    assert set(g.objects(concept, SKOS.prefLabel)) == {fr("Aides à domicile et aides ménagères")}
    assert set(g.objects(concept, SKOS.altLabel)) == {fr("Aides à domicile-aides ménagères")}


def test_spellings_of_one_occupation_share_a_concept_named_by_the_exact_one(root: Path) -> None:
    append(root, "occupations", "Aides-soignants,V0Z60,exact,")
    g = deck_graph(root)
    concept = IRIS.deck_occupation("aides-soignants")
    assert set(g.objects(concept, SKOS.prefLabel)) == {fr("Aides-soignants")}
    assert set(g.objects(concept, SKOS.altLabel)) == {fr("Aides soignants")}


def test_typographic_and_straight_apostrophes_give_one_concept(root: Path) -> None:
    append(root, "occupations", "Agents d’entretien de locaux,T4Z60,exact,")
    append(root, "occupations", "Agents d'entretien de locaux,T4Z60,exact,")
    g = deck_graph(root)
    concept = IRIS.deck_occupation("agents-d-entretien-de-locaux")
    assert set(g.objects(concept, SKOS.prefLabel)) == {fr("Agents d’entretien de locaux")}
    assert set(g.objects(concept, SKOS.altLabel)) == {fr("Agents d'entretien de locaux")}


def test_spellings_of_one_occupation_with_other_codes_are_refused(root: Path) -> None:
    append(root, "occupations", "Aides-soignants,V0Z61,exact,")
    with pytest.raises(DataError) as caught:
        deck_graph(root)
    # the row appended on line 8 would mint the IRI of the occupation of line 3, with other codes
    assert (caught.value.file, caught.value.line) == ("data/curated/occupations.csv", 8)
    assert "same occupation IRI (aides-soignants) as line 3" in str(caught.value)


def test_multiplier_hangs_on_the_link_whose_lines_contain_it(root: Path) -> None:
    g = deck_graph(root)
    multiplier = IRIS.multiplier("insee-2015")
    assert g.value(IRIS.territory_link(1), BM.multiplicateur) == multiplier
    assert g.value(IRIS.territory_link(2), BM.multiplicateur) is None
    assert g.value(multiplier, BM.emploisIndirects) == Literal(Decimal("1.5"), datatype=XSD.decimal)
    assert g.value(multiplier, BM.emploisInduits) == Literal(Decimal("3"), datatype=XSD.decimal)
    assert g.value(multiplier, DCTERMS.source) == fr("étude INSEE 2015")
    assert g.value(IRIS.territory_link(1), BM.territoire) == IRIS.bassin_minier()


def test_actors_types_and_sectors(root: Path) -> None:
    g = deck_graph(root)
    itrans, park = IRIS.actor("i-trans"), IRIS.actor("transalley")
    assert {(itrans, RDF.type, BM.Acteur), (itrans, RDF.type, ORG.Organization)} <= set(g)
    assert (park, RDF.type, SCHEMA.Place) in g
    assert (park, RDF.type, ORG.Organization) not in g
    assert set(g.objects(itrans, SKOS.altLabel)) == {fr("Pôle de compétitivité i-Trans")}
    assert g.value(itrans, DCTERMS.type) == IRIS.actor_type("pole-competitivite")
    assert g.value(park, SKOS.note) == Literal("park dedicated to transport and eco-mobility", lang="en")
    assert (IRIS.perspective(2), BM.mentionne, IRIS.actor("team2")) in g
    sector = IRIS.sector("economie-circulaire")
    assert set(g.objects(sector, SKOS.prefLabel)) == {
        fr("Économie circulaire"),
        Literal("Circular economy", lang="en"),
    }
    assert (IRIS.scheme("secteurs"), RDF.type, SKOS.ConceptScheme) in g


def test_deck_document(root: Path) -> None:
    g = deck_graph(root)
    doc = IRIS.deck()
    assert g.value(doc, DCTERMS.title) == fr("Trajectoire économique des territoires du bassin minier")
    assert g.value(doc, DCTERMS.issued) == Literal("2019-04-08", datatype=XSD.date)


def test_deck_lines_inside_a_numbered_page_carry_its_number(root: Path) -> None:
    # a page row covering the Valenciennois box (synthetic range: the real tables give the number's line)
    alter(root, "deck_metadata", "page,,16,330,330", "page,,16,254,335")
    g = deck_graph(root)
    assert g.value(IRIS.source_record("deck", 315), BM.page) == Literal(16, datatype=XSD.integer)
    assert g.value(IRIS.source_record("deck", 23), BM.page) is None


def test_every_swot_item_and_observation_has_a_source_record(root: Path) -> None:
    g = deck_graph(root)
    subjects = set(g.subjects(RDF.type, QB.Observation))
    for cls in (BM.Force, BM.Faiblesse, BM.Opportunite, BM.Menace):
        subjects |= set(g.subjects(RDF.type, cls))
    assert len(subjects) == 8 + 4
    for subject in subjects:
        record = g.value(subject, PROV.wasDerivedFrom)
        assert g.value(record, BM.fichier) is not None, subject
        assert g.value(record, BM.ligne) is not None, subject


# --- bad input ----------------------------------------------------------------------------------------
def expect_error(
    root: Path, file: str, line: int | None, field: str | None, value: object, words: str
) -> None:
    with pytest.raises(DataError) as caught:
        deck_graph(root)
    error = caught.value
    assert (error.file, error.line, error.field, error.value) == (file, line, field, value)
    assert words in str(error)
    assert error.hint


def test_missing_table(root: Path) -> None:
    (root / "data" / "curated" / "sectors.csv").unlink()
    expect_error(root, "data/curated/sectors.csv", None, None, None, "file not found")


def test_missing_column(root: Path) -> None:
    alter(root, "unemployment", "rate_percent,", "rate,")
    header = "territory,period,rate,change_1y_points,line_start,line_end"
    expect_error(root, "data/curated/unemployment.csv", 1, "rate_percent", header, "missing column")


def test_malformed_row(root: Path) -> None:
    alter(root, "swot_items", "secteur automobile,23,25", "secteur, automobile,23,25")
    with pytest.raises(DataError) as caught:
        deck_graph(root)
    assert (caught.value.file, caught.value.line) == ("data/curated/swot_items.csv", 3)
    assert "8 fields, the header has 7" in str(caught.value)


def test_unknown_occupation_label(root: Path) -> None:
    alter(root, "recruitment_projects", "Aides soignants,250", "Aides soignantes,250")
    expect_error(
        root,
        "data/curated/recruitment_projects.csv",
        3,
        "deck_label",
        "Aides soignantes",
        "unknown occupation",
    )


def test_unknown_territory(root: Path) -> None:
    alter(root, "swot_items", "ze2010-3123,faiblesse", "ze2010-9999,faiblesse")
    expect_error(root, "data/curated/swot_items.csv", 3, "territory", "ze2010-9999", "unknown territory")


def test_unknown_territory_in_the_territories_table(root: Path) -> None:
    append(root, "territories", "ze2010-3122,Lens Hénin,ze2010,3122,87,177")
    expect_error(root, "data/curated/territories.csv", 5, "key", "ze2010-3122", "unknown territory")


def test_item_key_must_match_territory_category_and_rank(root: Path) -> None:
    alter(root, "swot_items", "swot/ze2010-3123/faiblesse-1", "swot/ze2010-3123/faiblesse-2")
    expect_error(
        root, "data/curated/swot_items.csv", 3, "item", "swot/ze2010-3123/faiblesse-2", "does not match"
    )


@pytest.mark.parametrize(
    ("stem", "old", "new", "line", "field", "value", "words"),
    [
        (
            "actor_mentions",
            "perspective/2,team2",
            "perspective/2,team3",
            5,
            "actor",
            "team3",
            "unknown actor",
        ),
        (
            "item_sectors",
            "perspective/2,economie-circulaire",
            "perspective/2,recyclage",
            7,
            "sector",
            "recyclage",
            "unknown sector",
        ),
        ("item_sectors", "perspective/2,", "perspective/9,", 7, "item", "perspective/9", "unknown item"),
        (
            "actors",
            "team2,TEAM2,pole-competitivite",
            "team2,TEAM2,pole",
            4,
            "type",
            "pole",
            "unknown actor type",
        ),
        ("occupations", "V2Z92,exact", "V2Z92,guess", 7, "match", "guess", "unknown match"),
        (
            "occupations",
            "Chefs cuisiniers,S1Z80",
            "Chefs cuisiniers,S1Z8",
            6,
            "codes_fap2009",
            "S1Z8",
            "not a FAP-2009",
        ),
        (
            "occupations",
            "S1Z80,exact",
            "S1Z80 S1Z40,exact",
            6,
            "codes_fap2009",
            "S1Z80 S1Z40",
            "needs exactly one",
        ),
        ("swot_items", "faiblesse,1,", "weakness,1,", 3, "category", "weakness", "unknown category"),
        ("unemployment", "2018-Q2,10.7", "T2 2018,10.7", 2, "period", "T2 2018", "not a quarter"),
        (
            "territory_names",
            "Béthune Bruay,ze2010",
            "Béthune Bruay,ze2020",
            2,
            "scheme",
            "ze2020",
            "unknown scheme",
        ),
        ("actor_types", "place", "building", 4, "kind", "building", "unknown kind"),
    ],
)
def test_unknown_references_in_reviewed_tables(
    root: Path, stem: str, old: str, new: str, line: int, field: str, value: str, words: str
) -> None:
    alter(root, stem, old, new)
    expect_error(root, f"data/curated/{stem}.csv", line, field, value, words)


@pytest.mark.parametrize(
    ("stem", "old", "new", "line", "field", "value"),
    [
        ("recruitment_projects", ",1152,", ',"1 152",', 4, "projects", "1 152"),
        (
            "recruitment_difficulties",
            "Vétérinaires,100,",
            "Vétérinaires,100%,",
            4,
            "difficult_share_percent",
            "100%",
        ),
        ("unemployment", "14.9,", "14,9,", 3, None, None),  # an unquoted comma: one field too many
        ("swot_items", "faiblesse,1,", "faiblesse,first,", 3, "rank", "first"),
        ("multipliers", "1,1.5,3", "1,1.5,trois", 2, "induced_jobs", "trois"),
        ("swot_items", ",23,25", ",23,2x", 3, "line_end", "2x"),
    ],
)
def test_non_numeric_values(
    root: Path, stem: str, old: str, new: str, line: int, field: str | None, value: str | None
) -> None:
    alter(root, stem, old, new)
    with pytest.raises(DataError) as caught:
        deck_graph(root)
    assert (caught.value.file, caught.value.line) == (f"data/curated/{stem}.csv", line)
    if field is not None:
        assert (caught.value.field, caught.value.value) == (field, value)


def test_duplicate_item(root: Path) -> None:
    append(root, "swot_items", "swot/ze2010-3123/force-1,ze2010-3123,force,1,Encore,4,10")
    expect_error(
        root, "data/curated/swot_items.csv", 6, "item", "swot/ze2010-3123/force-1", "duplicate identifier"
    )


def test_duplicate_observation(root: Path) -> None:
    append(root, "recruitment_projects", "ze2010-3123,6,Aides soignants,251,77,77")
    with pytest.raises(DataError) as caught:
        deck_graph(root)
    assert (caught.value.file, caught.value.line, caught.value.field) == (
        "data/curated/recruitment_projects.csv",
        5,
        "territory,deck_label",
    )
    assert "same observation as line 3" in str(caught.value)


@pytest.mark.parametrize(
    ("stem", "key"), [("actors", "actor"), ("sectors", "sector"), ("occupations", "deck_label")]
)
def test_duplicate_reviewed_identifiers(root: Path, stem: str, key: str) -> None:
    first_row = (root / "data" / "curated" / f"{stem}.csv").read_text(encoding="utf-8").splitlines()[1]
    append(root, stem, first_row)
    with pytest.raises(DataError, match="duplicate identifier") as caught:
        deck_graph(root)
    assert caught.value.field == key


def test_multiplier_outside_every_link(root: Path) -> None:
    alter(root, "multipliers", "376,379", "360,361")
    expect_error(root, "data/curated/multipliers.csv", 2, "line_start", 360, "inside no link")


def test_deck_without_a_date(root: Path) -> None:
    alter(root, "deck_metadata", "date,,8 avril 2019", "scope,,8 avril 2019")
    expect_error(root, "data/curated/deck_metadata.csv", None, "kind", None, "no date row")


def test_unreadable_date(root: Path) -> None:
    alter(root, "deck_metadata", "8 avril 2019", "8 avrol 2019")
    expect_error(root, "data/curated/deck_metadata.csv", 4, "value", "8 avrol 2019", "not a date")
