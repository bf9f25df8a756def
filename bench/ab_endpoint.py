"""A/B of cold queries: several variants of our server beside Oxigraph server and rdflib-endpoint.

Uses ``bench_endpoint.measure``: all servers start first, then each cell measures them in turn, so every
variant meets the same background load. A variant is ``NAME`` or ``NAME:VAR=VALUE,VAR=VALUE`` (environment
of that server), e.g. ``--ours before:PYTHONPATH=/tmp/src-before --ours now
--ours no-turns:BASSIN_KG_QUERY_CPUS=64``. Prints requests/s and (p50 ms) per query, mode and clients.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import bench_endpoint as b


def variant(text: str) -> tuple[str, dict[str, str]]:
    name, _, assignments = text.partition(":")
    env = dict(item.split("=", 1) for item in assignments.split(",") if item)
    return name, env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ours", action="append", type=variant, required=True, help="NAME[:VAR=VALUE,...]")
    parser.add_argument("--store", type=Path, default=Path("build/current/store"))
    parser.add_argument("--rdflib-endpoint-venv", type=Path, default=Path("build/rdflib-endpoint-venv"))
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--queries", default=",".join(q.name for q in b.QUERIES))
    parser.add_argument("--modes", default="cold", help="cold, cached or both (cold,cached)")
    args = parser.parse_args(argv)
    store = args.store.resolve()
    dump = next((store.parent / "dist").glob("*.nq"))
    scratch = Path(tempfile.mkdtemp(prefix="bench-ab-"))
    peers: list[b.Peer] = []
    for name, env in args.ours:
        base = b.ours(store, scratch / "logs" / name, None, env)
        peers.append(b.Peer(name, base.path, base.start))
    peers.append(b.oxigraph(dump, scratch, scratch / "logs"))
    rdflib_peer = b.rdflib_endpoint(args.rdflib_endpoint_venv, dump, scratch / "logs")
    if rdflib_peer is not None:
        peers.append(rdflib_peer)
    # measure() reads these module globals: the chosen modes and queries
    modes = tuple(args.modes.split(","))
    b.MODES = modes  # type: ignore[assignment]
    wanted = args.queries.split(",")
    b.QUERIES = tuple(q for q in b.QUERIES if q.name in wanted)  # type: ignore[assignment]
    concurrency = [int(c) for c in args.concurrency.split(",")]
    settings = argparse.Namespace(concurrency=concurrency, duration=args.duration, max_requests=50_000)
    cells, peak = b.measure(peers, settings)
    print("\nquery       mode     c  " + "  ".join(f"{p.name:>18}" for p in peers))
    for query in b.QUERIES:
        for mode in modes:
            for c in concurrency:
                row = []
                for peer in peers:
                    key = (peer.name, query.name, mode, c)
                    cell = next(x for x in cells if (x.peer, x.query, x.mode, x.concurrency) == key)
                    p50 = cell.result.total.percentile(50, ok_only=True)
                    row.append(f"{cell.result.throughput():8.0f} ({p50:5.1f})")
                print(f"{query.name:<11} {mode:<6} {c:>2}  " + "  ".join(f"{r:>18}" for r in row))
    print("peak RSS MiB:", {name: round(value) for name, value in peak.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
