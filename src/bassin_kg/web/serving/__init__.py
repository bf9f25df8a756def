"""How queries are served: worker processes, release pinning, the answer cache, the `/sparql` fast path.

Kept free of imports so that query worker processes (:mod:`bassin_kg.web.serving.engine`) start quickly.
"""
