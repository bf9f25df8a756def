"""Reading official files as published (CSV, XLSX) and loading them into the current build.

``tables`` reads the committed reference tables with line numbers and mints source records; ``bmo``
reads the France Travail BMO open-data file; ``fastshacl`` validates large graphs with the project's
shapes compiled to SPARQL; ``load`` swaps one dataset graph into the published release, atomically.
"""
