"""Links from this graph to other people's linked data (``bassin-kg link <target>``).

``insee`` looks up INSEE's official IRIs of our territories on its SPARQL endpoint and records the
correspondences in the named graph ``insee-links``.
"""
