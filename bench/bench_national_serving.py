"""Benchmark (issue 12): serving the national graph — first query after a release switch, resident memory.

    .venv/bin/python bench/bench_national_serving.py [--file Base_open_data_BMO_2024.xlsx] [--build-dir DIR]

1. builds the committed data into a temporary build folder (release A, ~80,000 quads), unless
   ``--build-dir`` names one that already holds a build with the national file (then step 3 is skipped);
2. starts ``bassin-kg serve`` following ``build/current`` (not a fixed store) and asks one query;
3. ingests the national BMO file (release B, ~870,000 quads): ``current`` switches while the server runs;
4. times the first query after the switch (the server opens release B then), then a few more, and
   samples the resident memory (RSS) of the server and all its query workers;
5. peer: Oxigraph server (the ``oxigraph`` wheel, a dev dependency) on release B's N-Quads dump, served
   read-only with ``--union-default-graph``: load time, first query, same queries, RSS.
Targets (issue 12): first query after the switch < 2 s; server + workers < 1 GB resident.
The queries are a user's: a COUNT of every triple, and a per-zone SUM without DISTINCT.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, MemorySampler, Server, free_port, stop_on_signals, venv_tool

NATIONAL = ROOT.parent / "shared" / "reference" / "bmo-2024-national" / "Base_open_data_BMO_2024.xlsx"
PREFIXES = """PREFIX bm: <https://w3id.org/bassin-minier/def#>
PREFIX igeo: <http://rdf.insee.fr/def/geo#>
PREFIX sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#>
"""
QUERIES = {
    "count": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "sum-by-zone": PREFIXES
    + """SELECT ?code (SUM(?p) AS ?projects) WHERE {
  ?obs sdmx-dimension:refArea ?zone ; bm:projetsRecrutement ?p .
  ?zone a igeo:ZoneDEmploi2010 ; igeo:codeINSEE ?code .
} GROUP BY ?code""",
}
TARGET_FIRST_S = 2.0
TARGET_RSS_MIB = 1024.0


def ask(port: int, path: str, query: str) -> tuple[float, bytes]:
    """Seconds for one query over HTTP (GET), and the answer."""
    url = f"http://127.0.0.1:{port}{path}?" + urllib.parse.urlencode({"query": query})
    request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as answer:
        body: bytes = answer.read()
    return time.perf_counter() - start, body


def run(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT, env={**os.environ, **(env or {})})
    return time.perf_counter() - start


def measure(port: int, path: str, sampler: MemorySampler, label: str) -> None:
    first, body = ask(port, path, QUERIES["count"])
    print(f"{label}: first query (COUNT) {first:.2f} s -> {body.decode()[-60:].strip()}", flush=True)
    for name, query in QUERIES.items():
        seconds = [ask(port, path, f"{query}\n# {n}")[0] for n in range(3)]
        print(f"{label}: {name} x3: {', '.join(f'{s:.3f}' for s in seconds)} s", flush=True)
    sampler.sample()
    print(f"{label}: peak RSS of the server and its workers {sampler.peak_mib:.0f} MiB", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--file", type=Path, default=NATIONAL, help="the national BMO file")
    parser.add_argument("--build-dir", type=Path, help="an existing build folder (skips build and ingest)")
    args = parser.parse_args()
    stop_on_signals()
    if not args.file.is_file() and args.build_dir is None:
        sys.exit(f"no BMO file at {args.file}: give --file PATH")
    tool = str(venv_tool("bassin-kg"))
    with tempfile.TemporaryDirectory(prefix="bench-national-") as scratch_name:
        scratch = Path(scratch_name)
        build_dir = args.build_dir or scratch / "build"
        env = {"BASSIN_KG_BUILD_DIR": str(build_dir)}
        if args.build_dir is None:
            seconds = run([tool, "-q", "build"], env)
            print(f"setup: release A (committed data) built in {seconds:.1f} s (not timed)", flush=True)
        port = free_port()
        command = [tool, "serve", "--port", str(port), "--no-access-log"]
        with Server("ours", command, port, "/sparql?query=ASK%7B%7D", scratch / "ours.log", env) as server:
            sampler = MemorySampler(server.pid)
            with sampler.running():
                seconds, _ = ask(port, "/sparql", QUERIES["count"])
                print(f"ours: first query on release A {seconds:.2f} s", flush=True)
                if args.build_dir is None:
                    seconds = run([tool, "-q", "ingest", "bmo", str(args.file)], env)
                    print(
                        f"ingest of {args.file.name} (release B, current switched): {seconds:.1f} s",
                        flush=True,
                    )
                measure(port, "/sparql", sampler, "ours after the switch")
        dump = build_dir / "current" / "dist" / "bassin-minier.nq"
        location = scratch / "oxigraph-store"
        oxigraph = str(venv_tool("oxigraph"))
        seconds = run([oxigraph, "load", "--location", str(location), "--file", str(dump)])
        print(f"oxigraph: loaded {dump.name} in {seconds:.1f} s", flush=True)
        port = free_port()
        command = [oxigraph, "serve-read-only", "--location", str(location), "--bind", f"127.0.0.1:{port}",
                   "--union-default-graph"]  # fmt: skip
        with Server("oxigraph", command, port, "/query?query=ASK%7B%7D", scratch / "oxigraph.log") as server:
            sampler = MemorySampler(server.pid)
            with sampler.running():
                measure(port, "/query", sampler, "oxigraph server")
    print(f"targets: first query after the switch < {TARGET_FIRST_S:.0f} s, RSS < {TARGET_RSS_MIB:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
