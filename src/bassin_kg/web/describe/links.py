"""Links from IRIs under the base to paths on this server."""

from __future__ import annotations

from bassin_kg.namespaces import BM

#: the ontology's IRI (fixed whatever the deployment's base, like the bm: namespace)
ONTOLOGY = str(BM)[:-1]


# --- links and display -----------------------------------------------------------------------------
class Links:
    """Maps IRIs under the base to paths on this server, so links work on whatever host serves it."""

    def __init__(self, base: str, root_path: str = "") -> None:
        self.base = base if base.endswith("/") else base + "/"
        self.root = root_path.rstrip("/")
        self._ontologies = {ONTOLOGY, self.base + "def"}

    def local(self, iri: str) -> str | None:
        """The path of ``iri`` on this server, or None when it is not ours."""
        if iri.startswith(self.base + "id/"):
            return self.root + "/" + iri[len(self.base) :]
        for ontology in self._ontologies:
            if iri == ontology:
                return self.root + "/def"
            if iri.startswith(ontology + "#"):
                return self.root + "/def" + iri[len(ontology) :]
        return None

    def href(self, iri: str) -> str | None:
        """Where a link to ``iri`` goes: our page for it, or the IRI itself if it is a web address.

        Other schemes (``javascript:``, ``data:``, ``urn:``…) are not links: an IRI from data never
        becomes something a click could run.
        """
        local = self.local(iri)
        if local is not None:
            return local
        return iri if iri.startswith(("http://", "https://")) else None

    def iri(self, path: str) -> str:
        """``id/territoire/ze2010/3123`` -> ``<base>id/territoire/ze2010/3123``."""
        return self.base + path
