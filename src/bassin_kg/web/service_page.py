"""``/sparql`` for a browser: a page saying what the endpoint is and how to use it.

A browser that follows the "Point d'accès SPARQL" link sends no query and asks for HTML first; the
SPARQL protocol would answer with the service description in RDF, which a browser downloads as a
file. Such a request gets this page; every other request (a query, an update, an RDF client asking
for the service description) is the endpoint's, unchanged.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bassin_kg.web import negotiation
from bassin_kg.web.page_support import HTML, page, root_of

#: the service description's formats, which a browser's ``Accept`` must rank below HTML
_RDF_OFFERS = tuple(negotiation.find(name) for name in ("ttl", "rdfxml", "jsonld", "nt"))
#: the parameters of the protocol: with any of them the request is a query or an update
_PROTOCOL_PARAMETERS = {"query", "update", "default-graph-uri", "named-graph-uri", "format"}

EXAMPLE = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX igeo: <http://rdf.insee.fr/def/geo#>

SELECT DISTINCT ?zone ?nom WHERE {
  ?zone a igeo:ZoneDEmploi2010 ; skos:prefLabel ?nom .
}"""


def is_browser_visit(request: Request) -> bool:
    """A GET without protocol parameters whose ``Accept`` ranks HTML above the service description."""
    if request.method not in ("GET", "HEAD"):
        return False
    if any(key in _PROTOCOL_PARAMETERS for key in request.query_params):
        return False
    accept = request.headers.get("accept") or ""
    if "text/html" not in accept:
        return False  # */* alone (curl, most libraries) keeps the service description
    try:
        return negotiation.choose(accept, None, (HTML, *_RDF_OFFERS)) is HTML
    except negotiation.NegotiationError:
        return False


def service_page(request: Request) -> Response:
    endpoint = str(request.base_url).rstrip("/") + root_of(request) + "/sparql"
    return page(
        request,
        "sparql_service.html",
        headers={"Vary": "Accept"},
        title="Point d'accès SPARQL",
        endpoint=endpoint,
        example=EXAMPLE,
    )
