"""The French texts users read name the source deck "le diaporama", as the site's pages do (issue 14).

"plaquette" stays only in identifiers that published links use: the catalogue's ``catalog#plaquette``,
the dump ``sources/plaquette.nt.gz``, the query ``plaquette-2018-bmo-2024``. A literal is text when it is
tagged ``@fr``, or untagged and has a space (a file name or an IRI written as a string has none).
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox

from bassin_kg.publish import PublishResult
from bassin_kg.settings import Settings

WORD = "plaquette"
TEXT_LITERALS = """
SELECT ?s ?o WHERE {{
  {{ ?s ?p ?o }} UNION {{ GRAPH ?g {{ ?s ?p ?o }} }}
  FILTER(isLiteral(?o) && CONTAINS(LCASE(STR(?o)), "{word}"))
  FILTER(LANGMATCHES(LANG(?o), "fr") || (LANG(?o) = "" && CONTAINS(STR(?o), " ")))
}}
"""
#: what a named query shows: its header (title, description, parameter hints) and its quoted strings
QUERY_TEXT = re.compile(r'^# *(?:title|description|param|example|requires):.*$|"[^"\n]*"', re.MULTILINE)


def _text_literals(store: ox.Store, where: str) -> list[str]:
    rows = store.query(TEXT_LITERALS.format(word=WORD))
    assert isinstance(rows, ox.QuerySolutions)
    return [f"{where}: {row['s']} {row['o']}" for row in rows]


def _turtle(paths: list[Path]) -> ox.Store:
    store = ox.Store()
    for path in paths:
        store.load(path=path, format=ox.RdfFormat.TURTLE)
    return store


def test_no_french_text_calls_the_deck_plaquette(published: tuple[Settings, PublishResult]) -> None:
    settings, result = published
    found = _text_literals(ox.Store.read_only(str(result.release_dir / "store")), "graph")
    for name in ("catalog.ttl", "void.ttl"):
        found += _text_literals(_turtle([settings.dist_dir / name]), name)
    shapes = sorted((settings.root / "shapes").glob("*.ttl"))
    assert shapes
    found += _text_literals(_turtle(shapes), "shapes")
    for query in sorted((settings.root / "queries").glob("*.rq")):
        text = query.read_text(encoding="utf-8")
        found += [f"{query.name}: {m}" for m in QUERY_TEXT.findall(text) if WORD in m.lower()]
    assert not found, "say « le diaporama », not « la plaquette »:\n" + "\n".join(found)
