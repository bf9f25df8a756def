"""Load test (issue 6): a mixed workload on our server at 1, 16 and 64 clients, bounded in time and requests.

The server is started here with a short query timeout (``--query-timeout 2`` by default) so the heavy
queries of the mix — a triple cross join no endpoint can finish — are stopped and answered 503. The
mix: HTML pages (home, territory), a resource as Turtle, named queries (``/queries/<name>``), ad-hoc
SPARQL repeated (cached) and unique (cold: lookups and an aggregate), and the heavy queries.

Two runs per client count:
- *mixed*: every client draws each request from the weighted mix;
- *heavy background*: the same light mix, while extra clients send only heavy queries back to back —
  light requests must still be answered, quickly.

It records throughput, p50/p95/p99 latency per request kind, answers by status (503 with Retry-After,
i.e. refused because busy, counted apart from 503 timeouts), pages missing (404) counted apart, and the
peak resident memory of the server process tree (VmRSS of the server and its workers, sampled).

    make build
    .venv/bin/python bench/load_test.py                  # 15 s per run, 1/16/64 clients
    .venv/bin/python bench/load_test.py --smoke          # a few requests: does it all run?
"""

from __future__ import annotations

import argparse
import json
import random
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
    HttpRequest,
    KindStats,
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

HTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
JSON = "application/sparql-results+json"
ZONES = ("3123", "3122", "3114", "3115")
PREFIXES = """PREFIX bm: <https://w3id.org/bassin-minier/def#>
PREFIX sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#>
"""
AGGREGATE = (
    PREFIXES
    + """SELECT ?territory (SUM(?projects) AS ?total) (COUNT(?obs) AS ?observations)
WHERE { ?obs bm:projetsRecrutement ?projects ; sdmx-dimension:refArea ?territory }
GROUP BY ?territory ORDER BY DESC(?total)"""
)
# 76k triples cubed: no engine finishes this; it is what the query timeout is for
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
HEAVY_KIND = "sparql-heavy"


def lookup(zone: str) -> str:
    return f"SELECT ?p ?o WHERE {{ <{BASE}id/territoire/ze2010/{zone}> ?p ?o }}"


Maker = Callable[[int, random.Random], HttpRequest]

# kind -> (weight, maker); weights are relative shares of the light mix
LIGHT: dict[str, tuple[int, Maker]] = {
    "page-home": (8, lambda n, rng: HttpRequest("page-home", "/", HTML)),
    "page-territory": (
        12,
        lambda n, rng: HttpRequest("page-territory", f"/id/territoire/ze2010/{rng.choice(ZONES)}", HTML),
    ),
    "resource-turtle": (
        5,
        lambda n, rng: HttpRequest(
            "resource-turtle", f"/id/territoire/ze2010/{rng.choice(ZONES)}", "text/turtle"
        ),
    ),
    "named-query": (
        10,
        lambda n, rng: HttpRequest(
            "named-query", f"/queries/swot-territoire?territory={rng.choice(ZONES)}", JSON
        ),
    ),
    "named-query-all": (
        4,
        lambda n, rng: HttpRequest("named-query-all", "/queries/top-projets-recrutement", JSON),
    ),
    "sparql-cached": (
        25,
        lambda n, rng: sparql_get("sparql-cached", "/sparql", lookup(rng.choice(ZONES)), JSON),
    ),
    "sparql-cold": (
        20,
        lambda n, rng: sparql_get("sparql-cold", "/sparql", f"{lookup(rng.choice(ZONES))}\n# {n}", JSON),
    ),
    "sparql-aggregate": (
        8,
        lambda n, rng: sparql_get("sparql-aggregate", "/sparql", f"{AGGREGATE}\n# {n}", JSON),
    ),
}
HEAVY_SHARE = 0.01  # of the mixed workload


def heavy(n: int, rng: random.Random) -> HttpRequest:
    return sparql_get(HEAVY_KIND, "/sparql", f"{HEAVY}\n# {n}", JSON)


def light(n: int, rng: random.Random) -> HttpRequest:
    kinds = list(LIGHT.values())
    _, maker = rng.choices(kinds, weights=[w for w, _ in kinds])[0]
    return maker(n, rng)


#: light ad-hoc queries that need a worker (a property path: not a subject lookup answered at once)
LIGHT_ADHOC_KIND = "sparql-light"
#: clients as uvicorn reads them behind a trusted proxy on 127.0.0.1 (documentation addresses)
HEAVY_CLIENT = (("X-Forwarded-For", "203.0.113.8"),)
LIGHT_CLIENT = (("X-Forwarded-For", "203.0.113.1"),)


def heavy_from_one_client(n: int, rng: random.Random) -> HttpRequest:
    request = heavy(n, rng)
    return HttpRequest(request.kind, request.target, request.accept, headers=HEAVY_CLIENT)


def light_adhoc(n: int, rng: random.Random) -> HttpRequest:
    zone = f"<{BASE}id/territoire/ze2010/{rng.choice(ZONES)}>"
    labels = "<http://www.w3.org/2004/02/skos/core#prefLabel>|<http://www.w3.org/2000/01/rdf-schema#label>"
    query = f"SELECT ?label WHERE {{ {zone} {labels} ?label }}\n# {n}"
    request = sparql_get(LIGHT_ADHOC_KIND, "/sparql", query, JSON)
    return HttpRequest(request.kind, request.target, request.accept, headers=LIGHT_CLIENT)


def mixed(n: int, rng: random.Random) -> HttpRequest:
    return heavy(n, rng) if rng.random() < HEAVY_SHARE else light(n, rng)


@dataclass(frozen=True)
class Run:
    scenario: str
    clients: int
    result: LoadResult
    peak_mib: float
    processes: int


def classify(kind: str, stats: KindStats) -> dict[str, int]:
    """Answers by meaning: ok, expected (heavy timeouts), busy (503 + Retry-After), missing (404), errors."""
    out = {"ok": stats.ok, "timeout": 0, "busy": stats.busy, "missing": 0, "errors": stats.failures}
    for status, n in stats.statuses.items():
        if 200 <= status < 400:
            continue
        if status == 503:
            if kind == HEAVY_KIND:
                out["timeout"] += n - stats.busy  # the heavy queries are meant to time out
            else:
                out["errors"] += max(0, n - stats.busy)  # a light query that timed out is an error
        elif status == 404 and kind.startswith(("page", "named", "resource")):
            out["missing"] += n
        else:
            out["errors"] += n
    return out


def run_scenario(scenario: str, clients: int, port: int, pid: int, args: argparse.Namespace) -> Run:
    sampler = MemorySampler(pid, interval=0.1)
    with sampler.running():
        if scenario == "mixed":
            result = run_load(
                "127.0.0.1",
                port,
                mixed,
                concurrency=clients,
                duration=args.duration,
                max_requests=args.max_requests,
            )
        elif scenario == "light-under-heavy":
            # issue 16: one client's 8 heavy queries, another client's light ad-hoc ones
            result = _with_heavy_background(port, clients, args, heavy_from_one_client, light_adhoc, 8)
        else:
            # heavy clients beside the light ones: as many as the server runs queries at once
            result = _with_heavy_background(port, clients, args)
    return Run(scenario, clients, result, sampler.peak_mib, sampler.peak_processes)


def _with_heavy_background(
    port: int,
    clients: int,
    args: argparse.Namespace,
    heavy_maker: Maker = heavy,
    light_maker: Maker = light,
    heavy_clients: int | None = None,
) -> LoadResult:
    import threading

    heavy_result: list[LoadResult] = []

    def background() -> None:
        heavy_result.append(
            run_load(
                "127.0.0.1",
                port,
                heavy_maker,
                concurrency=heavy_clients or args.heavy_clients,
                duration=args.duration,
                max_requests=args.max_requests,
                seed=2,
            )
        )

    thread = threading.Thread(target=background)
    thread.start()
    time.sleep(0.3)  # let the heavy queries occupy the workers first
    result = run_load(
        "127.0.0.1",
        port,
        light_maker,
        concurrency=clients,
        duration=args.duration - 0.3,
        max_requests=args.max_requests,
    )
    thread.join()
    kinds = dict(result.kinds)
    for name, stats in heavy_result[0].kinds.items():
        kinds.setdefault(name, KindStats()).add(stats)
    return LoadResult(result.duration, clients, kinds)


def report(runs: list[Run]) -> None:
    header = [
        "scenario", "clients", "kind", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms",
        "ok", "timeout", "busy", "404", "errors", "statuses",
    ]  # fmt: skip
    rows: list[list[object]] = []
    for run in runs:
        ordered = sorted(run.result.kinds.items())
        for kind, stats in [*ordered, ("ALL", run.result.total)]:
            if kind == "ALL":
                counts = {"ok": 0, "timeout": 0, "busy": 0, "missing": 0, "errors": 0}
                for k, s in ordered:
                    for key, value in classify(k, s).items():
                        counts[key] += value
            else:
                counts = classify(kind, stats)
            rows.append(
                [
                    run.scenario,
                    run.clients,
                    kind,
                    stats.count,
                    stats.count / run.result.duration if run.result.duration else 0.0,
                    stats.percentile(50),
                    stats.percentile(95),
                    stats.percentile(99),
                    counts["ok"],
                    counts["timeout"],
                    counts["busy"],
                    counts["missing"],
                    counts["errors"],
                    " ".join(f"{s}:{n}" for s, n in sorted(stats.statuses.items())),
                ]
            )
    print()
    print(table(header, rows))
    print()
    summary = [
        [
            run.scenario,
            run.clients,
            run.result.total.count,
            run.result.throughput(ok_only=False),
            run.result.total.percentile(99),
            _light_p99(run),
            _light_p99(run, site_only=True),
            sum(classify(k, s)["errors"] for k, s in run.result.kinds.items()),
            run.peak_mib,
            run.processes,
        ]
        for run in runs
    ]
    print(
        table(
            [
                "scenario", "clients", "requests", "req/s", "p99 ms", "light p99 ms", "site p99 ms", "errors",
                "peak RSS MiB", "processes",
            ],
            summary,
        )
    )  # fmt: skip
    print()
    for run in runs:
        errors = sum(classify(k, s)["errors"] for k, s in run.result.kinds.items())
        missing = sum(classify(k, s)["missing"] for k, s in run.result.kinds.items())
        print(
            f"LOAD {run.scenario} c={run.clients}: {run.result.throughput(ok_only=False):.1f} req/s, "
            f"light p99 {_light_p99(run):.1f} ms "
            f"(pages, named and cached queries {_light_p99(run, site_only=True):.1f} ms), "
            f"errors {errors}, missing pages {missing}, "
            f"peak RSS {run.peak_mib:.0f} MiB over {run.processes} processes"
        )


#: the service's own requests: pages, resources, named queries and repeated (cached) ad-hoc queries
SITE = ("page-", "resource-", "named-", "sparql-cached")


def _light_p99(run: Run, *, site_only: bool = False) -> float:
    light_stats = KindStats()
    for kind, stats in run.result.kinds.items():
        if kind != HEAVY_KIND and (not site_only or kind.startswith(SITE)):
            light_stats.add(stats)
    return light_stats.percentile(99)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--store", type=Path, default=DEFAULT_STORE, help="store to serve (default build/current/store)"
    )
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per run (default 15)")
    parser.add_argument(
        "--clients", default="1,16,64", help="client counts, comma-separated (default 1,16,64)"
    )
    parser.add_argument("--max-requests", type=int, default=100_000, help="request bound per run")
    parser.add_argument(
        "--query-timeout", type=float, default=2.0, help="the server's query timeout (default 2)"
    )
    parser.add_argument(
        "--heavy-clients", type=int, default=4, help="heavy-only clients in the background run"
    )
    parser.add_argument("--workers", type=int, help="query worker processes (default: the server's own)")
    parser.add_argument(
        "--scenarios",
        default="mixed,heavy-background",
        help="runs per client count: mixed, heavy-background, light-under-heavy (8 heavy queries from "
        "one client, light ad-hoc ones from another)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--smoke", action="store_true", help="1 s runs, 1 and 4 clients: a quick check")
    args = parser.parse_args(argv)
    stop_on_signals()
    if args.smoke:
        args.duration, args.clients, args.max_requests, args.heavy_clients = 1.0, "1,4", 60, 2
    clients = [int(c) for c in args.clients.split(",")]
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    store: Path = args.store.resolve()
    check_store(store)
    port = free_port()
    command = [
        str(venv_tool("bassin-kg")), "serve", "--store", str(store), "--port", str(port),
        "--query-timeout", f"{args.query_timeout:g}", "--no-access-log",
    ]  # fmt: skip
    env = {"BASSIN_KG_MAX_CONCURRENT_QUERIES": str(args.workers)} if args.workers else {}
    print(f"$ {' '.join(command)}" + (f"  (env {env})" if env else ""), flush=True)
    runs: list[Run] = []
    with (
        tempfile.TemporaryDirectory(prefix="bassin-load-") as scratch,
        Server("ours", command, port, "/sparql?query=ASK%7B%7D", Path(scratch) / "server.log", env) as server,
    ):
        idle = MemorySampler(server.pid).sample() / 1024
        print(f"server ready; idle RSS {idle:.0f} MiB", flush=True)
        for c in clients:
            for scenario in scenarios:
                run = run_scenario(scenario, c, port, server.pid, args)
                runs.append(run)
                total = run.result.total
                print(
                    f"  {scenario:<16} c={c:<3} {run.result.throughput(ok_only=False):8.1f} req/s  "
                    f"p50 {total.percentile(50):7.1f} ms  p99 {total.percentile(99):7.1f} ms  "
                    f"peak RSS {run.peak_mib:.0f} MiB",
                    flush=True,
                )
    report(runs)
    if args.json:
        data = [
            {
                "scenario": r.scenario,
                "clients": r.clients,
                "peak_rss_mib": r.peak_mib,
                "kinds": {
                    k: {
                        "requests": s.count,
                        "p50_ms": s.percentile(50),
                        "p95_ms": s.percentile(95),
                        "p99_ms": s.percentile(99),
                        "statuses": dict(s.statuses),
                        **classify(k, s),
                    }
                    for k, s in r.result.kinds.items()
                },
            }
            for r in runs
        ]
        args.json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
