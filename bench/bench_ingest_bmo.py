"""Benchmark: `bassin-kg ingest bmo` on the national BMO file (53,443 rows), or a SYNTHETIC one of that size.

Run from the project root:
    .venv/bin/python bench/bench_ingest_bmo.py [--file PATH | --synthetic] [--rows 53000]

1. takes the real national file of ../shared/reference/bmo-2024-national/ when it is there (or --file),
   else writes `bmo2024_national_synthetic.csv` in the published 2024 layout into a temporary folder
   (bassin and FAP-2021 codes, made-up figures, unknown and multi-département bassins: synthetic_bmo.py);
2. builds the project into a temporary build folder (not timed) so there is a release to load into;
3. times the ingest (read and check, convert, SHACL-validate, load into a copy of the release, dump,
   switch) in a child process, and reports rows per second and the child's peak memory (max RSS);
4. times a peer on the same file: plain `csv` parsing and an rdflib Graph built triple by triple, the
   usual way, without validation or loading; and pyshacl on the first 1,000 observations, to show why
   the ingest validates with compiled SPARQL instead.
Targets (issue 12): the national file ingested in at most 30 s with a peak under 1 GB. The child's CPU
time (user + system) is printed beside its wall time: on a shared machine, the wall time measures the
neighbours too.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rdflib import Graph, Literal, URIRef  # noqa: E402
from rdflib.namespace import PROV, RDF, XSD  # noqa: E402
from synthetic_bmo import write_synthetic_bmo  # noqa: E402

from bassin_kg.namespaces import BM, INTERVAL_YEAR, QB, SDMX_ATT, SDMX_DIM, Iris  # noqa: E402

TARGET_SECONDS = 30.0
TARGET_PEAK_MB = 1000.0
NATIONAL = ROOT.parent / "shared" / "reference" / "bmo-2024-national" / "Base_open_data_BMO_2024.xlsx"


def _ingest_child(root: str, build_dir: str, path: str, queue: multiprocessing.Queue[object]) -> None:
    from bassin_kg.progress import Progress
    from bassin_kg.release.replace import run_loader
    from bassin_kg.settings import Settings
    from bassin_kg.sources.registry import loader

    settings = Settings(root=Path(root), build_dir=Path(build_dir))
    start = time.perf_counter()
    args = argparse.Namespace(file=Path(path), bassin=[])
    result = run_loader(settings, loader("ingest", "bmo"), args, Progress(quiet=True))
    elapsed = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    queue.put((elapsed, result.rows, result.triples, result.timings, usage.ru_maxrss, cpu))


def peer_rdflib(path: Path) -> tuple[float, int]:
    """csv + rdflib Graph.add, the same observation triples, no validation, no store."""
    iris = Iris()
    start = time.perf_counter()
    graph = Graph()
    dataset = iris.dataset("bmo-2024")
    period = INTERVAL_YEAR["2024"]
    measures = {"met": BM.projetsRecrutement, "xmet": BM.projetsDifficiles, "smet": BM.projetsSaisonniers}
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            area, dep = f"bassin-bmo-{row['BE24']}", f"departement-{row['Dept']}"
            obs = iris.observation("bmo-2024", area, dep, row["Code métier BMO"])
            record = iris.source_record("bmo-2024", line)
            graph.add((obs, RDF.type, QB.Observation))
            graph.add((obs, QB.dataSet, dataset))
            graph.add((obs, SDMX_DIM.refArea, iris.bassin_bmo(row["BE24"])))
            graph.add((obs, SDMX_DIM.refPeriod, period))
            graph.add((obs, SDMX_DIM.occupation, iris.fap2021(row["Code métier BMO"])))
            graph.add((obs, PROV.wasDerivedFrom, record))
            graph.add((record, RDF.type, BM.EnregistrementSource))
            graph.add((record, BM.fichier, Literal(path.name)))
            graph.add((record, BM.ligne, Literal(line, datatype=XSD.integer)))
            secret = False
            for column, measure in measures.items():
                if row[column] == "*":
                    secret = True
                    graph.add((obs, BM.mesureConfidentielle, measure))
                else:
                    graph.add((obs, measure, Literal(int(row[column]), datatype=XSD.integer)))
            if secret:
                graph.add((obs, SDMX_ATT.obsStatus, URIRef(BM["statut-confidentiel"])))
    return time.perf_counter() - start, len(graph)


def pyshacl_sample(path: Path, rows: int) -> float:
    """pyshacl (bassin_kg.validate.validate_graph, engine "pyshacl") on the first ``rows`` observations."""
    from bassin_kg.sources import bmo
    from bassin_kg.validate import validate_graph

    codes, bassins = bmo.reference_codes(ROOT / "data")
    sample = Path(tempfile.mkdtemp()) / "bmo2024_sample_synthetic.csv"
    with path.open(encoding="utf-8") as source, sample.open("w", encoding="utf-8") as target:
        for number, text in enumerate(source):
            if number > rows:
                break
            target.write(text)
    graph = bmo.to_graph(
        bmo.read_bmo(sample, known_codes=codes, known_bassins=bassins), Iris(), source_file=sample.name
    )
    start = time.perf_counter()
    validate_graph(graph, ROOT / "shapes", engine="pyshacl")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--file", type=Path, default=NATIONAL, help="the BMO file (default: the national one)"
    )
    parser.add_argument(
        "--synthetic", action="store_true", help="a synthetic file even if the real one is there"
    )
    parser.add_argument("--rows", type=int, default=53_000, help="rows of the synthetic file (default 53000)")
    parser.add_argument("--pyshacl-rows", type=int, default=1_000, help="rows for the pyshacl sample")
    args = parser.parse_args()

    from bassin_kg.progress import Progress
    from bassin_kg.release.build import build
    from bassin_kg.settings import Settings

    with tempfile.TemporaryDirectory(prefix="bench-bmo-") as tmp:
        folder = Path(tmp)
        if args.file.is_file() and not args.synthetic:
            path = args.file
            print(f"real file: {path}, {path.stat().st_size / 1e6:.1f} MB")
        else:
            path = folder / "bmo2024_national_synthetic.csv"
            written = write_synthetic_bmo(ROOT, path, rows=args.rows)
            print(f"synthetic file: {path.name}, {written} rows, {path.stat().st_size / 1e6:.1f} MB")
        build_dir = folder / "build"
        start = time.perf_counter()
        build(Settings(root=ROOT, build_dir=build_dir), progress=Progress(quiet=True))
        print(f"setup: project build into {build_dir} in {time.perf_counter() - start:.1f} s (not timed)")

        context = multiprocessing.get_context("spawn")
        queue: multiprocessing.Queue[object] = context.Queue()
        child = context.Process(target=_ingest_child, args=(str(ROOT), str(build_dir), str(path), queue))
        child.start()
        report = queue.get()
        child.join()
        assert isinstance(report, tuple), "the child sends (seconds, rows, triples, timings, peak KiB, CPU s)"
        elapsed, rows, triples, timings, peak_kib, cpu = (
            float(report[0]),
            int(report[1]),
            int(report[2]),
            dict(report[3]),
            int(report[4]),
            float(report[5]),
        )
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
        print(f"ingest: {rows} rows, {triples} triples in {elapsed:.1f} s ({steps})")
        print(
            f"ingest: {rows / elapsed:,.0f} rows/s; "
            f"peak memory (max RSS of the process) {peak_kib / 1024:.0f} MB"
        )
        print(f"ingest: CPU time (user + system) {cpu:.1f} s; load average {os.getloadavg()[0]:.1f}")
        peak_mb = peak_kib * 1024 / 1e6
        verdict = "OK" if elapsed <= TARGET_SECONDS and peak_mb < TARGET_PEAK_MB else "TOO SLOW OR TOO BIG"
        print(f"target: at most {TARGET_SECONDS:.0f} s and under {TARGET_PEAK_MB:.0f} MB: {verdict}")
        if path.suffix.lower() != ".csv":
            return 0 if verdict == "OK" else 1
        peer_seconds, peer_triples = peer_rdflib(path)
        print(
            f"peer (csv + rdflib Graph.add, no validation, no load): {peer_triples} triples in "
            f"{peer_seconds:.1f} s, {rows / peer_seconds:,.0f} rows/s"
        )
        print(
            f"ratio: full ingest takes {elapsed / peer_seconds:.2f} x the time of the peer's conversion alone"
        )
        sample_seconds = pyshacl_sample(path, args.pyshacl_rows)
        print(
            f"pyshacl on the first {args.pyshacl_rows} observations: {sample_seconds:.1f} s "
            f"(linear extrapolation to {rows} rows: {sample_seconds * rows / args.pyshacl_rows / 60:.0f} min)"
        )
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
