"""Push time per engine against its native bulk loader, and page latency fronting Virtuoso (issue 17).

    make build && .venv/bin/python bench/bench_remote.py [--runs 3] [--rounds 20]

Reads ``build/current`` (its store, and ``dist/bassin-minier.nq``, the same release as one N-Quads dump).
For each engine, on a fresh temporary database:

- Virtuoso (Debian's ``virtuoso-opensource``): ``publish --to …/sparql-graph-crud-auth --user dba
  --digest`` (one PUT per graph, each counted before and after) against ``ld_dir`` + ``rdf_loader_run``
  through ``isql-vt`` on the same dump (then ``checkpoint``, timed apart);
- Oxigraph server: ``publish --to …/store`` (staging graph + copy update per graph) and ``--no-staging``
  (plain PUTs) against ``oxigraph load`` of the same dump into an empty store.

Then page latency: the same pages and named queries, GET one after another from a ``bassin-kg serve`` on
the embedded store and from one with ``--sparql-endpoint`` on the Virtuoso holding the push (the server
processes of tests/serving.py, reused rather than copied). Figures go to stdout; see bench/README.md.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from bassin_kg.publish.remote import Remote, derive, push  # noqa: E402
from serving import (  # noqa: E402  (the tests' server helpers: one way to start each engine)
    VIRTUOSO_DBA,
    Virtuoso,
    bassin_kg_server,
    clean_env,
    cli,
    oxigraph_server,
    virtuoso_server,
)

PAGES = (
    "/",
    "/id/territoire/ze2010/3123",
    "/id/territoire/ze2010/3114",
    "/id/acteur/critt-m2a",
    "/queries/swot-territoire?territory=3123",
    "/queries/metiers-difficiles",
    "/queries/plaquette-2018-bmo-2024",
    "/.well-known/void",
)


def timed(action: Callable[..., object], *args: object) -> float:
    started = time.perf_counter()
    action(*args)
    return time.perf_counter() - started


def isql(server: Virtuoso, statements: str) -> None:
    """Run SQL statements through Virtuoso's ``isql-vt`` on the server's SQL port."""
    user, password = VIRTUOSO_DBA
    command = ["isql-vt", str(server.sql_port), user, password, f"exec={statements}"]
    subprocess.run(command, check=True, capture_output=True, timeout=600)


def virtuoso_figures(store: Path, dump: Path, runs: int, work: Path) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"push (Digest, PUT per graph)": [], "ld_dir + rdf_loader_run": []}
    figures["checkpoint after the bulk load"] = []
    for run in range(runs):
        with virtuoso_server(work / f"virtuoso-push-{run}") as server:
            remote = Remote(
                server.url + "/sparql-graph-crud-auth",
                server.endpoint,
                user=VIRTUOSO_DBA[0],
                token=VIRTUOSO_DBA[1],
                digest=True,
            )
            seconds = timed(push_ok, store, remote)
            figures["push (Digest, PUT per graph)"].append(seconds)
        with virtuoso_server(work / f"virtuoso-bulk-{run}") as server:
            shutil.copy(dump, server.directory / dump.name)
            load = f"ld_dir('{server.directory}', '{dump.name}', 'urn:bench:unused'); rdf_loader_run();"
            figures["ld_dir + rdf_loader_run"].append(timed(isql, server, load))
            figures["checkpoint after the bulk load"].append(timed(isql, server, "checkpoint;"))
    return figures


def oxigraph_figures(store: Path, dump: Path, runs: int, work: Path) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {
        "push (staging graph + copy)": [],
        "push --no-staging (PUT per graph)": [],
        "oxigraph load": [],
    }
    oxigraph = Path(sys.executable).parent / "oxigraph"
    for run in range(runs):
        modes = (("push (staging graph + copy)", True), ("push --no-staging (PUT per graph)", False))
        for label, staged in modes:
            with oxigraph_server(work / f"oxigraph-{run}-{staged}") as server:
                query_url, update_url = derive(server.url + "/store", None, None)
                remote = Remote(server.url + "/store", query_url, update_url if staged else None)
                figures[label].append(timed(push_ok, store, remote))
        location = work / f"oxigraph-load-{run}"
        command = [str(oxigraph), "load", "--location", str(location), "--file", str(dump)]
        figures["oxigraph load"].append(timed(run_command, command))
    return figures


def run_command(command: list[str]) -> None:
    subprocess.run(command, check=True, capture_output=True)


def push_ok(store: Path, remote: Remote) -> None:
    report = push(store, remote)
    if not report.ok:
        raise SystemExit(f"the push failed:\n{report.summary()}")


def page_latency(virtuoso: Virtuoso, rounds: int) -> dict[str, tuple[list[float], list[float]]]:
    """Per page: seconds per GET from the embedded store and from Virtuoso (after one warm-up round)."""
    command = cli("--root", str(ROOT), "serve", "--no-access-log")
    latency: dict[str, tuple[list[float], list[float]]] = {page: ([], []) for page in PAGES}
    envs = (clean_env(), clean_env(BASSIN_KG_SPARQL_ENDPOINT=virtuoso.endpoint))
    for side, env in enumerate(envs):
        # the cache would answer every round after the first from memory: measure the engine instead
        env["BASSIN_KG_CACHE_ENTRIES"] = "0"
        with bassin_kg_server(command, env=env, timeout=60) as server, httpx.Client(timeout=60) as client:
            for round_ in range(rounds + 1):
                for page in PAGES:
                    started = time.perf_counter()
                    answer = client.get(server.url + page)
                    seconds = time.perf_counter() - started
                    if answer.status_code != 200:
                        raise SystemExit(f"{page}: HTTP {answer.status_code} {answer.text[:300]}")
                    if round_:
                        latency[page][side].append(seconds)
    return latency


def show(engine: str, figures: dict[str, list[float]]) -> None:
    for label, values in figures.items():
        spread = ", ".join(f"{v:.2f}" for v in values)
        print(f"| {engine} | {label} | {statistics.median(values):.2f} | {spread} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="loads per method (each on a fresh database)")
    parser.add_argument("--rounds", type=int, default=20, help="GETs per page and server")
    args = parser.parse_args()
    release = (ROOT / "build" / "current").resolve()
    store, dump = release / "store", release / "dist" / "bassin-minier.nq"
    if not store.is_dir() or not dump.is_file():
        raise SystemExit("no build: run `make build` first")
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as temporary:
        work = Path(temporary)
        print(f"dump: {dump.name}, {sum(1 for _ in dump.open('rb')):,} quads")
        print("| engine | method | median s | runs (s) |\n|---|---|---|---|")
        show("Virtuoso", virtuoso_figures(store, dump, args.runs, work))
        show("Oxigraph server", oxigraph_figures(store, dump, args.runs, work))
        with virtuoso_server(work / "virtuoso-pages") as server:
            remote = Remote(
                server.url + "/sparql-graph-crud-auth",
                server.endpoint,
                user=VIRTUOSO_DBA[0],
                token=VIRTUOSO_DBA[1],
                digest=True,
            )
            push_ok(store, remote)
            latency = page_latency(server, args.rounds)
    print(
        "\n| page | embedded median ms (p90) | fronting Virtuoso median ms (p90) | ratio |\n|---|---|---|---|"
    )
    for page, (ours, theirs) in latency.items():
        a, b = statistics.median(ours) * 1000, statistics.median(theirs) * 1000
        p90a = statistics.quantiles(ours, n=10)[-1] * 1000
        p90b = statistics.quantiles(theirs, n=10)[-1] * 1000
        print(f"| `{page}` | {a:.1f} ({p90a:.1f}) | {b:.1f} ({p90b:.1f}) | {b / a:.1f}× |")


if __name__ == "__main__":
    main()
