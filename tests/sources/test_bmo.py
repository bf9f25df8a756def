"""Reading and converting BMO open-data files: the committed 2024 extract and SYNTHETIC variants."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, SKOS, XSD

from bassin_kg.errors import DataError
from bassin_kg.namespaces import BM, INTERVAL_YEAR, QB, SDMX_ATT, SDMX_CODE, SDMX_DIM, Iris
from bassin_kg.settings import Settings
from bassin_kg.sources.base import ConvertContext
from bassin_kg.sources.bmo import (
    BmoFile,
    convert,
    convert_file,
    read_bmo,
    reference_codes,
    share_difficult,
    to_ntriples,
)

ROOT = Path(__file__).resolve().parents[2]
IRIS = Iris()
HEADER_2024 = (
    "annee,Code métier BMO,Nom métier BMO,Famille_met,Lbl_fam_met,REG,NOM_REG,Dept,NomDept,"
    "BE24,NOMBE24,met,xmet,smet"
)


def _row(code: str = "A0X40", bassin: str = "3225", met: str = "10", xmet: str = "5", smet: str = "1") -> str:
    # SYNTHETIC figures; real codes
    return f"2024,{code},Nom,Z,Autres,32,Hauts-de-France,62,Pas-de-Calais,{bassin},NOM,{met},{xmet},{smet}"


def _write(tmp_path: Path, *rows: str, header: str = HEADER_2024, name: str = "bmo_synthetic.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _obs(dataset: str, bassin: str, occupation: str, department: str | None = None) -> URIRef:
    """An observation IRI: one per bassin, département and occupation (the four bassins are in 59 or 62)."""
    dep = department or ("59" if bassin in {"3220", "3221"} else "62")
    return IRIS.observation(dataset, f"bassin-bmo-{bassin}", f"departement-{dep}", occupation)


@pytest.fixture(scope="module")
def codes() -> tuple[dict[str, set[str]], set[str]]:
    return reference_codes(ROOT / "data")


def _read(path: Path, codes: tuple[dict[str, set[str]], set[str]], bassins: tuple[str, ...] = ()) -> BmoFile:
    return read_bmo(path, known_codes=codes[0], known_bassins=codes[1], bassins=bassins)


@pytest.fixture(scope="module")
def extract() -> Graph:
    (part,) = convert(ConvertContext(Settings(root=ROOT), IRIS))
    assert part.name == "bmo-2024"
    return part.graph


def test_committed_extract_gives_one_observation_per_row(extract: Graph) -> None:
    observations = set(extract.subjects(RDF.type, QB.Observation))
    assert len(observations) == 603
    obs = _obs("bmo-2024", "3220", "A0X40")
    # bmo2024_bassin_minier_extract.csv line 2: DOUAI, A0X40, met 151, xmet 83, smet 143
    assert extract.value(obs, BM.projetsRecrutement) == Literal(151, datatype=XSD.integer)
    assert extract.value(obs, BM.projetsDifficiles) == Literal(83, datatype=XSD.integer)
    assert extract.value(obs, BM.projetsSaisonniers) == Literal(143, datatype=XSD.integer)
    assert extract.value(obs, BM.partProjetsDifficiles).toPython() == Decimal("55.0")
    assert extract.value(obs, SDMX_DIM.refArea) == IRIS.bassin_bmo("3220")
    assert extract.value(obs, SDMX_DIM.refPeriod) == INTERVAL_YEAR["2024"]
    assert extract.value(obs, SDMX_DIM.occupation) == IRIS.fap2021("A0X40")
    assert extract.value(obs, QB.dataSet) == IRIS.dataset("bmo-2024")
    assert (IRIS.dataset("bmo-2024"), QB.structure, BM["dsd-bmo"]) in extract
    assert (obs, SDMX_ATT.obsStatus, None) not in extract


def test_secrecy_is_a_status_never_a_zero(extract: Graph) -> None:
    # line with BASSIN MINIER OUEST, A0X41 Eleveurs: met 11, xmet *, smet *
    obs = _obs("bmo-2024", "3225", "A0X41")
    assert extract.value(obs, BM.projetsRecrutement) == Literal(11, datatype=XSD.integer)
    assert (obs, BM.projetsDifficiles, None) not in extract
    assert (obs, BM.partProjetsDifficiles, None) not in extract
    assert extract.value(obs, SDMX_ATT.obsStatus) == BM["statut-confidentiel"]
    secret = set(extract.objects(obs, BM.mesureConfidentielle))
    assert secret == {BM.projetsDifficiles, BM.projetsSaisonniers, BM.partProjetsDifficiles}
    for secret_obs in extract.subjects(BM.mesureConfidentielle, BM.projetsDifficiles):
        assert (secret_obs, BM.projetsDifficiles, None) not in extract


def test_observation_points_to_its_line(extract: Graph) -> None:
    obs = _obs("bmo-2024", "3220", "A0X40")
    # the ingest's records are keyed by its dataset and its file: no other graph mints them
    record = IRIS.source_record("bmo-2024-bmo2024-bassin-minier-extract", 2)
    assert extract.value(obs, PROV.wasDerivedFrom) == record
    assert (record, BM.fichier, Literal("data/sources/bmo/bmo2024_bassin_minier_extract.csv")) in extract
    assert (record, BM.ligne, Literal(2, datatype=XSD.integer)) in extract


def test_share_difficult_rounds_half_up() -> None:
    assert share_difficult(151, 83) == Decimal("55.0")
    assert share_difficult(8, 1) == Decimal("12.5")
    assert share_difficult(3, 2) == Decimal("66.7")


def test_zero_projects_has_no_share_and_says_so(tmp_path: Path) -> None:
    path = _write(tmp_path, _row(met="0", xmet="0", smet="0"))
    part, _ = convert_file(path, ConvertContext(Settings(root=ROOT), IRIS))
    obs = _obs("bmo-2024", "3225", "A0X40")
    assert (obs, BM.partProjetsDifficiles, None) not in part.graph
    assert part.graph.value(obs, SDMX_ATT.obsStatus) == SDMX_CODE["obsStatus-M"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (HEADER_2024.replace(",xmet,", ","), r"colonne\(s\) absente\(s\) ou renommée\(s\) : xmet"),
        (HEADER_2024.replace("BE24", "BASSIN"), r"renommée\(s\) : BE<aa>"),
        (HEADER_2024.replace(",Dept,", ",Departement,"), r"renommée\(s\) : Dept"),
        (HEADER_2024.replace("Code métier BMO", "Code FAP"), r"Code métier BMO"),
    ],
)
def test_missing_or_renamed_column_names_the_expected_ones(
    tmp_path: Path, codes: tuple[dict[str, set[str]], set[str]], header: str, expected: str
) -> None:
    path = _write(tmp_path, "2024,A0X40", header=header)
    with pytest.raises(DataError, match=expected) as info:
        _read(path, codes)
    assert "annee, Code métier BMO, Dept, BE<yy>, met, xmet, smet" in str(info.value)
    assert info.value.line == 1


@pytest.mark.parametrize(
    ("row", "field", "problem"),
    [
        (_row(code="A0Q99"), "Code métier BMO", "code métier FAP2021 inconnu"),
        (_row(met="douze"), "met", "n'est pas un effectif"),
        (_row(met="-3"), "met", "n'est pas un effectif"),
        (_row(met="10", xmet="11"), "xmet", r"xmet \(11\) dépasse met \(10\)"),
        (_row(met="10", smet="12"), "smet", r"smet \(12\) dépasse met \(10\)"),
        (_row(bassin=""), "BE24", "code de bassin vide"),
    ],
)
def test_bad_rows_are_data_errors_naming_line_and_field(
    tmp_path: Path, codes: tuple[dict[str, set[str]], set[str]], row: str, field: str, problem: str
) -> None:
    path = _write(tmp_path, _row(code="A0X41"), row)
    with pytest.raises(DataError, match=problem) as info:
        _read(path, codes)
    assert (info.value.line, info.value.field) == (3, field)
    # the message names the file, and says what to do
    assert info.value.file == str(path)
    assert info.value.hint


def test_bad_rows_of_other_bassins_are_ignored_with_bassin(
    tmp_path: Path, codes: tuple[dict[str, set[str]], set[str]]
) -> None:
    # --bassin selects before any check: a bad row of another bassin does not stop the ingest
    path = _write(tmp_path, _row(bassin="3227", met="douze", code="A0Q99"), _row(bassin="3225"))
    bmo = _read(path, codes, bassins=("3225",))
    assert [(r.bassin, r.line) for r in bmo.rows] == [("3225", 3)]


def test_unknown_bassin_is_created_from_the_file_with_a_notice(
    tmp_path: Path, codes: tuple[dict[str, set[str]], set[str]]
) -> None:
    row = _row(bassin="9999").replace(",NOM,", ",BASSIN SYNTHETIQUE,")
    path = _write(tmp_path, row)
    bmo = _read(path, codes)
    assert bmo.new_bassins == ["9999"]
    assert "9999 BASSIN SYNTHETIQUE" in bmo.notices()[0]
    graph = Graph().parse(data="".join(to_ntriples(bmo, IRIS, source_file="x.csv")), format="nt")
    bassin = IRIS.bassin_bmo("9999")
    assert (bassin, RDF.type, BM.BassinEmploiBMO) in graph
    assert graph.value(bassin, SKOS.prefLabel) == Literal("BASSIN SYNTHETIQUE", lang="fr")
    # a bassin another graph describes is only referred to (each triple in one graph)
    graph = Graph().parse(
        data="".join(to_ntriples(bmo, IRIS, source_file="x.csv", described_bassins={"9999"})), format="nt"
    )
    assert (bassin, None, None) not in graph


def test_a_bassin_spanning_departements_has_one_observation_each(
    tmp_path: Path, codes: tuple[dict[str, set[str]], set[str]]
) -> None:
    other = _row(met="7", xmet="1", smet="0").replace(",62,Pas-de-Calais,", ",59,Nord,")
    path = _write(tmp_path, _row(), other)
    bmo = _read(path, codes)
    graph = Graph().parse(data="".join(to_ntriples(bmo, IRIS, source_file="x.csv")), format="nt")
    in_59, in_62 = _obs("bmo-2024", "3225", "A0X40", "59"), _obs("bmo-2024", "3225", "A0X40", "62")
    assert graph.value(in_59, BM.departement) == IRIS.departement("59")
    assert graph.value(in_62, BM.departement) == IRIS.departement("62")
    assert {graph.value(o, SDMX_DIM.refArea) for o in (in_59, in_62)} == {IRIS.bassin_bmo("3225")}
    assert graph.value(IRIS.departement("59"), RDFS.label) == Literal("Nord", lang="fr")


def test_two_rows_for_one_cell_is_an_error(
    tmp_path: Path, codes: tuple[dict[str, set[str]], set[str]]
) -> None:
    path = _write(tmp_path, _row(), _row())
    with pytest.raises(
        DataError,
        match=r"deuxième ligne pour le bassin 3225, le département 62 et le métier A0X40 "
        r"\(la première est la ligne 2\)",
    ) as info:
        _read(path, codes)
    assert info.value.line == 3


def test_year_must_match_the_bassin_column(
    tmp_path: Path, codes: tuple[dict[str, set[str]], set[str]]
) -> None:
    path = _write(tmp_path, _row().replace("2024,", "2023,", 1))
    with pytest.raises(DataError, match="l'année '2023' ne correspond pas à la colonne de bassin BE24"):
        _read(path, codes)


def test_mixed_nomenclatures_are_refused(tmp_path: Path, codes: tuple[dict[str, set[str]], set[str]]) -> None:
    path = _write(tmp_path, _row(code="A0X40"), _row(code="A0Z40"))
    with pytest.raises(DataError, match="mêle des codes métier FAP-2009"):
        _read(path, codes)


def test_2019_layout_with_fap2009_codes(tmp_path: Path) -> None:
    # SYNTHETIC 2019 file: BE19/NOMBE19 columns, FAP-2009 codes, ';' separator, Windows-1252 text
    header = HEADER_2024.replace("BE24", "BE19").replace("NOMBE24", "NOMBE19").replace(",", ";")
    row = _row(code="T2A60").replace("2024,", "2019,", 1).replace(",", ";").replace("Nom", "Aides à domicile")
    path = tmp_path / "bmo2019_synthetic.csv"
    path.write_bytes(f"{header}\n{row}\n".encode("cp1252"))
    part, bmo = convert_file(path, ConvertContext(Settings(root=ROOT), IRIS))
    assert (bmo.year, bmo.scheme, part.name) == ("2019", "fap2009", "bmo-2019")
    obs = _obs("bmo-2019", "3225", "T2A60")
    assert part.graph.value(obs, SDMX_DIM.occupation) == IRIS.fap2009("T2A60")
    assert part.graph.value(obs, SDMX_DIM.refPeriod) == INTERVAL_YEAR["2019"]


def test_xlsx_with_description_sheet(tmp_path: Path) -> None:
    from openpyxl import Workbook  # type: ignore[import-untyped]

    # SYNTHETIC workbook in the published shape: a description sheet, then the data sheet
    workbook = Workbook()
    description = workbook.active
    description.title = "Description"
    description.append(["Enquête Besoins en main-d'œuvre 2024"])
    description.append(["met", "nombre de projets de recrutement"])
    data = workbook.create_sheet("BMO_2024_open_data")
    data.append(HEADER_2024.split(","))
    data.append([2024, "A0X40", "Agriculteurs", "Z", "Autres", 32, "HdF", 62, "PdC", 3225, "BMO", 12, "*", 3])
    path = tmp_path / "Base_open_data_BMO_2024_synthetic.xlsx"
    workbook.save(path)
    part, bmo = convert_file(path, ConvertContext(Settings(root=ROOT), IRIS))
    assert [row.line for row in bmo.rows] == [2]
    obs = _obs("bmo-2024", "3225", "A0X40")
    assert part.graph.value(obs, BM.projetsRecrutement) == Literal(12, datatype=XSD.integer)
    assert part.graph.value(obs, SDMX_ATT.obsStatus) == BM["statut-confidentiel"]


def test_bassin_selection(tmp_path: Path, codes: tuple[dict[str, set[str]], set[str]]) -> None:
    path = _write(tmp_path, _row(bassin="3225"), _row(bassin="3227"), _row(bassin="3220"))
    bmo = _read(path, codes, bassins=("3227", "3220"))
    assert sorted(r.bassin for r in bmo.rows) == ["3220", "3227"]
    with pytest.raises(DataError, match="aucune ligne pour les bassins demandés"):
        _read(path, codes, bassins=("0000",))


def test_ntriples_and_graph_agree(tmp_path: Path, codes: tuple[dict[str, set[str]], set[str]]) -> None:
    path = _write(tmp_path, _row(), _row(code="A0X41", met="*", xmet="*", smet="*"))
    bmo = _read(path, codes)
    text = "".join(to_ntriples(bmo, IRIS, source_file="x.csv"))
    graph = Graph().parse(data=text, format="nt")
    assert len(graph) == len(set(text.splitlines()))
    secret = _obs("bmo-2024", "3225", "A0X41")
    assert (secret, BM.projetsRecrutement, None) not in graph
    assert graph.value(secret, SDMX_ATT.obsStatus) == BM["statut-confidentiel"]
