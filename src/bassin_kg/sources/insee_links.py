"""``bassin-kg link insee``: INSEE's official IRIs for our territories, in the named graph ``insee-links``.

INSEE's territory IRIs are opaque (UUIDs since the 2019 COG), so they are looked up on INSEE's SPARQL
endpoint by type, ``igeo:codeINSEE`` and validity date — never built from a code. Validity is read the
way INSEE's own Metadata API reads it: a territory is valid on a day when no ``igeo:creation`` event
dated after that day and no ``igeo:suppression`` event dated on or before it points at it.

Decisions (one territory of ours, the INSEE resources of the same type and code):

- exactly one valid on our date                 -> ``owl:sameAs`` (the same territory)
- several valid on our date (ambiguous)         -> ``skos:closeMatch`` to each, reported
- valid at another date (an earlier/later version) -> ``skos:closeMatch``
- our territory shares communes (``igeo:territoireCommunAvec``, from our composition files) with one
  of ours that got an ``owl:sameAs``            -> ``igeo:territoireCommunAvec`` to that INSEE IRI

Every answer is read before anything is written: an endpoint that is offline or fails leaves the build
as it was. Requests have a timeout and are retried a bounded number of times with exponential backoff.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

from bassin_kg import __version__
from bassin_kg.errors import BassinKgError, DataError, UsageError
from bassin_kg.namespaces import IGEO, VOID, Iris
from bassin_kg.progress import Progress
from bassin_kg.sources.base import (
    CatalogueEntry,
    ConvertContext,
    Loaded,
    Loader,
    Source,
    fixed_entry,
    new_graph,
)
from bassin_kg.store import HttpClient, HttpError, open_read_only, published_release

GRAPH_NAME = "insee-links"
#: the IRI the committed federated queries name in SERVICE (rewritten to the configured endpoint)
INSEE_SERVICE = "http://rdf.insee.fr/sparql"
#: codes per lookup request: keeps a request well below the size limits of public endpoints
BATCH = 200
#: HTTP statuses that say "try again later"
_TRANSIENT_HTTP = {408, 429, 500, 502, 503, 504}
#: statuses that say the request itself is refused (named as SPARQL clients name them)
_REFUSALS = {
    400: "QueryBadFormed",
    401: "Unauthorized",
    403: "Unauthorized",
    404: "EndPointNotFound",
    414: "URITooLong",
}
_CODE = re.compile(r"^[0-9A-Z]{1,9}$")


class EndpointError(BassinKgError):
    """The INSEE endpoint is unreachable or failed; nothing was written (exit code 1)."""

    exit_code = 1


@dataclass(frozen=True)
class Kind:
    """A kind of territory we link: its igeo class and the date its codes are valid at by default."""

    key: str
    rdf_type: URIRef
    #: the geography of our reference files (data/reference/README.md): ZE2010 at 2018, the rest at 2022
    default_vintage: str
    label: str


KINDS: tuple[Kind, ...] = (
    Kind("ze2020", IGEO.ZoneDEmploi2020, "2022", "zones d'emploi 2020"),
    Kind("ze2010", IGEO.ZoneDEmploi2010, "2018", "zones d'emploi 2010"),
    Kind("commune", IGEO.Commune, "2022", "communes"),
    Kind("departement", IGEO.Departement, "2022", "départements"),
    Kind("region", IGEO.Region, "2022", "régions"),
)
_KIND_BY_TYPE = {k.rdf_type: k for k in KINDS}


@dataclass(frozen=True)
class Territory:
    """One territory of our graph: its IRI, kind, INSEE code and the day its code is valid on."""

    iri: URIRef
    kind: Kind
    code: str
    valid_on: date


@dataclass(frozen=True)
class Candidate:
    """An INSEE resource with the type and code of one of our territories."""

    iri: URIRef
    code: str
    name: str | None = None
    created: date | None = None
    suppressed: date | None = None

    def valid_on(self, day: date) -> bool:
        return (self.created is None or self.created <= day) and (
            self.suppressed is None or self.suppressed > day
        )


@dataclass(frozen=True)
class Link:
    subject: URIRef
    predicate: URIRef
    target: URIRef


@dataclass
class LinkReport:
    """What a lookup found, by kind: how many territories got which link, which codes INSEE lacks."""

    endpoint: str
    created: datetime
    links: list[Link] = field(default_factory=list)
    same: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    close: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    common: int = 0
    ambiguous: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    missing: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    requests: int = 0

    def summary(self) -> str:
        lines = [f"INSEE lookup on {self.endpoint} at {self.created.isoformat(timespec='seconds')}"]
        for kind in KINDS:
            found = self.same.get(kind.key, 0)
            close = self.close.get(kind.key, 0)
            missing = self.missing.get(kind.key, [])
            if not (found or close or missing):
                continue
            line = f"  {kind.label}: {found} owl:sameAs, {close} skos:closeMatch"
            if missing:
                line += f", not found at INSEE: {_few(missing)}"
            if self.ambiguous.get(kind.key):
                line += f", several valid resources (closeMatch only): {_few(self.ambiguous[kind.key])}"
            lines.append(line)
        lines.append(f"  igeo:territoireCommunAvec across zonings: {self.common}")
        lines.append(f"  {len(self.links)} links in graph {GRAPH_NAME!r} ({self.requests} request(s))")
        return "\n".join(lines)


def _few(codes: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(sorted(codes)[:limit])
    return shown + (f" … ({len(codes)} in all)" if len(codes) > limit else "")


# --- the client ------------------------------------------------------------------------------------------
Rows = list[dict[str, dict[str, str]]]


class SparqlClient:
    """SELECT queries over the shared HTTP client: per-request timeout, bounded retries with backoff."""

    def __init__(
        self,
        endpoint: str,
        *,
        timeout: float,
        retries: int,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint = endpoint
        # whole seconds, at least one, as the lookup has always counted them
        self.timeout = max(1, math.ceil(timeout))
        self.http = HttpClient(
            timeout=self.timeout,
            retries=retries,
            backoff=backoff,
            sleep=sleep,
            headers={"User-Agent": f"bassin-kg/{__version__}"},
            retry_on=lambda status: status is None or status in _TRANSIENT_HTTP,
        )

    @property
    def requests(self) -> int:
        return self.http.requests

    def select(self, query: str) -> Rows:
        """The bindings of a SELECT query; an EndpointError after the last failed attempt."""
        # POST: a lookup of 200 codes is too long for a GET URL on some servers
        body = urlencode({"query": query}).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/sparql-results+json",
        }
        try:
            _status, answer = self.http.send("POST", self.endpoint, body, headers)
        except HttpError as exc:
            raise self._explain(exc) from None
        try:
            decoded: Any = json.loads(answer)
        except ValueError:  # an HTML error page, a proxy's answer
            raise EndpointError(
                f"the answer of {self.endpoint} is not SPARQL JSON results; check that the address "
                "is a SPARQL endpoint (for INSEE: http://rdf.insee.fr/sparql)"
            ) from None
        return _bindings(decoded, self.endpoint)

    def _explain(self, exc: HttpError) -> EndpointError:
        reason = _short_text(exc.reason)
        if exc.status is not None and exc.status not in _TRANSIENT_HTTP:
            refusal = _REFUSALS.get(exc.status)
            if refusal:
                return EndpointError(
                    f"the SPARQL endpoint {self.endpoint} refused the lookup ({refusal}): "
                    f"HTTP {exc.status} {reason}. Nothing was written; check that the "
                    "address is a SPARQL endpoint"
                )
            return EndpointError(
                f"the SPARQL endpoint {self.endpoint} answered HTTP {exc.status} ({reason}). "
                "Nothing was written; check the address"
            )
        if exc.status is not None:
            last = f"HTTP {exc.status} ({reason})"
        elif exc.timed_out:
            last = f"no answer within {self.timeout} s"
        else:
            last = f"cannot connect ({exc.reason})"
        return EndpointError(
            f"the SPARQL endpoint {self.endpoint} failed {self.http.retries + 1} time(s), last: {last}. "
            "Nothing was written and the build is unchanged; check the network or the address "
            "(--endpoint, BASSIN_KG_INSEE_ENDPOINT) and try again later"
        )


def _short_text(text: str) -> str:
    text = " ".join(text.split())
    return text[:300] + ("…" if len(text) > 300 else "")


def _bindings(answer: Any, endpoint: str) -> Rows:
    try:
        rows = answer["results"]["bindings"]
        if not isinstance(rows, list):
            raise TypeError
    except (KeyError, TypeError):
        raise EndpointError(
            f"the answer of {endpoint} is not SPARQL JSON results (no results.bindings): "
            f"{json.dumps(answer)[:200]}"
        ) from None
    return rows


# --- our side ------------------------------------------------------------------------------------------
_TYPES = " ".join(f"<{k.rdf_type}>" for k in KINDS)
OUR_TERRITORIES = f"""
PREFIX igeo: <http://rdf.insee.fr/def/geo#>
PREFIX bm: <https://w3id.org/bassin-minier/def#>
SELECT ?territory ?type ?code (MAX(STR(?vintage)) AS ?year) WHERE {{
  VALUES ?type {{ {_TYPES} }}
  ?territory a ?type ; igeo:codeINSEE ?code .
  OPTIONAL {{ ?territory bm:millesimeGeographique ?vintage }}
}}
GROUP BY ?territory ?type ?code
ORDER BY ?type ?code
"""


def our_territories(store: ox.Store) -> list[Territory]:
    """The zones, communes, départements and regions of the build, with the day their code is valid on.

    A territory with ``bm:millesimeGeographique`` is valid on 1 January of its latest vintage; others on
    1 January of their kind's reference vintage.
    """
    found: list[Territory] = []
    results = store.query(OUR_TERRITORIES, use_default_graph_as_union=True)
    assert isinstance(results, ox.QuerySolutions)
    for row in results:
        iri, rdf_type, code, year = row["territory"], row["type"], row["code"], row["year"]
        if not isinstance(iri, ox.NamedNode) or not isinstance(code, ox.Literal):
            continue
        assert isinstance(rdf_type, ox.NamedNode)
        kind = _KIND_BY_TYPE[URIRef(rdf_type.value)]
        vintage = year.value if isinstance(year, ox.Literal) and year.value else kind.default_vintage
        found.append(Territory(URIRef(iri.value), kind, code.value, date(int(vintage[:4]), 1, 1)))
    return found


# --- INSEE's side --------------------------------------------------------------------------------------
def lookup_query(kind: Kind, codes: Iterable[str]) -> str:
    """The SELECT that finds INSEE resources of ``kind`` with these codes, with their validity events."""
    checked = sorted(set(codes))
    for code in checked:
        # codes come from our store; the check keeps anything odd out of the query text
        if not _CODE.fullmatch(code):
            raise ValueError(f"not an INSEE code: {code!r}")
    values = " ".join(f'"{code}"' for code in checked)
    return f"""PREFIX igeo: <http://rdf.insee.fr/def/geo#>
SELECT ?code ?uri ?nom ?created ?suppressed WHERE {{
  VALUES ?code {{ {values} }}
  ?uri a <{kind.rdf_type}> ;
       igeo:codeINSEE ?code .
  OPTIONAL {{ ?uri igeo:nom ?nom }}
  OPTIONAL {{ ?creation igeo:creation ?uri ; igeo:date ?created }}
  OPTIONAL {{ ?suppression igeo:suppression ?uri ; igeo:date ?suppressed }}
}}"""


def _day(binding: Mapping[str, str] | None, endpoint: str) -> date | None:
    if binding is None:
        return None
    value = binding.get("value", "")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise EndpointError(
            f"{endpoint} gave an event date that is not a date: {value!r}; "
            "is the endpoint INSEE's (or its stand-in)?"
        ) from None


def candidates_from(rows: Rows, endpoint: str) -> dict[str, list[Candidate]]:
    """INSEE resources by code, one per IRI (several names or events give several rows)."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        uri, code = row.get("uri"), row.get("code")
        if uri is None or code is None or uri.get("type") != "uri":
            continue  # a blank node cannot be linked to
        entry = merged.setdefault((code["value"], uri["value"]), {"name": None, "created": [], "gone": []})
        if "nom" in row and entry["name"] is None:
            entry["name"] = row["nom"]["value"]
        if (created := _day(row.get("created"), endpoint)) is not None:
            entry["created"].append(created)
        if (gone := _day(row.get("suppressed"), endpoint)) is not None:
            entry["gone"].append(gone)
    found: dict[str, list[Candidate]] = defaultdict(list)
    for (code_value, uri_value), entry in sorted(merged.items()):
        found[code_value].append(
            Candidate(
                URIRef(uri_value),
                code_value,
                entry["name"],
                min(entry["created"], default=None),
                max(entry["gone"], default=None),
            )
        )
    return found


def lookup(client: SparqlClient, territories: Sequence[Territory]) -> dict[tuple[str, str], list[Candidate]]:
    """Every INSEE candidate of every territory, by (kind key, code); reads all before returning."""
    found: dict[tuple[str, str], list[Candidate]] = {}
    by_kind: dict[str, list[str]] = defaultdict(list)
    for territory in territories:
        by_kind[territory.kind.key].append(territory.code)
    for kind in KINDS:
        codes = sorted(set(by_kind.get(kind.key, [])))
        for start in range(0, len(codes), BATCH):
            rows = client.select(lookup_query(kind, codes[start : start + BATCH]))
            for code, candidates in candidates_from(rows, client.endpoint).items():
                found[(kind.key, code)] = candidates
    return found


# --- decisions -----------------------------------------------------------------------------------------
def decide(territory: Territory, candidates: Sequence[Candidate]) -> list[Link]:
    """owl:sameAs to the one resource valid on our date; skos:closeMatch to the other versions."""
    valid = [c for c in candidates if c.valid_on(territory.valid_on)]
    links: list[Link] = []
    if len(valid) == 1:
        links.append(Link(territory.iri, OWL.sameAs, valid[0].iri))
    else:
        # several "current" resources for one code: INSEE's data says two things; do not pick one
        links += [Link(territory.iri, SKOS.closeMatch, c.iri) for c in valid]
    links += [Link(territory.iri, SKOS.closeMatch, c.iri) for c in candidates if c not in valid]
    return links


COMMON_TERRITORY = """
PREFIX igeo: <http://rdf.insee.fr/def/geo#>
SELECT DISTINCT ?territory ?other WHERE {
  ?territory igeo:territoireCommunAvec ?other .
}
"""


def common_territory_links(store: ox.Store, same: Mapping[URIRef, URIRef]) -> list[Link]:
    """igeo:territoireCommunAvec to INSEE's IRI of each zone ours shares communes with."""
    results = store.query(COMMON_TERRITORY, use_default_graph_as_union=True)
    assert isinstance(results, ox.QuerySolutions)
    links: list[Link] = []
    for row in results:
        ours, other = row["territory"], row["other"]
        if not isinstance(ours, ox.NamedNode) or not isinstance(other, ox.NamedNode):
            continue
        target = same.get(URIRef(other.value))
        if target is not None:
            links.append(Link(URIRef(ours.value), IGEO.territoireCommunAvec, target))
    return links


def link_all(
    store: ox.Store, client: SparqlClient, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> LinkReport:
    """Look up every territory of ``store`` and decide its links (nothing is written)."""
    territories = our_territories(store)
    report = LinkReport(client.endpoint, now())
    candidates = lookup(client, territories)
    same: dict[URIRef, URIRef] = {}
    for territory in territories:
        found = candidates.get((territory.kind.key, territory.code), [])
        if not found:
            report.missing[territory.kind.key].append(territory.code)
            continue
        links = decide(territory, found)
        if sum(1 for c in found if c.valid_on(territory.valid_on)) > 1:
            report.ambiguous[territory.kind.key].append(territory.code)
        for link in links:
            if link.predicate == OWL.sameAs:
                same[territory.iri] = link.target
                report.same[territory.kind.key] += 1
            else:
                report.close[territory.kind.key] += 1
        report.links += links
    common = common_territory_links(store, same)
    report.common = len(common)
    report.links += common
    report.requests = client.requests
    return report


# --- the graph -----------------------------------------------------------------------------------------
def links_graph(report: LinkReport, iris: Iris, *, finished: datetime) -> Graph:
    """The links, and what the graph is: a void:Linkset generated by a prov:Activity at a date."""
    graph = new_graph()
    for link in report.links:
        graph.add((link.subject, link.predicate, link.target))
    linkset = iris.graph(GRAPH_NAME)
    stamp = report.created.strftime("%Y%m%dT%H%M%SZ")
    activity = iris.activity("link-insee", stamp)
    endpoint = URIRef(report.endpoint)
    created = Literal(report.created.isoformat(timespec="seconds"), datatype=XSD.dateTime)
    graph.add((linkset, RDF.type, VOID.Linkset))
    graph.add((linkset, RDF.type, PROV.Entity))
    graph.add((linkset, DCTERMS.title, Literal("Correspondances avec les territoires de l'INSEE", lang="fr")))
    graph.add((linkset, DCTERMS.title, Literal("Links to INSEE's territories", lang="en")))
    graph.add((linkset, DCTERMS.created, created))
    graph.add((linkset, DCTERMS.source, endpoint))
    vintages = ", ".join(f"{k.label} {k.default_vintage}" for k in KINDS)
    graph.add(
        (
            linkset,
            DCTERMS.description,
            Literal(
                "IRI officielles de l'INSEE, cherchées par type, igeo:codeINSEE et date de validité "
                f"(1er janvier du millésime géographique : {vintages}). owl:sameAs pour la seule ressource "
                "valide à cette date ; skos:closeMatch pour les autres versions ou les cas ambigus ; "
                "igeo:territoireCommunAvec entre zonages.",
                lang="fr",
            ),
        )
    )
    for predicate in sorted({link.predicate for link in report.links}):
        graph.add((linkset, VOID.linkPredicate, predicate))
    graph.add((linkset, PROV.wasGeneratedBy, activity))
    graph.add((activity, RDF.type, PROV.Activity))
    label = Literal("Recherche des IRI de l'INSEE (bassin-kg link insee)", lang="fr")
    graph.add((activity, RDFS.label, label))
    graph.add((activity, PROV.startedAtTime, created))
    graph.add(
        (activity, PROV.endedAtTime, Literal(finished.isoformat(timespec="seconds"), datatype=XSD.dateTime))
    )
    graph.add((activity, PROV.used, endpoint))
    return graph


# --- the command -------------------------------------------------------------------------------------
def load(ctx: ConvertContext, args: argparse.Namespace, progress: Progress) -> Loaded:
    """Look up our territories at INSEE (``bassin-kg link insee``): the graph ``insee-links``, unwritten.

    Every answer is read before anything is written; the release writer then validates the graph and
    swaps it into a new release, so a failure at any step leaves the published build as it was.
    """
    settings = ctx.settings
    endpoint, timeout, retries = settings.insee_endpoint, settings.insee_timeout, settings.insee_retries
    if timeout <= 0 or retries < 0:
        raise UsageError(f"--timeout must be > 0 and --retries >= 0 (got {timeout} and {retries})")
    if not re.fullmatch(r"https?://[^\s<>\"{}|^`\\]+", endpoint):
        raise UsageError(f"the INSEE endpoint {endpoint!r} is not an http(s) URL")
    release_dir = published_release(settings, then="link")
    client = SparqlClient(endpoint, timeout=timeout, retries=retries)
    with progress.step(f"look up INSEE IRIs on {endpoint}"):
        store = open_read_only(release_dir / "store")
        try:
            report = link_all(store, client)
        finally:
            del store  # closed before the publication copies the store
    if not report.links:
        raise DataError(
            "no link found: the build has no territories INSEE knows",
            hint="check that the build holds the graph insee-territoires and that the endpoint is INSEE's",
        )
    data = links_graph(report, ctx.iris, finished=datetime.now(UTC)).serialize(format="nt", encoding="utf-8")
    return Loaded(GRAPH_NAME, data, len(report.links), [endpoint], report=report.summary())


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint", dest="insee_endpoint", metavar="URL", help="SPARQL endpoint (default rdf.insee.fr)"
    )
    parser.add_argument(
        "--timeout", dest="insee_timeout", type=float, metavar="S", help="seconds per request (default 30)"
    )
    parser.add_argument(
        "--retries", dest="insee_retries", type=int, metavar="N", help="retries after a failure (default 2)"
    )


# --- federated queries ---------------------------------------------------------------------------------
_SERVICE = re.compile(r"SERVICE(\s+SILENT)?\s*<" + re.escape(INSEE_SERVICE) + r">", re.IGNORECASE)


def with_insee_endpoint(query: str, endpoint: str) -> str:
    """The query with its ``SERVICE <http://rdf.insee.fr/sparql>`` pointed at ``endpoint``.

    The committed queries name INSEE's public endpoint; a deployment (or a test) that uses a mirror
    or a stand-in rewrites them with the configured ``insee_endpoint``.
    """
    if not re.fullmatch(r"https?://[^\s<>\"{}|^`\\]+", endpoint):
        raise ValueError(f"not an http(s) IRI: {endpoint!r}")
    return _SERVICE.sub(lambda m: f"SERVICE{m.group(1) or ''} <{endpoint}>", query)


SOURCE = Source(
    "insee",
    graphs=(GRAPH_NAME,),
    catalogue=fixed_entry(
        CatalogueEntry(
            "liens-insee",
            (GRAPH_NAME,),
            title=(
                "Correspondances avec les identifiants de l'Insee (rdf.insee.fr)",
                "Links to INSEE's identifiers (rdf.insee.fr)",
            ),
            description=(
                "owl:sameAs et skos:closeMatch des territoires du graphe vers les ressources de "
                "rdf.insee.fr, avec la date de la recherche.",
                "owl:sameAs and skos:closeMatch from the graph's territories to rdf.insee.fr resources, with "
                "the date of the lookup.",
            ),
            keywords=("Insee", "données liées", "territoires", "owl:sameAs"),
            themes=("REGI",),
            creators=("insee",),
        )
    ),
    loader=Loader("link", "look up INSEE's IRIs of the territories -> graph insee-links", _arguments, load),
)
