"""The benchmark scripts run end to end in their --smoke mode (a few requests; no figure is asserted).

The store is SYNTHETIC: a handful of triples shaped like the real graph (a zone, observations, a SWOT
item), enough for every benchmark query to return something.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE = "https://w3id.org/bassin-minier/"
BM = "https://w3id.org/bassin-minier/def#"
ZONE = f"<{BASE}id/territoire/ze2010/3115>"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
AREA = "<http://purl.org/linked-data/sdmx/2009/dimension#refArea>"
GRAPH = f"<{BASE}id/graph/deck>"
INTEGER = "<http://www.w3.org/2001/XMLSchema#integer>"

SYNTHETIC_NQUADS = f"""
{ZONE} {RDF_TYPE} <http://rdf.insee.fr/def/geo#ZoneDEmploi2010> {GRAPH} .
{ZONE} {LABEL} "Valenciennois"@fr {GRAPH} .
<{BASE}id/obs/synthetic/1> <{BM}projetsRecrutement> "120"^^{INTEGER} {GRAPH} .
<{BASE}id/obs/synthetic/1> {AREA} {ZONE} {GRAPH} .
<{BASE}id/obs/synthetic/2> <{BM}projetsRecrutement> "80"^^{INTEGER} {GRAPH} .
<{BASE}id/obs/synthetic/2> {AREA} {ZONE} {GRAPH} .
<{BASE}id/swot/ze2010-3115/force-1> {RDF_TYPE} <{BM}Force> {GRAPH} .
<{BASE}id/swot/ze2010-3115/force-1> <{BM}territoire> {ZONE} {GRAPH} .
<{BASE}id/swot/ze2010-3115/force-1> {LABEL} "Une force (synthétique)"@fr {GRAPH} .
<{BASE}id/swot/ze2010-3115/force-1> <{BM}rang> "1"^^{INTEGER} {GRAPH} .
"""


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release folder as `bassin-kg build` lays it out: store/ and dist/bassin-minier.nq."""
    folder = tmp_path_factory.mktemp("release")
    dump = folder / "dist" / "bassin-minier.nq"
    dump.parent.mkdir()
    dump.write_text(SYNTHETIC_NQUADS, encoding="utf-8")
    store = ox.Store(str(folder / "store"))
    store.load(path=str(dump), format=ox.RdfFormat.N_QUADS)
    store.flush()
    del store  # closes the RocksDB: the servers open it read-only
    return folder


def run_script(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_bench_endpoint_smoke(release: Path, tmp_path: Path) -> None:
    out = run_script(
        "bench/bench_endpoint.py",
        "--smoke",
        "--store",
        str(release / "store"),
        "--rdflib-endpoint-venv",
        str(tmp_path / "no-such-venv"),
    )
    # the missing peer is skipped with a notice saying how to set it up; ours and Oxigraph always run
    assert "NOTICE: rdflib-endpoint skipped" in out
    assert "pip install rdflib-endpoint" in out
    for query in ("lookup", "agg-sum", "agg-classes", "construct"):
        assert f"RATIO ours/oxigraph cached throughput {query} c=2:" in out
    assert "RATIO ours/oxigraph p50 latency agg-sum cold c=2:" in out
    assert "NOT OK" not in out  # every request of the smoke run was answered 2xx
    # the calibration peer ran beside them
    assert any(line.split()[:2] == ["no-op", "lookup"] for line in out.splitlines())


def test_load_test_smoke(release: Path) -> None:
    out = run_script("bench/load_test.py", "--smoke", "--store", str(release / "store"))
    for scenario in ("mixed", "heavy-background"):
        for clients in (1, 4):
            assert f"LOAD {scenario} c={clients}:" in out
    assert "peak RSS" in out
