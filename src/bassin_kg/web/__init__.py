"""Web tier: the SPARQL 1.1 endpoint (``/sparql``), the Graph Store protocol and the linked-data pages.

Kept free of imports so that query worker processes (see :mod:`bassin_kg.web.serving.engine`) start quickly.
"""
