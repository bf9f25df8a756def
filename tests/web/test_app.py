"""The application factory, settings plumbing and run_server (no real server here)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from bassin_kg import cli
from bassin_kg.errors import StoreError, UsageError
from bassin_kg.settings import Settings
from bassin_kg.web import app as web_app
from bassin_kg.web.app import app_from_env, create_app, run_server, settings_to_env
from bassin_kg.web.sparql import SparqlService

from .conftest import TOKEN, synthetic_quads


def test_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store at"):
        create_app(Settings(store=tmp_path / "missing"))


def test_corrupt_store_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "CURRENT").write_text("garbage")
    with pytest.raises(StoreError, match="cannot open the store"):
        create_app(Settings(store=tmp_path / "store"))


def test_state_lives_on_the_app(store_path: Path) -> None:
    first = create_app(Settings(store=store_path))
    second = create_app(Settings(store=store_path))
    assert isinstance(first.state.sparql, SparqlService)
    assert first.state.sparql is not second.state.sparql
    assert first.state.sparql.cache is not second.state.sparql.cache
    assert first.state.settings.store == store_path


def test_an_in_memory_store_can_be_served() -> None:
    store = ox.Store()
    store.extend(synthetic_quads())
    with TestClient(create_app(Settings(), store=store)) as client:
        response = client.get("/sparql", params={"query": "SELECT * { ?s ?p ?o }"})
    assert response.status_code == 200
    assert len(response.json()["results"]["bindings"]) == 5


def test_settings_survive_the_environment() -> None:
    settings = Settings(
        store=Path("/tmp/s"),
        port=9001,
        query_timeout=2.5,
        cors_origins=("https://a.example", "https://b.example"),
        enable_update=True,
        update_token=TOKEN,
    )
    assert Settings.from_env(settings_to_env(settings)) == settings
    assert Settings.from_env(settings_to_env(Settings(root=Path.cwd()))) == Settings(root=Path.cwd())


@pytest.mark.parametrize(("name", "value"), [("BASSIN_KG_QUERY_CPUS", "-1"), ("BASSIN_KG_QUERY_TURN", "0")])
def test_bad_cpu_turn_settings_are_usage_errors(name: str, value: str) -> None:
    with pytest.raises(UsageError, match=f"{name}={value}"):
        Settings.from_env({name: value})


def test_app_from_env(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASSIN_KG_STORE", str(store_path))
    monkeypatch.setenv("BASSIN_KG_QUERY_TIMEOUT", "3")
    app = app_from_env()
    assert app.state.settings.query_timeout == 3.0


class FakeUvicorn:
    def __init__(self) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def run(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append((args, kwargs))


@pytest.fixture
def fake_uvicorn(monkeypatch: pytest.MonkeyPatch) -> FakeUvicorn:
    import uvicorn

    fake = FakeUvicorn()
    monkeypatch.setattr(uvicorn, "run", fake.run)
    monkeypatch.setattr(os, "environ", dict(os.environ))  # run_server exports settings: keep ours clean
    return fake


def test_run_server_single_worker(store_path: Path, fake_uvicorn: FakeUvicorn) -> None:
    run_server(Settings(store=store_path, port=8123))
    ((args, kwargs),) = fake_uvicorn.calls
    assert args[0].state.settings.port == 8123
    assert kwargs == {"host": "127.0.0.1", "port": 8123, "access_log": True, "server_header": False}


def test_run_server_without_access_log(store_path: Path, fake_uvicorn: FakeUvicorn) -> None:
    run_server(Settings(store=store_path, access_log=False))
    ((_, kwargs),) = fake_uvicorn.calls
    assert kwargs["access_log"] is False


def test_run_server_several_workers_exports_settings(store_path: Path, fake_uvicorn: FakeUvicorn) -> None:
    run_server(Settings(store=store_path, query_timeout=4.0), workers=3)
    ((args, kwargs),) = fake_uvicorn.calls
    assert args == ("bassin_kg.web.app:app_from_env",)
    assert kwargs["factory"] is True
    assert kwargs["workers"] == 3
    assert kwargs["server_header"] is False
    assert os.environ["BASSIN_KG_QUERY_TIMEOUT"] == "4.0"
    assert Settings.from_env().store == store_path.resolve()


@pytest.mark.parametrize(
    ("changes", "workers", "message"),
    [
        ({}, 0, "at least 1"),
        ({"enable_update": True}, 1, "BASSIN_KG_UPDATE_TOKEN"),
        ({"enable_update": True, "update_token": TOKEN}, 2, "single writer"),
    ],
)
def test_run_server_refuses(
    store_path: Path, fake_uvicorn: FakeUvicorn, changes: dict[str, Any], workers: int, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        run_server(Settings(store=store_path, **changes), workers=workers)
    assert fake_uvicorn.calls == []


def test_cli_enable_update_flag() -> None:
    args = cli.build_parser().parse_args(["serve", "--enable-update"])
    assert cli.settings_from_args(args, {}).enable_update is True
    args = cli.build_parser().parse_args(["serve"])
    assert cli.settings_from_args(args, {}).enable_update is False


def test_routes_read_state_from_the_request() -> None:
    # no module-level app: everything is built by create_app
    assert not hasattr(web_app, "app")
