"""bassin-kg: the economic trajectory of the Nord-Pas-de-Calais mining basin as linked open data."""

__version__ = "0.1.0"
