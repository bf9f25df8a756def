"""A SYNTHETIC national-size BMO file in the published 2024 layout (for the benchmark and tests only).

Every figure in it is made up (seeded pseudo-random numbers); the codes are the BMO bassins of
data/reference/bmo_bassins_communes.csv and the FAP-2021 families of data/reference/fap2021_intitules.csv,
plus what the real national file also has: bassins absent from the reference list (codes 9901-9903,
made up) and bassins spanning two départements (one row per bassin, département and occupation).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HEADER = [
    "annee", "Code métier BMO", "Nom métier BMO", "Famille_met", "Lbl_fam_met", "REG", "NOM_REG",
    "Dept", "NomDept", "BE24", "NOMBE24", "met", "xmet", "smet",
]  # fmt: skip


#: made-up bassins that are not in the reference list, as 104, 304 and 7549 of the real file are not
UNKNOWN_BASSINS = {
    "9901": "BASSIN SYNTHETIQUE UN",
    "9902": "BASSIN SYNTHETIQUE DEUX",
    "9903": "BASSIN SYNTHETIQUE TROIS",
}
#: one bassin in this many also has rows in a second département (the real 2024 file: 24 of 380)
SPANNING_EVERY = 16


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
    for code, name in UNKNOWN_BASSINS.items():
        bassins[code] = (name, "62", "32")
    departments = sorted({dep for _name, dep, _reg in bassins.values()})
    # (bassin, département) pairs: some bassins span a second département
    pairs = []
    for number, (bassin, (name, dep, reg)) in enumerate(sorted(bassins.items())):
        pairs.append((bassin, name, dep, reg))
        if number % SPANNING_EVERY == 0:
            other = departments[(departments.index(dep) + 1) % len(departments)]
            pairs.append((bassin, name, other, reg))
    per_bassin = min(len(occupations), -(-rows // len(pairs)))
    codes = sorted(occupations)
    written = 0
    with target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for bassin, name, dep, reg in pairs:
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
