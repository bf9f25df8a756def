"""``serve --sparql-endpoint`` without a real engine (real ones: tests/publish/test_real_engines.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bassin_kg.errors import StoreError, UsageError
from bassin_kg.settings import Settings
from bassin_kg.web.app import create_app
from bassin_kg.web.serving.engine import JobError, QueryJob
from bassin_kg.web.serving.remote_engine import RemoteEngine, canonical_booleans, release_graphs
from serving import free_port

BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"


def test_virtuoso_booleans_become_canonical() -> None:
    # SYNTHETIC: Virtuoso's answer to BIND(xsd:boolean(EXISTS {…}) AS ?x)
    body = json.dumps(
        {
            "head": {"vars": ["x", "y"]},
            "results": {
                "bindings": [
                    {
                        "x": {"type": "typed-literal", "datatype": BOOLEAN, "value": "1"},
                        "y": {"type": "typed-literal", "datatype": BOOLEAN, "value": "0"},
                    }
                ]
            },
        }
    ).encode()
    row = json.loads(canonical_booleans(body))["results"]["bindings"][0]
    assert (row["x"]["value"], row["y"]["value"]) == ("true", "false")
    plain = b'{"head":{"vars":[]},"results":{"bindings":[]}}'
    assert canonical_booleans(plain) is plain


def test_queries_without_a_dataset_get_the_release_graphs() -> None:
    engine = RemoteEngine("http://h/sparql", ("http://g/a", "http://g/b"), 1)
    union = QueryJob("SELECT * {}", "json", None)
    assert engine._dataset(union) == [
        ("default-graph-uri", "http://g/a"),
        ("default-graph-uri", "http://g/b"),
        ("named-graph-uri", "http://g/a"),
        ("named-graph-uri", "http://g/b"),
    ]
    given = QueryJob("SELECT * {}", "json", None, default_graphs=("http://x",), union_default_graph=False)
    assert engine._dataset(given) == [("default-graph-uri", "http://x")]
    with_from = QueryJob("SELECT * FROM <http://x> {}", "json", None, union_default_graph=False)
    assert engine._dataset(with_from) == []


def test_release_graphs_come_from_the_manifest(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    manifest = {"graphs": {"deck": {"iri": "http://g/deck"}, "bmo": {"iri": "http://g/bmo"}}}
    (tmp_path / "release.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert release_graphs(tmp_path / "store") == ("http://g/bmo", "http://g/deck")
    assert release_graphs(tmp_path / "elsewhere" / "store") is None


def test_bad_settings_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not an http"):
        create_app(Settings(root=tmp_path, sparql_endpoint="ftp://h/sparql"))
    with pytest.raises(UsageError, match="--enable-update"):
        create_app(
            Settings(root=tmp_path, sparql_endpoint="http://h/sparql", enable_update=True, update_token="t")
        )


def test_an_unreachable_endpoint_without_a_release_fails_at_start(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}/sparql"
    with pytest.raises(StoreError, match="cannot list the graphs"):
        create_app(Settings(root=tmp_path, sparql_endpoint=endpoint))


@pytest.mark.parametrize(
    "text",
    [
        "INSERT DATA { <http://e/s> <http://e/p> <http://e/o> }",  # Virtuoso runs updates given as query
        "DEFINE input:inference 'x' SELECT * WHERE { ?s ?p ?o }",  # a Virtuoso extension
    ],
)
def test_only_standard_queries_are_forwarded(text: str) -> None:
    # nothing listens there: reaching the endpoint would be an evaluation error, not a syntax error
    engine = RemoteEngine(f"http://127.0.0.1:{free_port()}/sparql", ("http://g/a",), 1)
    with pytest.raises(JobError) as caught:
        engine._run_sync(QueryJob(text, "json", None), 5)
    assert caught.value.kind == "syntax"
