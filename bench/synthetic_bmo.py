"""A SYNTHETIC national-size BMO file in the published 2024 layout (for the benchmark and tests only).

Every figure in it is made up (seeded pseudo-random numbers); only the codes are real: the BMO bassins
of data/reference/bmo_bassins_communes.csv and the FAP-2021 families of data/reference/fap2021_intitules.csv.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HEADER = [
    "annee", "Code métier BMO", "Nom métier BMO", "Famille_met", "Lbl_fam_met", "REG", "NOM_REG",
    "Dept", "NomDept", "BE24", "NOMBE24", "met", "xmet", "smet",
]  # fmt: skip


def write_synthetic_bmo(root: Path, target: Path, *, rows: int = 53_000, seed: int = 2024) -> int:
    """Write about ``rows`` rows (every bassin x enough occupations) to ``target``; return the count."""
    rng = random.Random(seed)
    ref = root / "data" / "reference"
    with (ref / "bmo_bassins_communes.csv").open(encoding="utf-8") as handle:
        bassins: dict[str, tuple[str, str, str]] = {}
        for row in csv.DictReader(handle):
            bassins.setdefault(row["code_bassin_BMO"], (row["lib_bassin_BMO"], row["dep"], row["reg"]))
    with (ref / "fap2021_intitules.csv").open(encoding="utf-8") as handle:
        occupations: dict[str, str] = {}
        for row in csv.DictReader(handle):
            occupations.setdefault(row["Code_FAP228"], row["Intitulé_FAP228"])
    per_bassin = min(len(occupations), -(-rows // len(bassins)))
    codes = sorted(occupations)
    written = 0
    with target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for bassin, (name, dep, reg) in sorted(bassins.items()):
            for code in rng.sample(codes, per_bassin):
                if written >= rows:
                    break
                met = rng.randint(0, 400)
                if met < 10:
                    # small cells are secret in the published file
                    values = [str(met), "*", "*"] if rng.random() < 0.5 else ["*", "*", "*"]
                else:
                    values = [str(met), str(rng.randint(0, met)), str(rng.randint(0, met))]
                writer.writerow(
                    ["2024", code, occupations[code], "Z", "Autres métiers", reg, f"Région {reg}", dep,
                     f"Département {dep}", bassin, name, *values]
                )  # fmt: skip
                written += 1
    return written
