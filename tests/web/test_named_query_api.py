"""Named queries as an API (``/queries/…``): typed parameters bound safely, any format, OpenAPI listing.

Runs on the REAL graph (real_graph.py) with the checkout's ``queries/``.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bassin_kg.queries import load_queries
from bassin_kg.settings import Settings
from bassin_kg.web.app import create_app

from .real_graph import PROJECT, real_settings

__all__ = ["real_settings"]

QUERIES = load_queries(PROJECT / "queries")
SWOT = "/queries/swot-territoire"
JSON_RESULTS = "application/sparql-results+json"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def client(real_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(real_settings)) as test_client:
        yield test_client


def bindings(response_json: dict[str, object]) -> list[dict[str, dict[str, str]]]:
    results = response_json["results"]
    assert isinstance(results, dict)
    rows = results["bindings"]
    assert isinstance(rows, list)
    return rows


class TestRunning:
    def test_json_by_default(self, client: TestClient) -> None:
        response = client.get(SWOT, params={"territoire": "3123"})
        assert response.status_code == 200
        assert response.headers["content-type"] == JSON_RESULTS
        rows = bindings(response.json())
        assert len(rows) == 11  # Béthune-Bruay: 3 forces, 4 weaknesses, 2 opportunities, 2 threats
        assert {r["territoryLabel"]["value"] for r in rows} == {"Béthune Bruay"}

    def test_the_parameter_changes_the_answer(self, client: TestClient) -> None:
        rows = bindings(client.get(SWOT, params={"territoire": "3115"}).json())
        assert {r["territoryLabel"]["value"] for r in rows} == {"Valenciennois"}
        assert len(rows) == 12

    @pytest.mark.parametrize(
        ("how", "media"),
        [
            ({"format": "csv"}, "text/csv"),
            ({"format": "xml"}, "application/sparql-results+xml"),
            ({"accept": "text/tab-separated-values"}, "text/tab-separated-values"),
            (
                {"accept": "text/csv;q=0.4, application/sparql-results+xml;q=0.8"},
                "application/sparql-results+xml",
            ),
        ],
    )
    def test_any_result_format(self, client: TestClient, how: dict[str, str], media: str) -> None:
        params = {"territoire": "3123", **{k: v for k, v in how.items() if k == "format"}}
        headers = {k: v for k, v in how.items() if k == "accept"}
        response = client.get(SWOT, params=params, headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] == media
        if media == "text/csv":
            table = list(csv.DictReader(io.StringIO(response.text)))
            assert len(table) == 11
            assert set(table[0]) == {"territoryLabel", "category", "rank", "text"}

    def test_optional_parameter_may_be_left_out(self, client: TestClient) -> None:
        every_zone = client.get("/queries/top-projets-recrutement")
        assert every_zone.status_code == 200
        assert len(bindings(every_zone.json())) == 20  # the deck's top 5 of each of the 4 zones
        one_zone = client.get("/queries/top-projets-recrutement", params={"territoire": "3122"})
        assert len(bindings(one_zone.json())) == 5

    def test_browsers_get_a_page_with_the_form_and_a_table(self, client: TestClient) -> None:
        response = client.get(SWOT, params={"territoire": "3123"}, headers={"accept": BROWSER})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        # a closed set of values (the graph's 2010 zones): a select list with their names
        assert '<select id="p-territoire" name="territoire"' in response.text
        assert '<option value="3123" selected>Béthune Bruay (3123)</option>' in response.text
        assert "11 résultats" in response.text
        assert f'href="{SWOT}?territoire=3123&amp;format=csv"' in response.text
        assert f'href="{SWOT}?territoire=3123&amp;format=csv-fr"' in response.text
        assert '<th scope="col" title="variable ?territoryLabel">territoire</th>' in response.text
        form = client.get(SWOT, headers={"accept": BROWSER})
        assert form.status_code == 200  # no parameters yet: the form, not an error

    def test_unknown_query_is_a_404_naming_the_known_ones(self, client: TestClient) -> None:
        response = client.get("/queries/no-such-query")
        assert response.status_code == 404
        assert "swot-territoire" in response.text


class TestHostileParameters:
    @pytest.mark.parametrize(
        ("params", "named"),
        [
            ({"territoire": "3123> } DROP ALL #"}, "territoire"),
            ({"territoire": '3123" . ?s ?p ?o'}, "territoire"),
            ({"territoire": "3123\n} UNION { ?s ?p ?o"}, "territoire"),
            ({"territoire": "<http://evil.example/x>"}, "territoire"),
            # the variable's own name, accepted for links made before the French names
            ({"territory": "31231"}, "territoire"),
        ],
    )
    def test_injection_attempts_are_400(self, client: TestClient, params: dict[str, str], named: str) -> None:
        response = client.get(SWOT, params=params)
        assert response.status_code == 400
        assert f"paramètre « {named} »" in response.text
        assert "4 chiffres" in response.text  # the expected form is said

    def test_actor_slug_cannot_close_the_iri(self, client: TestClient) -> None:
        response = client.get("/queries/territoires-par-acteur", params={"acteur": "critt-m2a> . } #"})
        assert response.status_code == 400
        assert "« acteur »" in response.text

    def test_unknown_missing_and_repeated_parameters(self, client: TestClient) -> None:
        unknown = client.get(SWOT, params={"territoire": "3123", "limit": "5"})
        assert unknown.status_code == 400
        assert "« limit »" in unknown.text
        missing = client.get(SWOT)
        assert missing.status_code == 400
        assert "a besoin du paramètre « territoire »" in missing.text
        repeated = client.get(SWOT + "?territoire=3123&territoire=3115")
        assert repeated.status_code == 400
        assert "donné 2 fois" in repeated.text

    def test_hostile_value_in_a_browser_is_an_escaped_400_page(self, client: TestClient) -> None:
        response = client.get(SWOT, params={"territoire": "<script>x</script>"}, headers={"accept": BROWSER})
        assert response.status_code == 400
        assert "<script>x" not in response.text
        assert "&lt;script&gt;x&lt;/script&gt;" in response.text

    def test_bad_format_and_nothing_acceptable(self, client: TestClient) -> None:
        assert client.get(SWOT, params={"territoire": "3123", "format": "pdf"}).status_code == 400
        response = client.get(SWOT, params={"territoire": "3123"}, headers={"accept": "image/png"})
        assert response.status_code == 406


class TestListingAndOpenApi:
    def test_index_lists_every_query_with_its_parameters(self, client: TestClient) -> None:
        listing = client.get("/queries/", params={"format": "json"})
        assert listing.status_code == 200
        entries = {e["name"]: e for e in listing.json()}
        assert set(entries) == set(QUERIES)
        swot = entries["swot-territoire"]
        assert swot["url"] == SWOT
        assert [(p["name"], p["kind"], p["required"]) for p in swot["parameters"]] == [
            ("territoire", "ze2010", True)
        ]
        page = client.get("/queries/", headers={"accept": BROWSER})
        for name in QUERIES:
            assert f'id="{name}"' in page.text

    def test_openapi_lists_each_query_and_its_parameters(self, client: TestClient) -> None:
        # FastAPI warns about routes serving several methods (other modules' /sparql, graph store…);
        # recorded here, so that only a warning about the named-query routes fails this test
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            spec = json.loads(client.get("/openapi.json").text)
        assert not [w for w in caught if "named_query" in str(w.message) or "queries" in str(w.message)]
        for name, query in QUERIES.items():
            operation = spec["paths"][f"/queries/{name}"]["get"]
            assert operation["summary"] == query.title
            documented = {p["name"]: p for p in operation["parameters"]}
            for param in query.params:
                assert documented[param.name]["in"] == "query"
                assert documented[param.name]["required"] is param.required
                assert documented[param.name]["schema"]["pattern"]
            assert "format" in documented
            assert JSON_RESULTS in operation["responses"]["200"]["content"]
        # the catch-all route that answers unknown names stays out of the description
        assert "/queries/{name}" not in spec["paths"]
