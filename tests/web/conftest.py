"""Fixtures of the web tests: a small SYNTHETIC store (made-up IRIs and values, not project data).

Two named graphs of example.org triples, written to an on-disk Oxigraph store in ``tmp_path`` so the
app serves it exactly as in production (worker processes opening it read-only).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from bassin_kg.settings import Settings
from bassin_kg.web.app import create_app

EX = "http://example.org/"
ALPHA = EX + "graph/alpha"
BETA = EX + "graph/beta"
TOKEN = "synthetic-test-token-0123456789"


def _n(local: str) -> ox.NamedNode:
    return ox.NamedNode(EX + local)


def synthetic_quads() -> list[ox.Quad]:
    """3 triples in ALPHA, 2 in BETA, nothing in the store's default graph (synthetic)."""
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    alpha, beta = ox.NamedNode(ALPHA), ox.NamedNode(BETA)
    return [
        ox.Quad(_n("a"), _n("p"), ox.Literal("1"), alpha),
        ox.Quad(_n("a"), label, ox.Literal("Alpha", language="fr"), alpha),
        ox.Quad(_n("b"), _n("p"), ox.Literal("2"), alpha),
        ox.Quad(_n("c"), _n("p"), ox.Literal("3"), beta),
        ox.Quad(_n("a"), _n("q"), _n("c"), beta),
    ]


def write_store(path: Path, quads: list[ox.Quad]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    store = ox.Store(str(path))
    store.extend(quads)
    store.flush()
    del store  # release the RocksDB lock before the app opens it
    return path


@pytest.fixture(scope="session")
def pristine_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_store(tmp_path_factory.mktemp("pristine") / "store", synthetic_quads())


@pytest.fixture
def store_path(pristine_store: Path, tmp_path: Path) -> Path:
    """A private copy of the synthetic store (copying is much faster than creating a RocksDB)."""
    return Path(shutil.copytree(pristine_store, tmp_path / "store"))


ClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(store_path: Path) -> Iterator[ClientFactory]:
    """Build an app on the synthetic store with some settings changed; its workers stop at teardown."""
    with ExitStack() as stack:

        def factory(**changes: Any) -> TestClient:
            settings = Settings(store=store_path, max_concurrent_queries=2).replace(**changes)
            return stack.enter_context(TestClient(create_app(settings)))

        yield factory


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client()
