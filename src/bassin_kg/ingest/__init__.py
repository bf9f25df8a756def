"""Reading official files as published (CSV, XLSX) and loading them into the current build.

``bmo`` reads the France Travail BMO open-data file, ``acoss`` the URSSAF employment export; ``load``
validates a dataset graph and swaps it into the published release, atomically.
"""
