"""What the pages show about a resource, read by SPARQL from the served store.

Every query goes through the app's :class:`~bassin_kg.web.sparql.SparqlService` (so it runs in the
engine's workers, off the event loop, with the endpoint's timeout and cache). IRIs are only ever put into
query text in their N-Triples form, after :class:`pyoxigraph.NamedNode` has checked them.

The generic description of a resource is its outgoing triples plus the resources that point to it, each
shown by its label (French first) rather than its IRI. The views (territory, occupation, actor,
SWOT item, home, ontology) add what MODEL.md says those resources carry, each figure with its source;
a territory also gets its overlaps with the other zonings and, when ``bassin-kg ingest acoss`` has
loaded it, the Urssaf employment series of the 2020 zone that holds most of its communes.

Modules: ``rows`` (query text, reading solution rows), ``links``, ``formatting`` (French display),
``labels``, ``sources`` (provenance), ``resource`` (generic description), ``swot``, ``key_figures``,
``zonings``, ``urssaf``, then one per view: ``territory``, ``basin``, ``trajectory``, ``occupation``,
``actor``, ``home``, ``ontology``. Their public names are re-exported here, so callers import from
``describe``.
"""

from __future__ import annotations

from bassin_kg.web.describe.actor import ActorView, actor_view, items_mentioning
from bassin_kg.web.describe.basin import (
    BasinView,
    BmoTotals,
    Multiplier,
    ZoneFigures,
    basin_view,
    shown_number,
)
from bassin_kg.web.describe.formatting import (
    FRENCH_LABELS,
    QUARTER,
    YEAR,
    fallback_label,
    format_date,
    format_number,
    format_share,
    prefixed,
    source_text,
)
from bassin_kg.web.describe.home import TerritoryCard, home_view
from bassin_kg.web.describe.key_figures import Figure, Unemployment, datasets, figures, unemployment
from bassin_kg.web.describe.labels import Labels, Shown
from bassin_kg.web.describe.links import ONTOLOGY, Links
from bassin_kg.web.describe.occupation import Code, OccupationView, occupation_view
from bassin_kg.web.describe.ontology import OntologyView, Term, ontology_view
from bassin_kg.web.describe.resource import (
    INCOMING_CAP,
    Description,
    Property,
    construct_query,
    describe,
    exists,
)
from bassin_kg.web.describe.rows import PREFIX_LINES, RDF_TYPE, XSD, Row, is_iri, node, number, text
from bassin_kg.web.describe.sources import Source, fetch_sources, line_ranges
from bassin_kg.web.describe.swot import (
    SWOT_BOXES,
    SWOT_CLASSES,
    Segment,
    SwotBox,
    SwotItem,
    SwotItemView,
    boxes,
    items_from_rows,
    link_actors,
    swot_item_view,
    swot_items,
)
from bassin_kg.web.describe.territory import TerritoryView, territory_view
from bassin_kg.web.describe.trajectory import (
    BmoCell,
    Counterpart,
    TrajectoryRow,
    TrajectoryView,
    trajectory_view,
)
from bassin_kg.web.describe.urssaf import (
    ACOSS_STRUCTURE,
    LICENCE_NAMES,
    Employment,
    EmploymentSeries,
    SeriesPoint,
    employment,
    employment_series,
)
from bassin_kg.web.describe.zonings import ZE2020, ZONE_KINDS, Overlap, main_zone, overlaps

__all__ = [
    "ACOSS_STRUCTURE",
    "FRENCH_LABELS",
    "INCOMING_CAP",
    "LICENCE_NAMES",
    "ONTOLOGY",
    "PREFIX_LINES",
    "QUARTER",
    "RDF_TYPE",
    "SWOT_BOXES",
    "SWOT_CLASSES",
    "XSD",
    "YEAR",
    "ZE2020",
    "ZONE_KINDS",
    "ActorView",
    "BasinView",
    "BmoCell",
    "BmoTotals",
    "Code",
    "Counterpart",
    "Description",
    "Employment",
    "EmploymentSeries",
    "Figure",
    "Labels",
    "Links",
    "Multiplier",
    "OccupationView",
    "OntologyView",
    "Overlap",
    "Property",
    "Row",
    "Segment",
    "SeriesPoint",
    "Shown",
    "Source",
    "SwotBox",
    "SwotItem",
    "SwotItemView",
    "Term",
    "TerritoryCard",
    "TerritoryView",
    "TrajectoryRow",
    "TrajectoryView",
    "Unemployment",
    "ZoneFigures",
    "actor_view",
    "basin_view",
    "boxes",
    "construct_query",
    "datasets",
    "describe",
    "employment",
    "employment_series",
    "exists",
    "fallback_label",
    "fetch_sources",
    "figures",
    "format_date",
    "format_number",
    "format_share",
    "home_view",
    "is_iri",
    "items_from_rows",
    "items_mentioning",
    "line_ranges",
    "link_actors",
    "main_zone",
    "node",
    "number",
    "occupation_view",
    "ontology_view",
    "overlaps",
    "prefixed",
    "shown_number",
    "source_text",
    "swot_item_view",
    "swot_items",
    "territory_view",
    "text",
    "trajectory_view",
    "unemployment",
]
