"""Benchmark: SHACL validation alone of a national-size SYNTHETIC BMO file, with the project's shapes.

Run from the project root:  .venv/bin/python bench/bench_validate.py [--rows 53000] [--repeat 3]

Converts the synthetic file (synthetic_bmo.py) to N-Triples as `bassin-kg ingest bmo` does, then times
`validate_ntriples` (the ingest's validation: shapes compiled to SPARQL, run in Oxigraph) ``--repeat``
times and prints each run and the best; the machine is shared, so the best of a few runs is the figure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rdflib import Graph  # noqa: E402
from synthetic_bmo import write_synthetic_bmo  # noqa: E402

from bassin_kg.namespaces import Iris  # noqa: E402
from bassin_kg.sources import bmo  # noqa: E402
from bassin_kg.validate import validate_ntriples  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=53_000, help="rows of the synthetic file (default 53000)")
    parser.add_argument("--repeat", type=int, default=3, help="validation runs (default 3)")
    args = parser.parse_args()
    print(f"code: {Path(bmo.__file__).parents[2]}")
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp:
        path = Path(tmp) / "bmo2024_national_synthetic.csv"
        write_synthetic_bmo(ROOT, path, rows=args.rows)
        codes, bassins = bmo.reference_codes(ROOT / "data")
        rows = bmo.read_bmo(path, known_codes=codes, known_bassins=bassins)
        data = "".join(bmo.to_ntriples(rows, Iris(), source_file=path.name)).encode("utf-8")
    ontology = Graph().parse(ROOT / "ontology" / "bassin.ttl", format="turtle")
    times = []
    for run in range(args.repeat):
        start = time.perf_counter()
        report = validate_ntriples([data], ROOT / "shapes", ontology=ontology)
        times.append(time.perf_counter() - start)
        print(f"run {run + 1}: {times[-1]:.2f} s ({report.engine}, {report.summary()})")
    triples = data.count(b"\n")
    print(f"validate {len(rows.rows)} rows, {triples} triples: best {min(times):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
