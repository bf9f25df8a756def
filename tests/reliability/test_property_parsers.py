"""Property tests: every parser of input files gives a result or a DataError, never another exception.

Arbitrary text and bytes, arbitrary rows in each reader's layout, and mutations of the real deck text
(lines deleted, duplicated, swapped). A DataError must name the file; a hang fails the deadline. The
rows and texts are generated (SYNTHETIC); the real deck text and reference codes are only read.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bassin_kg.errors import DataError
from bassin_kg.extract.csvio import read_rows
from bassin_kg.extract.deck import Deck, load_territory_names, parse_deck
from bassin_kg.sources.acoss import MEASURES as ACOSS_MEASURES
from bassin_kg.sources.acoss import known_zone_codes, read_acoss
from bassin_kg.sources.bmo import read_bmo, reference_codes
from bassin_kg.sources.common import read_table

REPO = Path(__file__).resolve().parents[2]
DECK = REPO / "data" / "sources" / "deck" / "trajectoire-economique-bassin-minier-2019.txt"
NAMES = load_territory_names(REPO / "data" / "curated" / "territory_names.csv")
DECK_LINES = DECK.read_text(encoding="utf-8").splitlines()
OCCUPATION_CODES, BASSIN_CODES = reference_codes(REPO / "data")
ZONE_CODES = known_zone_codes(REPO / "data")

#: at most ~100 examples each, and a deadline: a parser that loops or backtracks fails
BOUNDED = settings(
    max_examples=100,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,  # the same examples on every run, so CI is reproducible
)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def result_or_data_error(parse: Callable[[], object], file: Path | str) -> object:
    """Run ``parse``; a DataError is fine if it names the file, anything else fails the test."""
    try:
        return parse()
    except DataError as exc:
        error = exc
    assert error.file is not None
    assert str(file).endswith(Path(error.file).name), error.render()
    return error


# --- strategies -------------------------------------------------------------------------------------------
#: text with the characters that break parsers: separators, quotes, line ends, digits of other scripts
NASTY = st.sampled_from(
    [",", ";", '"', "'", "\n", "\r", "\t", "\x00", "*", "%", "-", ".", "²", "٣", "\ufeff"]
)
TEXT = st.text(st.one_of(st.characters(codec="utf-8"), NASTY), max_size=30)


def cells(valid: list[str]) -> st.SearchStrategy[str]:
    """Mostly plausible values of a column, sometimes anything."""
    return st.one_of(st.sampled_from(valid), TEXT, st.integers(-5, 10**12).map(str))


def csv_text(rows: list[list[str]], delimiter: str, quoted: bool) -> str:
    if not quoted:  # as a careless export would write it: separators and quotes inside values break rows
        return "\n".join(delimiter.join(row) for row in rows) + "\n"
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue()


# --- the deck parser ------------------------------------------------------------------------------------
@BOUNDED
@given(text=st.lists(TEXT, max_size=40).map("\n".join))
def test_deck_parser_on_arbitrary_text(scratch: Path, text: str) -> None:
    path = scratch / "deck.txt"
    path.write_text(text, encoding="utf-8")
    outcome = result_or_data_error(lambda: parse_deck(path, NAMES), path)
    assert isinstance(outcome, Deck | DataError)


@BOUNDED
@given(data=st.binary(max_size=300))
def test_deck_parser_on_arbitrary_bytes(scratch: Path, data: bytes) -> None:
    path = scratch / "deck.txt"
    path.write_bytes(data)
    result_or_data_error(lambda: parse_deck(path, NAMES), path)


Edit = tuple[str, int, int]
EDITS = st.lists(
    st.tuples(
        st.sampled_from(["delete", "duplicate", "swap", "blank", "truncate"]),
        st.integers(0, len(DECK_LINES) - 1),
        st.integers(0, len(DECK_LINES) - 1),
    ),
    min_size=1,
    max_size=6,
)


def mutate(lines: list[str], edits: list[Edit]) -> list[str]:
    lines = list(lines)
    for kind, i, j in edits:
        i, j = i % len(lines), j % len(lines)
        if kind == "delete" and len(lines) > 1:
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "blank":
            lines[i] = ""
        else:
            lines[i] = lines[i][: len(lines[i]) // 2]
    return lines


@BOUNDED
@given(edits=EDITS)
def test_deck_parser_on_mutations_of_the_real_deck(scratch: Path, edits: list[Edit]) -> None:
    path = scratch / "deck.txt"
    path.write_text("\n".join(mutate(DECK_LINES, edits)) + "\n", encoding="utf-8")
    outcome = result_or_data_error(lambda: parse_deck(path, NAMES), path)
    if isinstance(outcome, DataError):
        assert outcome.line is not None, f"a deck error names its line: {outcome}"


def test_the_unmutated_deck_parses() -> None:
    # the mutations above start from a deck that parses: their errors come from the edits
    assert isinstance(parse_deck(DECK, NAMES), Deck)


# --- the BMO reader ---------------------------------------------------------------------------------------
BMO_HEADER = [
    "annee", "Code métier BMO", "Nom métier BMO", "Famille_met", "Lbl_fam_met", "REG", "NOM_REG", "Dept",
    "NomDept", "BE24", "NOMBE24", "met", "xmet", "smet",
]  # fmt: skip
FAP2021 = sorted(OCCUPATION_CODES["fap2021"])[:20]
BMO_ROW = st.tuples(
    cells(["2024", "2023"]),
    cells([*FAP2021, "A0Z40"]),
    TEXT,
    TEXT,
    TEXT,
    cells(["32"]),
    TEXT,
    cells(["59", "62"]),
    TEXT,
    cells(sorted(BASSIN_CODES)[:10]),
    TEXT,
    cells(["0", "10", "*", ""]),
    cells(["0", "5", "*"]),
    cells(["0", "1", "*"]),
).map(list)


@BOUNDED
@given(
    rows=st.lists(BMO_ROW, max_size=8),
    header=st.one_of(st.just(BMO_HEADER), st.permutations(BMO_HEADER), st.lists(TEXT, max_size=6)),
    delimiter=st.sampled_from([",", ";"]),
    quoted=st.booleans(),
)
def test_bmo_reader_on_arbitrary_rows(
    scratch: Path, rows: list[list[str]], header: list[str], delimiter: str, quoted: bool
) -> None:
    path = scratch / "bmo.csv"
    path.write_text(csv_text([header, *rows], delimiter, quoted), encoding="utf-8")
    result_or_data_error(
        lambda: read_bmo(path, known_codes=OCCUPATION_CODES, known_bassins=BASSIN_CODES), path
    )


@BOUNDED
@given(data=st.binary(max_size=300))
def test_bmo_reader_on_arbitrary_bytes(scratch: Path, data: bytes) -> None:
    path = scratch / "bmo.csv"
    path.write_bytes(data)
    result_or_data_error(
        lambda: read_bmo(path, known_codes=OCCUPATION_CODES, known_bassins=BASSIN_CODES), path
    )


# --- the URSSAF/Acoss reader ------------------------------------------------------------------------------
ACOSS_HEADER = ["code_zone_d_emploi", "annee", "trimestre", "dernier_jour_du_trimestre", *ACOSS_MEASURES]
ACOSS_ROW = st.tuples(
    cells(["3205", "3206", "0051", "51"]),
    cells(["2018", "2019", "1899"]),
    cells(["1", "2", "3", "4", "5"]),
    cells(["2018-03-31", "2018-06-30", "2019-02-30", "31/03/2018"]),
    cells(["50100", ""]),
    cells(["50100.5", "1e3"]),
    cells(["300600000", "-1"]),
    cells(["300601234.5", "NaN"]),
).map(list)


@BOUNDED
@given(
    rows=st.lists(ACOSS_ROW, max_size=8),
    header=st.one_of(st.just(ACOSS_HEADER), st.permutations(ACOSS_HEADER), st.lists(TEXT, max_size=6)),
    quoted=st.booleans(),
)
def test_acoss_reader_on_arbitrary_rows(
    scratch: Path, rows: list[list[str]], header: list[str], quoted: bool
) -> None:
    path = scratch / "acoss.csv"
    path.write_text(csv_text([header, *rows], ";", quoted), encoding="utf-8")
    result_or_data_error(lambda: read_acoss(path, known_zones=ZONE_CODES), path)


@BOUNDED
@given(data=st.binary(max_size=300))
def test_acoss_reader_on_arbitrary_bytes(scratch: Path, data: bytes) -> None:
    path = scratch / "acoss.csv"
    path.write_bytes(data)
    result_or_data_error(lambda: read_acoss(path, known_zones=ZONE_CODES), path)


# --- the curated and reference table readers --------------------------------------------------------------
COLUMNS = ["id", "rank", "value"]
TABLE_ROW = st.lists(cells(["1", "-2", "10.7", "1e3", "NaN", "Infinity", "", " 3 ", "1_000"]), max_size=5)


@BOUNDED
@given(
    rows=st.lists(TABLE_ROW, max_size=8),
    header=st.one_of(st.just(COLUMNS), st.lists(TEXT, max_size=4)),
    quoted=st.booleans(),
)
def test_curated_table_reader_and_typed_fields(
    scratch: Path, rows: list[list[str]], header: list[str], quoted: bool
) -> None:
    (scratch / "data").mkdir(exist_ok=True)
    relative = "data/table.csv"
    (scratch / relative).write_text(csv_text([header, *rows], ",", quoted), encoding="utf-8")

    def parse() -> object:
        table = read_table(scratch, relative, COLUMNS)
        for row in table:
            for column in COLUMNS:
                for read in (row.required, row.integer, row.decimal):
                    error = None
                    try:
                        read(column)
                    except DataError as exc:
                        error = exc
                    # a field error names the file, the line and the field
                    assert error is None or (error.file, error.line, error.field) == (
                        relative,
                        row.line,
                        column,
                    )
        table.index("id")
        return table

    result_or_data_error(parse, relative)


@BOUNDED
@given(data=st.binary(max_size=300))
def test_table_readers_on_arbitrary_bytes(scratch: Path, data: bytes) -> None:
    (scratch / "data").mkdir(exist_ok=True)
    path = scratch / "data" / "table.csv"
    path.write_bytes(data)
    result_or_data_error(lambda: read_table(scratch, "data/table.csv", COLUMNS), path)
    result_or_data_error(lambda: read_rows(path, COLUMNS), path)


# --- one by one: what hypothesis does not reach -------------------------------------------------------------
def _unclosed_quote(path: Path, header: str, separator: str) -> None:
    # an unclosed quote swallows the rest of the file into one field, beyond the csv module's 128 kB
    path.write_text(header + "\n" + f'"{"x" * 200_000}{separator}1\n', encoding="utf-8")


def test_a_field_over_the_csv_limit_is_a_data_error(scratch: Path) -> None:
    path = scratch / "big.csv"
    _unclosed_quote(path, ",".join(BMO_HEADER), ",")
    with pytest.raises(DataError, match=r"big\.csv:2: not a readable CSV"):
        read_bmo(path, known_codes=OCCUPATION_CODES, known_bassins=BASSIN_CODES)
    _unclosed_quote(path, ",".join(COLUMNS), ",")
    with pytest.raises(DataError, match=r"big\.csv:2: not a readable CSV"):
        read_rows(path, COLUMNS)
    (scratch / "data").mkdir(exist_ok=True)
    _unclosed_quote(scratch / "data" / "big.csv", ",".join(COLUMNS), ",")
    with pytest.raises(DataError, match=r"data/big\.csv:2: not a readable CSV"):
        read_table(scratch, "data/big.csv", COLUMNS)
    _unclosed_quote(path, ";".join(ACOSS_HEADER), ";")
    with pytest.raises(DataError, match=r"big\.csv"):
        read_acoss(path, known_zones=ZONE_CODES)


def test_a_count_in_other_digits_is_a_data_error(scratch: Path) -> None:
    # '²'.isdigit() is True but int('²') fails: the reader used to crash with ValueError
    path = scratch / "bmo.csv"
    row = [
        "2024",
        FAP2021[0],
        "n",
        "Z",
        "l",
        "32",
        "H",
        "62",
        "P",
        sorted(BASSIN_CODES)[0],
        "B",
        "²",
        "1",
        "1",
    ]
    path.write_text(csv_text([BMO_HEADER, row], ",", True), encoding="utf-8")
    with pytest.raises(DataError, match=r"bmo\.csv:2: n'est pas un effectif; field 'met'; value '²'"):
        read_bmo(path, known_codes=OCCUPATION_CODES, known_bassins=BASSIN_CODES)


def test_bytes_neither_utf8_nor_cp1252_are_a_data_error(scratch: Path) -> None:
    path = scratch / "bmo.csv"
    path.write_bytes(b"annee,\x81\x8d\n")  # undefined in Windows-1252
    with pytest.raises(DataError, match="neither UTF-8 nor Windows-1252"):
        read_bmo(path, known_codes=OCCUPATION_CODES, known_bassins=BASSIN_CODES)
    deck = scratch / "deck.txt"
    deck.write_bytes("Lens-Hénin\n".encode() + b"\xff\xfe\n")
    with pytest.raises(DataError, match=r"deck\.txt:2: not UTF-8"):
        parse_deck(deck, NAMES)
