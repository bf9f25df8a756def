"""Benchmark (issue 3): our SPARQL endpoint against Oxigraph server and rdflib-endpoint.

Same built graph, same queries, same concurrency, one server at a time on loopback. For each query
(a lookup, two aggregates, a CONSTRUCT) and each mode — *cold* (every request unique: a ``# n`` comment
busts every cache, ours included since its cache key is the full query text) and *cached* (one
identical query repeated) — it runs N keep-alive clients for a fixed duration (bounded in requests)
and prints requests/s and latency percentiles, then the ratios against the targets of issue 3.

    make build
    .venv/bin/python bench/bench_endpoint.py                      # 10 s per cell, 4 and 16 clients
    .venv/bin/python bench/bench_endpoint.py --smoke              # a few requests: does it all run?

Peers: a no-op server (bench/noop_server.py) calibrates: what the client and loopback allow at all.
Oxigraph server is the ``oxigraph`` CLI of the project venv (Python package ``oxigraph``); it
loads the N-Quads dump into a temporary store and serves it read-only with ``--union-default-graph``.
rdflib-endpoint lives in its own venv (see bench/README.md); without it that peer is skipped.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BASE,
    DEFAULT_STORE,
    ROOT,
    HttpRequest,
    LoadResult,
    MemorySampler,
    Server,
    check_store,
    free_port,
    run_load,
    sparql_get,
    stop_on_signals,
    table,
    venv_tool,
)

PREFIXES = """PREFIX bm: <https://w3id.org/bassin-minier/def#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#>
"""
VALENCIENNOIS = f"<{BASE}id/territoire/ze2010/3115>"
SELECT_JSON = "application/sparql-results+json"
TURTLE = "text/turtle"


@dataclass(frozen=True)
class Query:
    name: str
    text: str
    accept: str
    aggregate: bool = False


QUERIES = (
    Query("lookup", f"SELECT ?p ?o WHERE {{ {VALENCIENNOIS} ?p ?o }}", SELECT_JSON),
    Query(
        "agg-sum",
        PREFIXES
        + """SELECT ?territory (SUM(?projects) AS ?total) (COUNT(?obs) AS ?observations)
WHERE { ?obs bm:projetsRecrutement ?projects ; sdmx-dimension:refArea ?territory }
GROUP BY ?territory ORDER BY DESC(?total)""",
        SELECT_JSON,
        aggregate=True,
    ),
    Query(
        "agg-classes",
        "SELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class ORDER BY DESC(?n)",
        SELECT_JSON,
        aggregate=True,
    ),
    Query(
        "construct",
        PREFIXES
        + f"""CONSTRUCT {{ ?item a ?class ; rdfs:label ?label ; bm:rang ?rank ; bm:mentionne ?actor .
  ?actor rdfs:label ?actorLabel }}
WHERE {{
  VALUES ?class {{ bm:Force bm:Faiblesse bm:Opportunite bm:Menace }}
  ?item a ?class ; bm:territoire {VALENCIENNOIS} ; rdfs:label ?label ; bm:rang ?rank .
  OPTIONAL {{ ?item bm:mentionne ?actor . ?actor rdfs:label ?actorLabel }}
}}""",
        TURTLE,
    ),
)
MODES = ("cold", "cached")
OURS, OXIGRAPH, RDFLIB_ENDPOINT, NOOP = "ours", "oxigraph", "rdflib-endpoint", "no-op"


@dataclass(frozen=True)
class Peer:
    name: str
    path: str  # where queries go
    start: Callable[[int], Server]


@dataclass(frozen=True)
class Cell:
    peer: str
    query: str
    mode: str
    concurrency: int
    result: LoadResult


def request_maker(peer: Peer, query: Query, mode: str) -> Callable[[int, random.Random], HttpRequest]:
    if mode == "cached":
        fixed = sparql_get(query.name, peer.path, query.text, query.accept)
        return lambda n, rng: fixed
    # a trailing comment changes the text, not the query: every cache (ours, a parsed-query cache) misses
    return lambda n, rng: sparql_get(query.name, peer.path, f"{query.text}\n# {n}", query.accept)


# peers ------------------------------------------------------------------------------------------
def server_stack(env: dict[str, str]) -> str:
    """Which HTTP parser and event loop uvicorn will use for our server (it picks the C ones if present)."""
    found = []
    for module, fast, slow in (("httptools", "httptools", "h11"), ("uvloop", "uvloop", "asyncio")):
        probe = subprocess.run(
            [sys.executable, "-c", f"import {module}"], env={**os.environ, **env}, capture_output=True
        )
        found.append(fast if probe.returncode == 0 else slow)
    return " + ".join(found)


def ours(store: Path, logs: Path, workers: int | None, extra_env: dict[str, str]) -> Peer:
    print(f"ours: uvicorn with {server_stack(extra_env)}", flush=True)

    def start(port: int) -> Server:
        env = {"BASSIN_KG_MAX_CONCURRENT_QUERIES": str(workers)} if workers else {}
        env.update(extra_env)
        command = [
            str(venv_tool("bassin-kg")),
            "serve",
            "--store",
            str(store),
            "--port",
            str(port),
            "--no-access-log",
        ]
        return Server(OURS, command, port, "/sparql?query=ASK%7B%7D", logs / "ours.log", env)

    return Peer(OURS, "/sparql", start)


def oxigraph(dump: Path, scratch: Path, logs: Path) -> Peer:
    location = scratch / "oxigraph-store"

    def start(port: int) -> Server:
        if not location.exists():
            started = time.perf_counter()
            subprocess.run(
                [str(venv_tool("oxigraph")), "load", "--location", str(location), "--file", str(dump)],
                check=True,
                capture_output=True,
            )
            print(f"  oxigraph: loaded {dump.name} in {time.perf_counter() - started:.1f} s", flush=True)
        command = [
            str(venv_tool("oxigraph")),
            "serve-read-only",
            "--location",
            str(location),
            "--bind",
            f"127.0.0.1:{port}",
            "--union-default-graph",
        ]
        return Server(OXIGRAPH, command, port, "/query?query=ASK%7B%7D", logs / "oxigraph.log")

    return Peer(OXIGRAPH, "/query", start)


def rdflib_endpoint(venv: Path, dump: Path, logs: Path) -> Peer | None:
    tool = venv / "bin" / "rdflib-endpoint"
    if not tool.exists():
        print(
            f"NOTICE: rdflib-endpoint skipped: no {tool}. Create its venv (outside the project venv):\n"
            f"  python3 -m venv {venv} && {venv}/bin/pip install rdflib-endpoint uvicorn",
            flush=True,
        )
        return None

    def start(port: int) -> Server:
        # the CLI loads the files into an rdflib Dataset (default_union=True) and serves it at "/"
        command = [str(tool), "serve", "--host", "127.0.0.1", "--port", str(port), str(dump)]
        return Server(RDFLIB_ENDPOINT, command, port, "/?query=ASK%7B%7D", logs / "rdflib-endpoint.log")

    return Peer(RDFLIB_ENDPOINT, "/", start)


def noop(logs: Path) -> Peer:
    """The calibration peer: a server that answers without reading the query (bench/noop_server.py)."""
    script = Path(__file__).resolve().parent / "noop_server.py"

    def start(port: int) -> Server:
        return Server(NOOP, [sys.executable, str(script), str(port)], port, "/", logs / "no-op.log")

    return Peer(NOOP, "/", start)


# measuring --------------------------------------------------------------------------------------
def measure(peers: list[Peer], args: argparse.Namespace) -> tuple[list[Cell], dict[str, float]]:
    """Start every peer, then measure cell by cell, each peer in turn.

    Interleaving the peers within each cell (rather than one peer after the other) exposes them to the
    same background load of the machine; an idle server costs memory only.
    """
    cells: list[Cell] = []
    peak: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        ports: dict[str, int] = {}
        samplers: dict[str, MemorySampler] = {}
        for peer in peers:
            port = free_port()
            started = time.perf_counter()
            server = stack.enter_context(peer.start(port))
            print(
                f"== {peer.name}: ready on 127.0.0.1:{port} in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            ports[peer.name] = port
            samplers[peer.name] = stack.enter_context(MemorySampler(server.pid).running())
        for query in QUERIES:
            for peer in peers:
                # warm up: the first runs of a query (worker start, page cache) are not what we compare
                maker = request_maker(peer, query, "cold")
                run_load("127.0.0.1", ports[peer.name], maker, concurrency=1, duration=2, max_requests=3)
            for mode in MODES:
                for concurrency in args.concurrency:
                    for peer in peers:
                        result = run_load(
                            "127.0.0.1",
                            ports[peer.name],
                            request_maker(peer, query, mode),
                            concurrency=concurrency,
                            duration=args.duration,
                            max_requests=args.max_requests,
                        )
                        cells.append(Cell(peer.name, query.name, mode, concurrency, result))
                        stats = result.total
                        bad = stats.count - stats.ok + stats.failures
                        p50, p99 = stats.percentile(50, ok_only=True), stats.percentile(99, ok_only=True)
                        print(
                            f"  {peer.name:<15} {query.name:<11} {mode:<6} c={concurrency:<3} "
                            f"{result.throughput():8.1f} req/s  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms"
                            + (f"  NOT OK: {bad} ({dict(stats.statuses)})" if bad else ""),
                            flush=True,
                        )
    # the samplers stopped with the servers: their peaks are final
    for name, sampler in samplers.items():
        peak[name] = sampler.peak_mib
    return cells, peak


def report(cells: list[Cell], concurrency: list[int]) -> list[str]:
    rows = []
    for cell in cells:
        stats = cell.result.total
        cache = "/".join(f"{k}:{v}" for k, v in sorted(stats.cache.items())) or "-"
        rows.append(
            [
                cell.peer,
                cell.query,
                cell.mode,
                cell.concurrency,
                stats.count,
                stats.count - stats.ok + stats.failures,
                cell.result.throughput(),
                stats.percentile(50, ok_only=True),
                stats.percentile(95, ok_only=True),
                stats.percentile(99, ok_only=True),
                cache,
            ]
        )
    header = [
        "server",
        "query",
        "mode",
        "clients",
        "requests",
        "errors",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
    ]
    print()
    print(table([*header, "X-Cache"], rows))
    print()

    found = {(c.peer, c.query, c.mode, c.concurrency): c.result for c in cells}
    lines: list[str] = []

    def ratio_line(label: str, value: float, target: str, ok: bool) -> None:
        verdict = "-" if math.isnan(value) else ("OK" if ok else "MISSED")
        lines.append(f"RATIO {label}: {value:.2f}x (target {target}) {verdict}")

    for query in QUERIES:
        for mode in MODES:
            for c in concurrency:
                mine, theirs = (
                    found.get((OURS, query.name, mode, c)),
                    found.get((RDFLIB_ENDPOINT, query.name, mode, c)),
                )
                if mine is not None and theirs is not None:
                    value = _div(mine.throughput(), theirs.throughput())
                    floor = found.get((NOOP, query.name, mode, c))
                    ceiling = (
                        f"; a no-op server: {_div(floor.throughput(), theirs.throughput()):.2f}x"
                        if floor is not None
                        else ""
                    )
                    ratio_line(
                        f"ours/rdflib-endpoint throughput {query.name} {mode} c={c}",
                        value,
                        ">= 10" + ceiling,
                        value >= 10,
                    )
    for query in QUERIES:
        if not query.aggregate:
            continue
        for mode in MODES:
            for c in concurrency:
                mine, theirs = (
                    found.get((OURS, query.name, mode, c)),
                    found.get((OXIGRAPH, query.name, mode, c)),
                )
                if mine is not None and theirs is not None:
                    value = _div(
                        mine.total.percentile(50, ok_only=True), theirs.total.percentile(50, ok_only=True)
                    )
                    ratio_line(
                        f"ours/oxigraph p50 latency {query.name} {mode} c={c}", value, "<= 1.3", value <= 1.3
                    )
    for query in QUERIES:
        for c in concurrency:
            mine, theirs = (
                found.get((OURS, query.name, "cached", c)),
                found.get((OXIGRAPH, query.name, "cached", c)),
            )
            if mine is not None and theirs is not None:
                value = _div(mine.throughput(), theirs.throughput())
                ratio_line(f"ours/oxigraph cached throughput {query.name} c={c}", value, ">= 1", value >= 1)
    for line in lines:
        print(line)
    return lines


def _div(a: float, b: float) -> float:
    return a / b if b > 0 and not math.isnan(a) and not math.isnan(b) else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--store", type=Path, default=DEFAULT_STORE, help="our store (default build/current/store)"
    )
    parser.add_argument(
        "--dump", type=Path, help="N-Quads dump for the peers (default: the store's dist/*.nq)"
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement (default 10)")
    parser.add_argument("--concurrency", default="4,16", help="client counts, comma-separated (default 4,16)")
    parser.add_argument("--max-requests", type=int, default=50_000, help="request bound per measurement")
    parser.add_argument(
        "--peers",
        default=f"{OURS},{OXIGRAPH},{RDFLIB_ENDPOINT},{NOOP}",
        help=f"servers to measure ({NOOP}: a server that does nothing, the client's ceiling)",
    )
    parser.add_argument(
        "--rdflib-endpoint-venv",
        type=Path,
        default=ROOT / "build" / "rdflib-endpoint-venv",
        help="venv holding rdflib-endpoint (default build/rdflib-endpoint-venv)",
    )
    parser.add_argument("--workers", type=int, help="our query worker processes (default: the server's own)")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="environment variable for our server (repeatable), e.g. BASSIN_KG_MAX_QUEUED_QUERIES=64",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--smoke", action="store_true", help="0.5 s cells, 2 clients, 40 requests: a quick check"
    )
    args = parser.parse_args(argv)
    stop_on_signals()
    if args.smoke:
        args.duration, args.max_requests, args.concurrency = 0.5, 40, "2"
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    store: Path = args.store.resolve()
    check_store(store)
    dump: Path = args.dump or store.parent / "dist" / "bassin-minier.nq"
    if not dump.is_file():
        sys.exit(
            f"no dump at {dump}: run `make build`, or give --dump PATH (an N-Quads file of the same graph)"
        )
    wanted = [p.strip() for p in args.peers.split(",") if p.strip()]

    with tempfile.TemporaryDirectory(prefix="bassin-bench-") as scratch_name:
        scratch = Path(scratch_name)
        logs = scratch / "logs"
        peers: list[Peer] = []
        for name in wanted:
            if name == OURS:
                extra_env = dict(item.split("=", 1) for item in args.server_env)
                peers.append(ours(store, logs, args.workers, extra_env))
            elif name == OXIGRAPH:
                peers.append(oxigraph(dump, scratch, logs))
            elif name == RDFLIB_ENDPOINT:
                peer = rdflib_endpoint(args.rdflib_endpoint_venv, dump, logs)
                if peer is not None:
                    peers.append(peer)
            elif name == NOOP:
                peers.append(noop(logs))
            else:
                sys.exit(f"unknown peer {name!r}; choose among {OURS}, {OXIGRAPH}, {RDFLIB_ENDPOINT}, {NOOP}")
        print(
            f"store {store} · dump {dump.name} · {args.duration:g} s per cell · clients {args.concurrency} · "
            f"at most {args.max_requests} requests per cell",
            flush=True,
        )
        cells, peak = measure(peers, args)
        lines = report(cells, args.concurrency)
        for name, mib in peak.items():
            print(f"peak RSS of {name} (server and its workers): {mib:.0f} MiB")
    if args.json:
        figures = [
            {
                "server": c.peer,
                "query": c.query,
                "mode": c.mode,
                "clients": c.concurrency,
                "requests": c.result.total.count,
                "ok": c.result.total.ok,
                "req_per_s": c.result.throughput(),
                "p50_ms": c.result.total.percentile(50, ok_only=True),
                "p95_ms": c.result.total.percentile(95, ok_only=True),
                "p99_ms": c.result.total.percentile(99, ok_only=True),
            }
            for c in cells
        ]
        args.json.write_text(json.dumps({"cells": figures, "ratios": lines}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
