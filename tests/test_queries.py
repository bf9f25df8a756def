"""Tests of bassin_kg.queries: header parsing, safe binding, running, formatting, and the named queries."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from bassin_kg import queries as q
from bassin_kg.cli import main
from bassin_kg.errors import DataError, StoreError, UsageError
from bassin_kg.namespaces import Iris
from bassin_kg.progress import Progress
from bassin_kg.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "queries"
EXPECTED = Path(__file__).resolve().parent / "queries"

# A base other than the default, to prove that no query hard-codes data IRIs.
BASE = "http://example.org/kg/"

# SYNTHETIC data following ontology/MODEL.md: a few triples in the shape of the deck graph, with
# made-up texts and figures. It tests the queries' logic, not the deck's content.
SYNTHETIC_TTL = """
@prefix bm: <https://w3id.org/bassin-minier/def#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix qb: <http://purl.org/linked-data/cube#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#> .
@prefix igeo: <http://rdf.insee.fr/def/geo#> .
@prefix id: <http://example.org/kg/id/> .

bm:Force rdfs:label "Force"@fr, "Strength"@en .
bm:Menace rdfs:label "Menace"@fr .

id:territoire\\/ze2010\\/1111 a igeo:ZoneDEmploi2010 ; skos:prefLabel "Zone Un"@fr ;
    igeo:nom "Zone 1 (nom INSEE)"@fr .
id:territoire\\/ze2010\\/2222 a igeo:ZoneDEmploi2010 ; skos:prefLabel "Zone Deux"@fr .

id:swot\\/ze2010-1111\\/menace-1 a bm:Menace ; bm:territoire id:territoire\\/ze2010\\/1111 ; bm:rang 1 ;
    rdfs:label "menace synthétique" ; dcterms:subject id:secteur\\/velo .
id:swot\\/ze2010-1111\\/force-2 a bm:Force ; bm:territoire id:territoire\\/ze2010\\/1111 ; bm:rang 2 ;
    rdfs:label "force deux" ; bm:mentionne id:acteur\\/labo-x .
id:swot\\/ze2010-1111\\/force-1 a bm:Force ; bm:territoire id:territoire\\/ze2010\\/1111 ; bm:rang 1 ;
    rdfs:label "force un" ; dcterms:subject id:secteur\\/velo ; bm:mentionne id:acteur\\/labo-x .
id:swot\\/ze2010-2222\\/opportunite-1 a bm:Opportunite ; bm:territoire id:territoire\\/ze2010\\/2222 ;
    bm:rang 1 ; rdfs:label "opportunité deux" ; dcterms:subject id:secteur\\/velo .

id:secteur\\/velo a skos:Concept ; skos:prefLabel "vélo"@fr, "bicycle"@en .
id:acteur\\/labo-x a bm:Acteur, org:Organization ; skos:prefLabel "Labo X" ;
    dcterms:type id:type-acteur\\/laboratoire .
id:type-acteur\\/laboratoire a skos:Concept ; skos:prefLabel "laboratoire"@fr, "laboratory"@en .

id:metier\\/deck\\/soudeurs a skos:Concept ; skos:prefLabel "Soudeurs" ;
    skos:narrowMatch id:metier\\/fap2009\\/D2Z41, id:metier\\/fap2009\\/D1Z40 ;
    skos:exactMatch id:rome\\/H2913 .
id:metier\\/deck\\/peintres a skos:Concept ; skos:prefLabel "Peintres" ;
    skos:exactMatch id:metier\\/fap2009\\/B4Z42 .

id:obs\\/p\\/1111\\/soudeurs a qb:Observation ; sdmx-dimension:refArea id:territoire\\/ze2010\\/1111 ;
    bm:metierDiaporama id:metier\\/deck\\/soudeurs ; bm:rang 2 ; bm:projetsRecrutement 40 .
id:obs\\/p\\/1111\\/peintres a qb:Observation ; sdmx-dimension:refArea id:territoire\\/ze2010\\/1111 ;
    bm:metierDiaporama id:metier\\/deck\\/peintres ; bm:rang 1 ; bm:projetsRecrutement 1234 .
id:obs\\/p\\/2222\\/soudeurs a qb:Observation ; sdmx-dimension:refArea id:territoire\\/ze2010\\/2222 ;
    bm:metierDiaporama id:metier\\/deck\\/soudeurs ; bm:rang 1 ; bm:projetsRecrutement 7 .

id:obs\\/d\\/1111\\/soudeurs a qb:Observation ; sdmx-dimension:refArea id:territoire\\/ze2010\\/1111 ;
    bm:metierDiaporama id:metier\\/deck\\/soudeurs ; bm:rang 1 ; bm:partProjetsDifficiles 100.0 .
id:obs\\/d\\/2222\\/soudeurs a qb:Observation ; sdmx-dimension:refArea id:territoire\\/ze2010\\/2222 ;
    bm:metierDiaporama id:metier\\/deck\\/soudeurs ; bm:rang 3 ; bm:partProjetsDifficiles 87.5 .
id:obs\\/d\\/2222\\/peintres a qb:Observation ; sdmx-dimension:refArea id:territoire\\/ze2010\\/2222 ;
    bm:metierDiaporama id:metier\\/deck\\/peintres ; bm:rang 1 ; bm:partProjetsDifficiles 100.0 .

id:obs\\/c\\/1111 a qb:Observation ; sdmx-dimension:refArea id:territoire\\/ze2010\\/1111 ;
    sdmx-dimension:refPeriod <http://reference.data.gouv.uk/id/quarter/2018-Q2> ;
    bm:tauxChomage 11.5 ; bm:evolutionTauxChomage1An -0.3 .
id:obs\\/c\\/2222 a qb:Observation ; sdmx-dimension:refArea id:territoire\\/ze2010\\/2222 ;
    sdmx-dimension:refPeriod <http://reference.data.gouv.uk/id/quarter/2018-Q2> ; bm:tauxChomage 9 .
"""


def _synthetic_store(path: str | None = None) -> ox.Store:
    store = ox.Store(path)
    # in a named graph, as a build does: the queries must see it through the union default graph
    store.load(SYNTHETIC_TTL, ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(BASE + "id/graph/deck"))
    return store


@pytest.fixture(scope="module")
def store() -> ox.Store:
    return _synthetic_store()


@pytest.fixture(scope="module")
def named() -> dict[str, q.NamedQuery]:
    return q.load_queries(QUERIES)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.rq"
    path.write_text(text, encoding="utf-8")
    return path


def _rows(result: q.QueryResult) -> list[tuple[str, ...]]:
    """Result rows as pyoxigraph's CSV writes them (header excluded)."""
    return [tuple(r) for r in csv.reader(io.StringIO(q.format_results(result, "csv")))][1:]


def _run(store: ox.Store, query: q.NamedQuery, **values: str) -> list[tuple[str, ...]]:
    return _rows(q.run_query(store, q.bind(query, values, Iris(BASE))))


# --- loading -------------------------------------------------------------------------------------

GOOD = """\
# title: Synthetic query
# description: first line
# description: second line
# a free comment is allowed
# param: territory ze2010 — the zone
# param: limit integer default=5 — how many
# param: word string optional
# example: territory=1111
# example: territory=2222 word="deux mots"
PREFIX bm: <https://w3id.org/bassin-minier/def#>
SELECT ?item ?limit ?word WHERE { ?item bm:territoire ?territory } LIMIT 10
"""


def test_load_query_parses_the_header(tmp_path: Path) -> None:
    query = q.load_query(_write(tmp_path, "synthetic-one", GOOD))
    assert query.name == "synthetic-one"
    assert query.title == "Synthetic query"
    assert query.description == "first line second line"
    assert query.params == (
        q.QueryParam("territory", "ze2010", "the zone", required=True, default=None),
        q.QueryParam("limit", "integer", "how many", required=False, default="5"),
        q.QueryParam("word", "string", "", required=False, default=None),
    )
    assert query.examples == ({"territory": "1111"}, {"territory": "2222", "word": "deux mots"})
    assert query.text == GOOD


@pytest.mark.parametrize(
    ("header", "line", "message"),
    [
        ("# title: t\n# param: x territory-code — bad kind\n", 2, "unknown parameter kind"),
        ("# title: t\n# param: x ze2010\n# param: x integer\n", 3, "duplicate parameter"),
        ("# description: no title\n", 1, "no title"),
        ("# title: t\n# title: again\n", 2, "second title"),
        ("# title: t\n# params: x ze2010\n", 2, "unknown header key 'params'"),
        ("# title: t\n# param: x ze2010 sometimes — what\n", 2, "malformed param line"),
        ("# title: t\n# param: x-y ze2010\n", 2, "SPARQL variable name"),
        ("# title: t\n# param: x ze2010 default=31 — d\n", 2, "bad default"),
        ("# title: t\n# param: x ze2010\n# example: y=1111\n", 3, "unknown parameter"),
        ("# title: t\n# param: x ze2010\n# example: x=abc\n", 3, "bad example"),
        ("# title: t\n# param: x ze2010\n# example:\n", 3, "lacks required"),
    ],
)
def test_bad_header_names_file_and_line(tmp_path: Path, header: str, line: int, message: str) -> None:
    path = _write(tmp_path, "bad", header + "SELECT * WHERE { ?x ?p ?o }\n")
    with pytest.raises(DataError, match=message) as info:
        q.load_query(path)
    assert f"{path}:{line}" in str(info.value)


def test_bad_sparql_is_reported_with_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "broken", "# title: t\nSELECT * WHERE { ?x ?p }\n")
    with pytest.raises(DataError, match="SPARQL syntax error") as info:
        q.load_query(path)
    assert str(path) in str(info.value)


def test_parameters_need_a_where_clause(tmp_path: Path) -> None:
    path = _write(tmp_path, "nowhere", "# title: t\n# param: x ze2010\nSELECT * { ?x ?p ?o }\n")
    with pytest.raises(DataError, match="WHERE"):
        q.load_query(path)


def test_parameters_must_be_query_variables(tmp_path: Path) -> None:
    path = _write(tmp_path, "unused", "# title: t\n# param: zone ze2010\nSELECT * WHERE { ?zones ?p ?o }\n")
    with pytest.raises(DataError, match=r"'zone' is not used as \?zone"):
        q.load_query(path)


def test_query_file_names_are_slugs(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="lower-case"):
        q.load_query(_write(tmp_path, "Bad_Name", "# title: t\nSELECT * WHERE { ?x ?p ?o }\n"))


def test_load_queries_reads_every_file(tmp_path: Path) -> None:
    _write(tmp_path, "one", "# title: One\nSELECT * WHERE { ?x ?p ?o }\n")
    _write(tmp_path, "two", "# title: Two\nASK { ?x ?p ?o }\n")
    (tmp_path / "notes.txt").write_text("not a query", encoding="utf-8")
    assert sorted(q.load_queries(tmp_path)) == ["one", "two"]


def test_load_queries_needs_the_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        q.load_queries(tmp_path / "missing")


def test_project_queries_load_with_titles_and_examples(named: dict[str, q.NamedQuery]) -> None:
    mine = {
        "swot-territoire",
        "top-projets-recrutement",
        "metiers-difficiles",
        "territoires-par-secteur",
        "territoires-par-acteur",
        "chomage-par-territoire",
        "acteurs-territoire",
    }
    assert mine <= set(named)
    for query in named.values():
        assert query.title, query.name
        assert query.description, query.name
        if any(p.required for p in query.params):
            assert query.examples, f"{query.name} has required parameters but no example"


# --- binding -------------------------------------------------------------------------------------


@pytest.fixture
def synthetic(tmp_path: Path) -> q.NamedQuery:
    return q.load_query(_write(tmp_path, "synthetic", GOOD))


def test_bind_injects_values_after_where(synthetic: q.NamedQuery) -> None:
    text = q.bind(synthetic, {"territory": "1111", "word": "vélo"}, Iris(BASE))
    head, sep, tail = text.partition("WHERE {")
    assert sep
    assert tail.startswith(
        f"\n  VALUES (?territory ?limit ?word) {{ (<{BASE}id/territoire/ze2010/1111> "
        '"5"^^<http://www.w3.org/2001/XMLSchema#integer> "vélo") }\n'
    )
    assert head == GOOD.partition("WHERE {")[0]


def test_bind_without_values_leaves_the_text(tmp_path: Path) -> None:
    query = q.load_query(
        _write(tmp_path, "opt", "# title: t\n# param: x ze2010 optional\nSELECT ?x WHERE {}\n")
    )
    assert q.bind(query, {}, Iris(BASE)) == query.text


def test_bind_rejects_unknown_parameter(synthetic: q.NamedQuery) -> None:
    with pytest.raises(q.ParameterError, match=r"pas de paramètre « zone ».*territory, limit, word"):
        q.bind(synthetic, {"territory": "1111", "zone": "1"}, Iris(BASE))


def test_bind_requires_required_parameters(synthetic: q.NamedQuery) -> None:
    with pytest.raises(q.ParameterError, match="a besoin du paramètre « territory »") as info:
        q.bind(synthetic, {}, Iris(BASE))
    assert isinstance(info.value, UsageError)
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("kind", "value", "term"),
    [
        ("ze2010", "3123", f"<{BASE}id/territoire/ze2010/3123>"),
        ("ze2020", "3205", f"<{BASE}id/territoire/ze2020/3205>"),
        ("bassin-bmo", "3225", f"<{BASE}id/territoire/bassin-bmo/3225>"),
        ("commune", "2A004", f"<{BASE}id/commune/2A004>"),
        ("rome", "K1302", f"<{BASE}id/rome/K1302>"),
        ("fap2009", "T2A60", f"<{BASE}id/metier/fap2009/T2A60>"),
        ("fap2021", "T2A60", f"<{BASE}id/metier/fap2021/T2A60>"),
        ("sector", "automobile", f"<{BASE}id/secteur/automobile>"),
        ("actor", "critt-m2a", f"<{BASE}id/acteur/critt-m2a>"),
        ("iri", "http://data.europa.eu/esco/occupation/abc", "<http://data.europa.eu/esco/occupation/abc>"),
        ("integer", "-12", '"-12"^^<http://www.w3.org/2001/XMLSchema#integer>'),
        ("decimal", "12.5", '"12.5"^^<http://www.w3.org/2001/XMLSchema#decimal>'),
        # the French decimal comma, as a French user types it
        ("decimal", "90,5", '"90.5"^^<http://www.w3.org/2001/XMLSchema#decimal>'),
        ("string", 'il dit "oui"', '"il dit \\"oui\\""'),
    ],
)
def test_bind_converts_each_kind(tmp_path: Path, kind: str, value: str, term: str) -> None:
    query = q.load_query(_write(tmp_path, "k", f"# title: t\n# param: v {kind}\nSELECT ?v WHERE {{}}\n"))
    assert f"VALUES (?v) {{ ({term}) }}" in q.bind(query, {"v": value}, Iris(BASE))


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("ze2010", '3123" } ; DROP ALL #'),
        ("ze2010", "3123\n"),
        ("ze2010", "312"),
        ("sector", "Automobile"),
        ("actor", "critt m2a"),
        ("actor", "../x"),
        ("rome", "k1302"),
        ("integer", "1.5"),
        ("decimal", "1,5,3"),
        ("decimal", "1.5,3"),
        ("iri", "http://x/> } SELECT * {"),
        ("iri", "http://x/a b"),
        ("iri", "javascript:alert(1)"),
        ("iri", "http://x/\n"),
        ("string", "ligne\nDROP ALL"),
        ("string", "x" * 501),
    ],
)
def test_bind_rejects_malformed_values(tmp_path: Path, kind: str, value: str) -> None:
    query = q.load_query(_write(tmp_path, "k", f"# title: t\n# param: v {kind}\nSELECT ?v WHERE {{}}\n"))
    with pytest.raises(q.ParameterError) as info:
        q.bind(query, {"v": value}, Iris(BASE))
    message = str(info.value)
    assert "« v »" in message
    assert repr(value) in message


def test_bind_rejects_an_iri_with_illegal_characters_past_the_pattern(tmp_path: Path) -> None:
    # the pattern lets it through; pyoxigraph's IRI parser still refuses an invalid port
    query = q.load_query(_write(tmp_path, "k", "# title: t\n# param: v iri\nSELECT ?v WHERE {}\n"))
    with pytest.raises(q.ParameterError, match="pas une IRI valide"):
        q.bind(query, {"v": "http://x:port/"}, Iris(BASE))


def test_injection_in_a_string_stays_a_literal(tmp_path: Path, store: ox.Store) -> None:
    query = q.load_query(
        _write(
            tmp_path, "k", "# title: t\n# param: v string\nSELECT ?v (COUNT(*) AS ?n) WHERE {} GROUP BY ?v\n"
        )
    )
    attack = '3123" } ; DROP ALL # > } SELECT * { '
    result = q.run_query(store, q.bind(query, {"v": attack}, Iris(BASE)))
    assert isinstance(result, q.SelectResult)
    assert result.rows == ((ox.Literal(attack), ox.Literal("1", datatype=ox.NamedNode(q.XSD + "integer"))),)
    assert len(store) > 0  # nothing was dropped


def test_where_is_found_outside_comments_strings_and_iris() -> None:
    text = (
        "# a comment that says WHERE {\n"
        'PREFIX ex: <http://x/#>\nSELECT ("WHERE {" AS ?s) (ex:where AS ?t) ?somewhere\nwhere  {\n ?x ?p ?o }'
    )
    position = q._where_brace(text)
    assert position is not None
    assert text[:position].endswith("where  {")
    assert q._where_brace("SELECT * { ?x ?p ?o }") is None


# --- running and formatting ----------------------------------------------------------------------


def test_run_query_reads_the_union_of_named_graphs(store: ox.Store) -> None:
    result = q.run_query(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?type }")
    assert isinstance(result, q.SelectResult)
    count = result.rows[0][0]
    assert isinstance(count, ox.Literal)
    assert int(count.value) > 10


def test_run_query_ask_and_construct(store: ox.Store) -> None:
    assert q.run_query(store, "ASK { ?s a <http://rdf.insee.fr/def/geo#ZoneDEmploi2010> }") is True
    triples = q.run_query(store, "CONSTRUCT { ?s a <http://x/Zone> } WHERE { ?s a ?t } LIMIT 2")
    assert isinstance(triples, tuple)
    assert len(triples) == 2
    assert q.format_results(triples, "table").count(" .\n") == 2


def test_run_query_stops_at_the_timeout(store: ox.Store) -> None:
    with pytest.raises(q.QueryTimeoutError, match="longer than"):
        q.run_query(store, "SELECT * WHERE { ?s ?p ?o }", timeout=0.0)


def test_run_query_reports_syntax_errors(store: ox.Store) -> None:
    with pytest.raises(UsageError, match="syntax"):
        q.run_query(store, "SELECT WHERE")


TABLE_QUERY = """
PREFIX bm: <https://w3id.org/bassin-minier/def#>
SELECT ?label ?projects ?missing WHERE {
  ?obs bm:projetsRecrutement ?projects ; <http://purl.org/linked-data/sdmx/2009/dimension#refArea> ?t .
  ?t <http://www.w3.org/2004/02/skos/core#prefLabel> ?label .
  OPTIONAL { ?obs <http://x/none> ?missing }
} ORDER BY DESC(?projects)
"""


def test_format_table_aligns_columns_and_right_aligns_numbers(store: ox.Store) -> None:
    table = q.format_results(q.run_query(store, TABLE_QUERY), "table")
    assert table.splitlines() == [
        "label      projects  missing",
        "---------  --------  -------",
        "Zone Un        1234",
        "Zone Un          40",
        "Zone Deux         7",
        "(3 rows)",
    ]


def test_format_csv_tsv_json(store: ox.Store) -> None:
    result = q.run_query(store, TABLE_QUERY)
    assert q.format_results(result, "csv").splitlines()[:2] == ["label,projects,missing", "Zone Un,1234,"]
    assert q.format_results(result, "tsv").splitlines()[:2] == [
        "?label\t?projects\t?missing",
        '"Zone Un"@fr\t1234\t',
    ]
    data = json.loads(q.format_results(result, "json"))
    assert data["head"]["vars"] == ["label", "projects", "missing"]
    assert data["results"]["bindings"][0]["label"] == {
        "type": "literal",
        "value": "Zone Un",
        "xml:lang": "fr",
    }
    # results are read once and can be formatted again
    assert q.format_results(result, "csv") == q.format_results(result, "csv")


def test_format_boolean_and_unknown_format() -> None:
    assert json.loads(q.format_results(True, "json")) == {"head": {}, "boolean": True}
    assert q.format_results(False, "table") == "no\n"
    with pytest.raises(UsageError, match="unknown format 'xml'"):
        q.format_results(False, "xml")


# --- the named queries on synthetic data ----------------------------------------------------------


def test_swot_territoire_orders_by_box_then_rank(store: ox.Store, named: dict[str, q.NamedQuery]) -> None:
    assert _run(store, named["swot-territoire"], territory="1111") == [
        ("Zone Un", "Force", "1", "force un"),
        ("Zone Un", "Force", "2", "force deux"),
        # no French label in this synthetic ontology: the class's local name stands in
        ("Zone Un", "Menace", "1", "menace synthétique"),
    ]
    assert _run(store, named["swot-territoire"], territory="9999") == []


def test_top_projets_recrutement(store: ox.Store, named: dict[str, q.NamedQuery]) -> None:
    assert _run(store, named["top-projets-recrutement"]) == [
        ("Zone Deux", "1", "Soudeurs", "7"),
        ("Zone Un", "1", "Peintres", "1234"),
        ("Zone Un", "2", "Soudeurs", "40"),
    ]
    assert _run(store, named["top-projets-recrutement"], territory="2222") == [
        ("Zone Deux", "1", "Soudeurs", "7")
    ]


def test_metiers_difficiles_groups_by_occupation(store: ox.Store, named: dict[str, q.NamedQuery]) -> None:
    assert _run(store, named["metiers-difficiles"]) == [
        # only FAP-2009 codes, not the ROME match; territories sorted, with their share
        ("Soudeurs", "D1Z40 D2Z41", "Zone Deux (87.5 %), Zone Un (100 %)", "2"),
        ("Peintres", "B4Z42", "Zone Deux (100 %)", "1"),
    ]


def test_territoires_par_secteur_and_acteur(store: ox.Store, named: dict[str, q.NamedQuery]) -> None:
    assert _run(store, named["territoires-par-secteur"], sector="velo") == [
        ("vélo", "Zone Deux", "Opportunite", "1", "opportunité deux"),
        ("vélo", "Zone Un", "Force", "1", "force un"),
        ("vélo", "Zone Un", "Menace", "1", "menace synthétique"),
    ]
    assert _run(store, named["territoires-par-acteur"], actor="labo-x") == [
        ("Labo X", "Zone Un", "Force", "1", "force un"),
        ("Labo X", "Zone Un", "Force", "2", "force deux"),
    ]


def test_chomage_par_territoire(store: ox.Store, named: dict[str, q.NamedQuery]) -> None:
    assert _run(store, named["chomage-par-territoire"]) == [
        ("Zone Deux", "2018-Q2", "9", ""),
        ("Zone Un", "2018-Q2", "11.5", "-0.3"),
    ]


def test_acteurs_territoire(store: ox.Store, named: dict[str, q.NamedQuery]) -> None:
    assert _run(store, named["acteurs-territoire"], territory="1111") == [
        ("Labo X", "laboratoire", "Force", "1", "force un"),
        ("Labo X", "laboratoire", "Force", "2", "force deux"),
    ]


# --- command line --------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Settings:
    shutil.copytree(QUERIES, tmp_path / "queries")
    store = _synthetic_store(str(tmp_path / "store"))
    store.flush()
    del store
    return Settings(root=tmp_path, base_iri=BASE, store=tmp_path / "store")


def test_run_cli_query_prints_a_table(project: Settings) -> None:
    out = io.StringIO()
    assert q.run_cli_query(project, "chomage-par-territoire", {}, fmt="table", out=out) == 0
    assert out.getvalue().splitlines() == [
        "territoryLabel  period   rate  change1y",
        "--------------  -------  ----  --------",
        "Zone Deux       2018-Q2     9",
        "Zone Un         2018-Q2  11.5      -0.3",
        "(2 rows)",
    ]


def test_run_cli_query_unknown_name_lists_queries(project: Settings) -> None:
    with pytest.raises(UsageError, match=r"no query named 'nope'; available: .*swot-territoire"):
        q.run_cli_query(project, "nope", {}, fmt="table", out=io.StringIO())


def test_run_cli_query_without_store_says_to_build(project: Settings, tmp_path: Path) -> None:
    settings = project.replace(store=tmp_path / "nowhere")
    with pytest.raises(StoreError, match=r"run .bassin-kg build. first"):
        q.run_cli_query(settings, "chomage-par-territoire", {}, fmt="csv", out=io.StringIO())


def test_cli_query_command(project: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--root", str(project.root), "--base-iri", BASE, "query", "swot-territoire"]
    assert main([*args, "--param", "territory=1111", "--format", "csv", "--store", str(project.store)]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "Zone Un,Force,1,force un"
    assert main([*args, "--param", 'territory=1111" } DROP ALL', "--store", str(project.store)]) == 2
    assert "paramètre « territoire »" in capsys.readouterr().err


def test_a_french_parameter_name_binds_its_variable_and_the_old_name_still_works(tmp_path: Path) -> None:
    text = "# title: t\n# param: territoire ze2010 var=territory — zone\n# example: territoire=3123\n"
    query = q.load_query(_write(tmp_path, "fr", text + "SELECT ?territory WHERE { }\n"))
    assert query.params[0].name == "territoire"
    assert query.params[0].variable == "territory"
    bound = f"VALUES (?territory) {{ (<{BASE}id/territoire/ze2010/3123>) }}"
    assert bound in q.bind(query, {"territoire": "3123"}, Iris(BASE))
    # a link made before the rename
    assert bound in q.bind(query, {"territory": "3123"}, Iris(BASE))
    with pytest.raises(q.ParameterError, match="deux fois"):
        q.bind(query, {"territory": "3123", "territoire": "3122"}, Iris(BASE))


def test_requires_header_names_the_data_set_and_what_it_is(tmp_path: Path) -> None:
    text = "# title: t\n# requires: acoss-effectifs-ze — séries Urssaf\nSELECT * WHERE { }\n"
    query = q.load_query(_write(tmp_path, "req", text))
    assert query.requires == (("acoss-effectifs-ze", "séries Urssaf"),)
    with pytest.raises(DataError, match="malformed requires"):
        q.load_query(_write(tmp_path, "bad", "# title: t\n# requires: Not A Name\nSELECT * WHERE { }\n"))


def test_cli_query_list_names_every_query_and_its_parameters(
    project: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--root", str(project.root), "query", "--list"]) == 0
    out = capsys.readouterr().out
    assert "swot-territoire\n" in out
    assert "--param territoire=" in out
    assert main(["--root", str(project.root), "query"]) == 2
    assert "--list" in capsys.readouterr().err


def test_cli_french_csv_is_semicolons_decimal_comma_and_bom(
    project: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--root", str(project.root), "--base-iri", BASE, "query", "chomage-par-territoire"]
    assert main([*args, "--format", "csv-fr", "--store", str(project.store)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("\ufeffterritoryLabel;")
    assert "\r\nZone Un;2018-Q2;11,5;-0,3\r\n" in out
    # the plain CSV stays RFC 4180 for programs
    assert main([*args, "--format", "csv", "--store", str(project.store)]) == 0
    plain = capsys.readouterr().out
    assert not plain.startswith("\ufeff")
    assert "Zone Un,2018-Q2,11.5,-0.3" in plain


# --- expected results on the real graph ----------------------------------------------------------

EXPECTED_FILES = sorted(EXPECTED.glob("*.expected.csv"))


@pytest.fixture(scope="module")
def real_store(tmp_path_factory: pytest.TempPathFactory) -> ox.Store:
    """The graph built from the committed data, in a copy of the project."""
    from bassin_kg.release.build import build

    root = tmp_path_factory.mktemp("real")
    for folder in ("data", "ontology", "shapes"):
        shutil.copytree(ROOT / folder, root / folder)
    settings = Settings(root=root, build_dir=root / "build")
    build(settings, progress=Progress(quiet=True))
    return ox.Store.read_only(str(settings.store_path))


def test_every_expected_file_has_its_query(named: dict[str, q.NamedQuery]) -> None:
    assert EXPECTED_FILES, "no expected result in tests/queries/"
    for path in EXPECTED_FILES:
        assert path.name.removesuffix(".expected.csv") in named, path


@pytest.mark.parametrize("expected", EXPECTED_FILES, ids=lambda p: p.name.removesuffix(".expected.csv"))
def test_query_gives_expected_rows(
    expected: Path, real_store: ox.Store, named: dict[str, q.NamedQuery]
) -> None:
    query = named[expected.name.removesuffix(".expected.csv")]
    # the first example's parameters (a query without required parameters may have none)
    values = query.examples[0] if query.examples else {}
    result = q.run_query(real_store, q.bind(query, values, Iris()))
    actual = list(csv.reader(io.StringIO(q.format_results(result, "csv"))))
    wanted = list(csv.reader(io.StringIO(expected.read_text(encoding="utf-8"))))
    assert actual[0] == wanted[0], "columns differ"
    # compared as unordered rows (a multiset), as rdflib's data-driven query tests do
    assert Counter(map(tuple, actual[1:])) == Counter(map(tuple, wanted[1:]))
