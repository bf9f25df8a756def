"""Deck parser: the deck text -> the extracted tables of data/curated/ (``bassin-kg extract``).

``extract`` writes the tables; ``extract --check`` proves the committed ones are what the parser
produces. Both then check the reviewed tables against the extracted content.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from bassin_kg.extract.deck import Deck, load_territory_names, parse_deck
from bassin_kg.extract.reviewed import Extracted, check_consistency, check_references, check_reviewed
from bassin_kg.extract.tables import TABLES, compare, render_all, write_atomically
from bassin_kg.settings import Settings

#: the deck text, relative to data/
DECK_FILE = Path("sources/deck/trajectoire-economique-bassin-minier-2019.txt")

__all__ = ["DECK_FILE", "TABLES", "check_reviewed", "extract_deck", "run_extract"]


def extract_deck(settings: Settings) -> Deck:
    """Parse the project's deck text with its reviewed territory spellings."""
    curated = settings.data_dir / "curated"
    names = load_territory_names(curated / "territory_names.csv")
    return parse_deck(settings.data_dir / DECK_FILE, names)


def _shown(path: Path, root: Path) -> Path:
    """``path`` relative to the project root when it is inside it (shorter messages)."""
    return path.relative_to(root) if path.is_relative_to(root) else path


def _summary(deck: Deck) -> str:
    return (
        f"{len(deck.territories)} territories, {len(deck.swot_items)} SWOT items, "
        f"{len(deck.recruitment_projects)} + {len(deck.recruitment_difficulties)} recruitment rows, "
        f"{len(deck.unemployment)} unemployment rates, {len(deck.territory_links)} links, "
        f"{len(deck.common_perspectives)} perspectives"
    )


def run_extract(settings: Settings, *, check: bool, out: TextIO) -> int:
    """Write the extracted tables (or, with ``check``, compare them); 0 when all is well, 1 otherwise.

    A parse error raises :class:`~bassin_kg.errors.DataError` before anything is written.
    """
    curated = settings.data_dir / "curated"
    deck = extract_deck(settings)
    texts = render_all(deck)
    shown = _shown(curated, settings.root)
    if check:
        differences = compare(curated, texts)
        for difference in differences:
            print(difference.render(shown), file=out)
        check_consistency(curated, Extracted.from_deck(deck))
        reference = settings.data_dir / "reference"
        # a copy of the tables alone (tests, a fork) has no reference folder: the deck checks still run
        if reference.is_dir():
            check_references(curated, reference)
        if differences:
            names = ", ".join(d.filename for d in differences)
            print(f"{len(differences)} table(s) differ: {names}; run `bassin-kg extract`", file=out)
            return 1
        print(f"{len(texts)} extracted tables in {shown} match the deck ({_summary(deck)})", file=out)
        return 0
    write_atomically(curated, texts)
    print(f"wrote {len(texts)} tables to {shown} ({_summary(deck)})", file=out)
    check_consistency(curated, Extracted.from_deck(deck))
    return 0
