"""The one settings object. Values come from ``BASSIN_KG_*`` environment variables, then CLI flags.

Nothing else in the package reads the environment: code receives a :class:`Settings`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bassin_kg.errors import UsageError
from bassin_kg.namespaces import DEFAULT_BASE

ENV_PREFIX = "BASSIN_KG_"


def _default_root() -> Path:
    # The project root is where the committed data lives; when run from a checkout that is the cwd.
    return Path.cwd()


@dataclass(frozen=True)
class Settings:
    """Every tunable of the tool, with its default."""

    base_iri: str = DEFAULT_BASE
    root: Path = field(default_factory=_default_root)
    #: where releases (store + dumps) are written; ``build/current`` points at the published one
    build_dir: Path | None = None
    #: the store ``serve`` and ``query`` open; default: the store of the last successful build
    store: Path | None = None
    #: ``serve`` runs its queries on this remote SPARQL 1.1 query endpoint instead of the local store
    sparql_endpoint: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    #: seconds a SPARQL query may run before it is stopped
    query_timeout: float = 10.0
    max_request_bytes: int = 1_000_000
    html_row_cap: int = 1000
    cache_entries: int = 256
    #: queries evaluated at once (each in its own worker process); more get 503 + Retry-After
    max_concurrent_queries: int = 4
    #: queries that may wait for a busy worker (at most ``query_timeout`` s) before 503 + Retry-After
    max_queued_queries: int = 32
    #: ad-hoc queries one client (IP address, as the server reads it) may have evaluated at once; its
    #: further ones wait in its own line, so one client's heavy queries never hold every worker
    max_client_queries: int = 1
    #: bytes a serialised query answer may have; a bigger one is refused with 400 (use the dumps)
    max_result_bytes: int = 50_000_000
    #: bytes all the header lines of a request may have together; more gets 431
    max_header_bytes: int = 16_384
    #: queries that start evaluating at once (0: one per CPU this process may use); a query running
    #: longer than ``query_turn`` s lets the next one start, so short queries never wait long
    query_cpus: int = 0
    #: seconds a query keeps its turn before the next waiting query may start beside it
    query_turn: float = 0.05
    #: answer plain ``/sparql`` queries and cached answers in front of FastAPI's stack (3-4x the requests/s
    #: of the route on cached answers, bench/README.md); off: every request goes through the route
    fast_path: bool = True
    #: one log line per request (off when a reverse proxy in front already logs them)
    access_log: bool = True
    #: query processes copy the store into memory (2.7–4× faster reads) when it holds at most this many
    #: quads, ~400 bytes each per process; 0: they read the on-disk store. 250,000 keeps the deck's
    #: build (~80,000) in memory and reads a national BMO release (~870,000) on disk: five copies of it
    #: (four workers and the server) would pass 1 GB, and making them delays the first query by ~20 s
    memory_store_max_quads: int = 250_000
    cors_origins: tuple[str, ...] = ()
    enable_update: bool = False
    update_token: str | None = None
    #: hosts a SERVICE clause may reach from the public endpoint (empty: SERVICE refused)
    service_allowlist: tuple[str, ...] = ()
    insee_endpoint: str = "http://rdf.insee.fr/sparql"
    #: seconds one request to the INSEE endpoint may take (``link insee``)
    insee_timeout: float = 30.0
    #: further attempts after a failed request to the INSEE endpoint (with exponential backoff)
    insee_retries: int = 2
    #: how many earlier releases to keep beside the current one
    keep_releases: int = 2
    #: secret for `publish --to`: a bearer token, or the password of --user (BASSIN_KG_PUBLISH_TOKEN)
    publish_token: str | None = None

    def __post_init__(self) -> None:
        if self.query_cpus < 0:
            raise UsageError(
                f"{ENV_PREFIX}QUERY_CPUS={self.query_cpus} is negative; give 0 (one per CPU this "
                "process may use) or the number of queries that may start evaluating at once"
            )
        for name in ("max_client_queries", "max_result_bytes", "max_header_bytes"):
            if getattr(self, name) < 1:
                raise UsageError(
                    f"{ENV_PREFIX}{name.upper()}={getattr(self, name)} must be a positive number"
                )
        if self.query_turn <= 0:
            raise UsageError(
                f"{ENV_PREFIX}QUERY_TURN={self.query_turn} must be a positive number of seconds "
                "(default 0.05)"
            )

    # derived paths -----------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def build_root(self) -> Path:
        return self.build_dir if self.build_dir is not None else self.root / "build"

    @property
    def current_release(self) -> Path:
        return self.build_root / "current"

    @property
    def store_path(self) -> Path:
        return self.store if self.store is not None else self.current_release / "store"

    @property
    def dist_dir(self) -> Path:
        return self.root / "dist"

    def replace(self, **changes: Any) -> Settings:
        """A copy with the given fields changed; ``None`` values are ignored (unset flags)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``BASSIN_KG_<FIELD>`` variables; an unknown or malformed one is a usage error."""
        env = os.environ if environ is None else environ
        known = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in env.items():
            if not key.startswith(ENV_PREFIX):
                continue
            name = key[len(ENV_PREFIX) :].lower()
            if name not in known:
                raise UsageError(
                    f"unknown setting {key}={raw!r}; known settings are "
                    + ", ".join(ENV_PREFIX + n.upper() for n in sorted(known))
                )
            values[name] = _parse(key, raw, known[name].type)
        return cls(**values)


def _parse(key: str, raw: str, type_name: object) -> Any:
    kind = str(type_name)
    try:
        if kind == "bool":
            low = raw.strip().lower()
            if low in {"1", "true", "yes", "on"}:
                return True
            if low in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind.startswith("tuple"):
            return tuple(p.strip() for p in raw.split(",") if p.strip())
        if "Path" in kind:
            return Path(raw) if raw else None
        if kind == "str | None":
            return raw or None
        return raw
    except ValueError:
        raise UsageError(f"setting {key}={raw!r} is not a valid {kind}; fix or unset it") from None
