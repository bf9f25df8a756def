"""French words the project both reads (the deck's dates) and writes (the pages' dates)."""

from __future__ import annotations

#: the months, January first, lower case as in "14 mai 2019"
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
