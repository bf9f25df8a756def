"""web/describe.py helpers: links under the base, labels of unlabelled IRIs, French numbers, actor links."""

from __future__ import annotations

import pytest

from bassin_kg.web.describe import (
    Links,
    Overlap,
    Segment,
    Shown,
    Source,
    construct_query,
    fallback_label,
    format_date,
    format_number,
    format_share,
    line_ranges,
    link_actors,
    main_zone,
    node,
)

BASE = "https://w3id.org/bassin-minier/"
XSD = "http://www.w3.org/2001/XMLSchema#"


class TestLinks:
    def test_our_iris_become_paths_on_this_server(self) -> None:
        links = Links(BASE, "/kg")
        assert links.href(BASE + "id/territoire/ze2010/3123") == "/kg/id/territoire/ze2010/3123"
        assert links.href(BASE + "def#Force") == "/kg/def#Force"
        assert links.href(BASE + "def") == "/kg/def"
        assert links.iri("id/acteur/x") == BASE + "id/acteur/x"

    def test_other_web_iris_stay_and_other_schemes_are_not_links(self) -> None:
        links = Links(BASE)
        assert links.href("http://rdf.insee.fr/def/geo#Commune") == "http://rdf.insee.fr/def/geo#Commune"
        assert links.href("javascript:alert(1)") is None
        assert links.href("data:text/html,x") is None

    def test_ontology_terms_keep_their_fixed_namespace_under_another_base(self) -> None:
        links = Links("http://example.org/other/")
        assert links.href(BASE + "def#Force") == "/def#Force"
        assert links.href(BASE + "id/x") == BASE + "id/x"  # not ours under this base


class TestLabels:
    @pytest.mark.parametrize(
        ("iri", "label"),
        [
            ("http://reference.data.gouv.uk/id/quarter/2018-Q2", "2e trimestre 2018"),
            ("http://reference.data.gouv.uk/id/quarter/2019-Q1", "1er trimestre 2019"),
            ("http://reference.data.gouv.uk/id/year/2018", "2018"),
            ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "type"),
            ("http://www.w3.org/2004/02/skos/core#related", "skos:related"),
            ("http://example.org/a/b/last", "last"),
        ],
    )
    def test_fallback_label(self, iri: str, label: str) -> None:
        assert fallback_label(iri) == label

    @pytest.mark.parametrize(
        ("lexical", "datatype", "shown"),
        [
            ("1576", "integer", "1\u202f576"),
            ("10.7", "decimal", "10,7"),
            ("-0.4", "decimal", "-0,4"),
            ("100", "decimal", "100"),
            ("1234567", "integer", "1\u202f234\u202f567"),
        ],
    )
    def test_french_numbers(self, lexical: str, datatype: str, shown: str) -> None:
        assert format_number(lexical, XSD + datatype) == shown

    def test_non_numbers_are_left_alone(self) -> None:
        assert format_number("3123", XSD + "string") is None
        assert format_date("2019-04-08") == "8 avril 2019"
        assert format_date("2019-04-01") == "1er avril 2019"


class TestActorLinks:
    def test_names_are_linked_where_they_occur(self) -> None:
        actors = [
            ("CRITT M2A", Shown("CRITT M2A", "/id/acteur/critt-m2a")),
            ("Université d'Artois", Shown("Université d'Artois", "/id/acteur/univ")),
        ]
        text = "Acteurs (CRITT M2A) et l’université d’Artois"
        assert link_actors(text, actors) == [
            Segment("Acteurs ("),
            Segment("CRITT M2A", "/id/acteur/critt-m2a"),
            Segment(") et l’"),
            Segment("université d’Artois", "/id/acteur/univ"),
        ]

    def test_a_name_absent_from_the_text_changes_nothing(self) -> None:
        assert link_actors("Rien", [("X", Shown("X", "/id/acteur/x"))]) == [Segment("Rien")]


class TestQueries:
    def test_an_iri_enters_query_text_only_once_checked(self) -> None:
        assert node(BASE + "id/x") == f"<{BASE}id/x>"
        with pytest.raises(ValueError, match="Invalid IRI"):
            node(BASE + "id/x> } DROP ALL #")

    def test_construct_query_names_the_resource_both_ways(self) -> None:
        query = construct_query(BASE + "id/x")
        assert query.count(f"<{BASE}id/x>") >= 3


class TestOverlaps:
    # SYNTHETIC overlaps (made-up IRIs and shares)
    @staticmethod
    def zone(code: str, share: float, kind: str = "zone d'emploi 2020") -> Overlap:
        return Overlap(f"http://example.org/{code}", Shown(code), kind, code, None, share)

    @pytest.mark.parametrize(
        ("share", "shown"),
        [(0.8333, "83\u202f%"), (1.0, "100\u202f%"), (0.0098, "1\u202f%"), (0.004, "< 1\u202f%")],
    )
    def test_shares_as_french_percentages(self, share: float, shown: str) -> None:
        assert format_share(share) == shown

    def test_the_main_2020_zone_holds_more_than_half_of_the_communes(self) -> None:
        zones = [self.zone("a", 0.3), self.zone("b", 0.6), self.zone("bmo", 1.0, "bassin d'emploi BMO")]
        main = main_zone(zones)
        assert main is not None
        assert main.code == "b"  # a BMO bassin is not a 2020 employment zone, however large its share
        assert main_zone([self.zone("a", 0.5), self.zone("c", 0.2)]) is None

    def test_line_ranges_name_the_file_and_its_first_and_last_lines(self) -> None:
        def src(file: str, line: str) -> Source:
            return Source(Shown(line), file, line)

        sources = [
            src("x/acoss.csv", "7"),
            src("x/acoss.csv", "2"),
            src("x/acoss.csv", "13"),
            src("y.csv", "4"),
        ]
        assert line_ranges(sources) == ["x/acoss.csv, lignes 2–13", "y.csv, ligne 4"]
