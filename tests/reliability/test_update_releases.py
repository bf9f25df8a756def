"""``serve --enable-update`` on a build (issue 16, point 2): an update becomes a new release, switched to
like an ingest, and the published release is never written. SYNTHETIC project (conftest.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bassin_kg.errors import UsageError
from bassin_kg.settings import Settings
from bassin_kg.web.app import create_app

from .conftest import fast_build, snapshot

TOKEN = "release-update-token-for-tests"
AUTH = {"authorization": f"Bearer {TOKEN}"}
GRAPH = "http://example.org/graph/edits"
INSERT = f"INSERT DATA {{ GRAPH <{GRAPH}> {{ <http://example.org/s> <http://example.org/p> 1 }} }}"
ASK_INSERTED = "ASK { <http://example.org/s> <http://example.org/p> 1 }"


@pytest.fixture
def updating(project: Settings) -> Iterator[tuple[Settings, TestClient]]:
    fast_build(project)
    settings = project.replace(enable_update=True, update_token=TOKEN, max_concurrent_queries=1)
    with TestClient(create_app(settings)) as client:
        yield settings, client


def ask(client: TestClient, query: str) -> bool:
    response = client.get("/sparql", params={"query": query}, headers={"accept": "application/json"})
    assert response.status_code == 200, response.text
    value = response.json()["boolean"]
    assert isinstance(value, bool)
    return value


def checked_manifest(release: Path) -> dict[str, object]:
    """The release's manifest, after checking that every dump it lists has its size and checksum."""
    manifest = json.loads((release / "release.json").read_text(encoding="utf-8"))
    assert manifest["release"] == release.name
    for name, entry in manifest["files"].items():
        data = (release / "dist" / name).read_bytes()
        assert len(data) == entry["bytes"]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    return dict(manifest)


def test_an_update_is_published_as_a_new_release_and_never_written_in_place(
    updating: tuple[Settings, TestClient],
) -> None:
    settings, client = updating
    published = settings.current_release.resolve()
    before = snapshot(published)
    etag = client.get("/sparql", params={"query": ASK_INSERTED}).headers["etag"]

    response = client.post("/sparql", data={"update": INSERT}, headers=AUTH)
    assert response.status_code == 204, response.text

    new = settings.current_release.resolve()
    assert new != published, "the update must switch to a new release"
    assert snapshot(published) == before, "the published release was written"
    manifest = checked_manifest(new)
    graphs = manifest["graphs"]
    assert isinstance(graphs, dict)
    assert graphs[GRAPH]["triples"] == 1
    assert ask(client, ASK_INSERTED)
    assert response.headers["etag"] != etag
    assert client.get("/sparql", params={"query": ASK_INSERTED}).headers["etag"] == response.headers["etag"]


def test_drop_all_is_an_honest_empty_release_and_the_old_one_stays(
    updating: tuple[Settings, TestClient],
) -> None:
    settings, client = updating
    published = settings.current_release.resolve()
    before = snapshot(published)
    assert client.post("/sparql", data={"update": "DROP ALL"}, headers=AUTH).status_code == 204
    new = settings.current_release.resolve()
    assert snapshot(published) == before
    assert checked_manifest(new)["graphs"] == {}
    assert not ask(client, "ASK { ?s ?p ?o }")


def test_graph_store_writes_are_releases_too_and_pruning_keeps_working(
    updating: tuple[Settings, TestClient],
) -> None:
    settings, client = updating
    seen = {settings.current_release.resolve().name}
    for value in range(4):  # more changes than releases kept: older ones are pruned on the way
        response = client.put(
            "/rdf-graphs/service",
            params={"graph": GRAPH},
            content=f"<http://example.org/s> <http://example.org/p> {value} .".encode(),
            headers={**AUTH, "content-type": "text/turtle"},
        )
        assert response.status_code in (201, 204), response.text
        seen.add(settings.current_release.resolve().name)
        assert ask(client, f"ASK {{ <http://example.org/s> <http://example.org/p> {value} }}")
    assert len(seen) == 5, "each write is a release of its own"
    kept = sorted(p.name for p in (settings.build_root / "releases").iterdir())
    assert len(kept) == settings.keep_releases + 1
    checked_manifest(settings.current_release.resolve())


def test_a_failed_update_publishes_nothing(updating: tuple[Settings, TestClient]) -> None:
    settings, client = updating
    published = settings.current_release.resolve()
    releases = sorted((settings.build_root / "releases").iterdir())
    response = client.post(
        "/sparql", data={"update": "INSERT DATA { <http://example.org/s> ?p 1 }"}, headers=AUTH
    )
    assert response.status_code == 400
    assert settings.current_release.resolve() == published
    assert sorted((settings.build_root / "releases").iterdir()) == releases, "the draft is removed"


def test_enable_update_refuses_a_release_store_given_by_path(project: Settings) -> None:
    fast_build(project)
    store = project.current_release.resolve() / "store"
    with pytest.raises(UsageError, match="write into the release"):
        create_app(project.replace(store=store, enable_update=True, update_token=TOKEN))
