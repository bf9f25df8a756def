"""Reading RDF term for term, and loading it into Oxigraph only when Oxigraph keeps every term as written."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD

from bassin_kg.errors import DataError
from bassin_kg.validate.exact import UnstableTermError, load_exact, read_rdf

EX = "http://example.org/synthetic/"


def test_literals_are_read_as_written(tmp_path: Path) -> None:
    # SYNTHETIC: rdflib's parser would read "1"^^xsd:boolean as "true" and "01" as "1"
    path = tmp_path / "data.ttl"
    path.write_text(
        "@prefix ex: <http://example.org/synthetic/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        'ex:a ex:p "1"^^xsd:boolean, "01"^^xsd:integer, "aldi"^^xsd:integer, "x"@EN-gb .\n',
        encoding="utf-8",
    )
    graph = read_rdf([path])
    written = {(str(o), o.datatype, o.language) for o in graph.objects() if isinstance(o, Literal)}
    assert written == {
        ("1", XSD.boolean, None),
        ("01", XSD.integer, None),
        ("aldi", XSD.integer, None),
        ("x", None, "en-gb"),
    }
    assert dict(graph.namespaces())["ex"] == URIRef(EX)


def test_blank_nodes_of_two_files_stay_apart(tmp_path: Path) -> None:
    for name in ("one.nt", "two.nt"):
        (tmp_path / name).write_text(f"_:b <{EX}p> <{EX}{name[:3]}> .\n", encoding="utf-8")
    graph = read_rdf([tmp_path / "one.nt", tmp_path / "two.nt"])
    assert len({s for s in graph.subjects() if isinstance(s, BNode)}) == 2


def test_relative_iris_resolve_against_the_file(tmp_path: Path) -> None:
    (tmp_path / "data.ttl").write_text("<> <http://example.org/p> <other.ttl> .\n", encoding="utf-8")
    (subject, _p, value) = next(iter(read_rdf([tmp_path / "data.ttl"])))
    assert subject == URIRef((tmp_path / "data.ttl").as_uri())
    assert value == URIRef((tmp_path / "other.ttl").as_uri())


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [("data.txt", "", "unknown RDF file type"), ("data.ttl", "<a> <b> .", "not valid")],
)
def test_bad_files_are_data_errors_naming_the_file(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message) as caught:
        read_rdf([tmp_path / name])
    assert name in str(caught.value)


def test_a_literal_oxigraph_would_rewrite_is_named(tmp_path: Path) -> None:
    (tmp_path / "data.ttl").write_text(
        f'<{EX}a> <{EX}p> "2.0"^^<http://www.w3.org/2001/XMLSchema#decimal> .\n', encoding="utf-8"
    )
    with pytest.raises(UnstableTermError, match=r'"2\.0".* as "2"'):
        load_exact(read_rdf([tmp_path / "data.ttl"]))


def test_a_shapes_constant_oxigraph_would_rewrite_is_named(tmp_path: Path) -> None:
    (tmp_path / "data.ttl").write_text(f"<{EX}a> <{EX}p> 2 .\n", encoding="utf-8")
    with pytest.raises(UnstableTermError, match="byte"):
        load_exact(read_rdf([tmp_path / "data.ttl"]), [Literal("3", datatype=XSD.byte)])


def test_the_store_maps_back_to_the_data_s_terms(tmp_path: Path) -> None:
    (tmp_path / "data.ttl").write_text(f'_:x <{EX}p> "ab"@en .\n', encoding="utf-8")
    graph = read_rdf([tmp_path / "data.ttl"])
    store, terms = load_exact(graph)
    ((subject, _p, value),) = list(graph)
    (quad,) = list(store)
    assert terms.from_store(quad.subject) == subject
    assert terms.from_store(quad.object) == value
    assert terms.to_store(subject) == quad.subject
