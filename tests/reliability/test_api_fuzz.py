"""API fuzzing: schemathesis generates requests from the app's own OpenAPI description; none may be
answered with a server error (a 503 is allowed only with a message saying why: busy or timed out).

The app serves a SYNTHETIC published build (conftest.py), in process (ASGI), with short timeouts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

import bassin_kg.release.build as build_module
from bassin_kg.settings import Settings
from bassin_kg.sources import deck as deck_converter
from bassin_kg.sources import ontology
from bassin_kg.web.app import create_app

from .conftest import fast_build, make_project, synthetic_fap2009


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> schemathesis.BaseSchema:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    root = make_project(folder / "project")
    project = Settings(root=root, build_dir=folder / "build")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            build_module, "converters", lambda: [ontology.convert, deck_converter.convert, synthetic_fap2009]
        )
        fast_build(project)
    app = create_app(project.replace(max_concurrent_queries=2, query_timeout=3.0))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


# one hypothesis run per operation, from a plain test: schemathesis' own pytest plugin cannot read a
# fixture under pytest 9 (its lazy schema fails at collection)
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same requests on every run: CI failures reproduce
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def _operations(api_schema: schemathesis.BaseSchema) -> list[Any]:
    # each result is Ok(operation) for a valid description (an Err would fail here, as it should)
    return [result.ok() for result in api_schema.get_all_operations()]  # type: ignore[union-attr]


def _fuzz(operation: Any, calls: dict[str, int]) -> None:
    label = operation.label

    @FUZZ
    @given(case=operation.as_strategy())
    def fuzz(case: Any) -> None:
        calls[label] = calls.get(label, 0) + 1
        response = case.call()
        if response.status_code == 503:
            # the only 5xx allowed: the endpoint is busy or the query ran out of time, and says so
            assert "busy" in response.text or "stopped after" in response.text, response.text
            return
        case.validate_response(response, checks=[not_a_server_error])
        assert response.status_code < 500, f"{label}: {response.text[:300]}"

    fuzz()


def test_no_server_error(api_schema: schemathesis.BaseSchema) -> None:
    calls: dict[str, int] = {}
    for operation in _operations(api_schema):
        _fuzz(operation, calls)
    assert len(calls) >= 20, calls
    assert sum(calls.values()) > 100, calls


def test_the_description_documents_the_public_operations(api_schema: schemathesis.BaseSchema) -> None:
    operations = {f"{op.method.upper()} {op.path}" for op in _operations(api_schema)}
    assert {"GET /sparql", "POST /sparql", "GET /queries/swot-territoire", "GET /catalog"} <= operations
    assert not any(op.startswith("HEAD ") for op in operations)
