"""Reference tables read with their line numbers, and the source records rows point back to."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from bassin_kg.errors import DataError
from bassin_kg.namespaces import BM, Iris

Row = dict[str, str]


def read_table(
    path: Path, required: Sequence[str], *, skip_lines: int = 0, delimiter: str = ","
) -> Iterator[tuple[int, Row]]:
    """Yield ``(line, row)`` for each data row; ``line`` is 1-based in the file (header = skip_lines + 1).

    A missing file or a missing column is a :class:`DataError` naming the expected columns.
    """
    try:
        yield from _read_table(path, required, skip_lines, delimiter)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=path, hint="save it as UTF-8"
        ) from None
    except csv.Error as exc:
        # e.g. a field over the csv module's 128 kB limit: an unclosed quote swallowed the file
        raise DataError(
            f"not a readable CSV table ({exc})", file=path, hint="look for an unclosed double quote"
        ) from None


def _read_table(
    path: Path, required: Sequence[str], skip_lines: int, delimiter: str
) -> Iterator[tuple[int, Row]]:
    if not path.is_file():
        raise DataError(
            "reference file not found", file=path, hint="restore it from data/reference (see its README)"
        )
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for _ in range(skip_lines):
            handle.readline()
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise DataError("file is empty", file=path, line=skip_lines + 1) from None
        missing = [c for c in required if c not in header]
        if missing:
            raise DataError(
                f"missing column(s) {', '.join(missing)}",
                file=path,
                line=skip_lines + 1,
                value=header,
                hint=f"expected columns: {', '.join(required)}",
            )
        line = skip_lines + 1
        for values in reader:
            line += 1
            if not any(v.strip() for v in values):
                continue
            yield line, dict(zip(header, (v.strip() for v in values), strict=False))


class SourceRecords:
    """Mints ``<base>id/source/<file key>/<line>`` records (MODEL.md, Provenance) into a graph, once each."""

    def __init__(self, graph: Graph, iris: Iris, file_key: str, relative_path: str) -> None:
        self.graph = graph
        self.iris = iris
        self.file_key = file_key
        self.relative_path = relative_path
        self._file = Literal(relative_path)
        self._seen: set[int] = set()

    def __call__(self, line: int) -> URIRef:
        iri = self.iris.source_record(self.file_key, line)
        if line not in self._seen:
            self._seen.add(line)
            self.graph.add((iri, RDF.type, BM.EnregistrementSource))
            self.graph.add((iri, BM.fichier, self._file))
            self.graph.add((iri, BM.ligne, Literal(line, datatype=XSD.integer)))
        return iri


def reference_records(graph: Graph, iris: Iris, file_name: str) -> SourceRecords:
    """Source records for ``data/reference/<file_name>`` (file key ``reference-<stem>``)."""
    stem = Path(file_name).stem
    return SourceRecords(graph, iris, f"reference-{stem}", f"data/reference/{file_name}")
