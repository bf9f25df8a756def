"""Opening the on-disk Oxigraph store, with errors that say what went wrong and what to do.

Also the conversion of its terms to rdflib's and back.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from bassin_kg.errors import StoreError, UsageError
from bassin_kg.settings import Settings

_XSD_STRING = XSD.string.toPython()

_MISSING = "run `bassin-kg build` first, or pass --store PATH to an Oxigraph store"


def open_read_only(path: Path) -> ox.Store:
    """Open the store at ``path`` for reading (several processes may read one store at once)."""
    _check_exists(path)
    return _open(path, read_only=True)


def open_store(path: Path, *, create: bool = False) -> ox.Store:
    """Open the store at ``path`` for writing; ``create`` makes a new one where nothing exists yet.

    Only one process may write a store: a second writer gets a "locked" error.
    """
    if create:
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise StoreError(f"cannot create a store at {path}: something is already there; remove it first")
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        _check_exists(path)
    return _open(path, read_only=False)


def published_release(settings: Settings, *, then: str) -> Path:
    """The folder ``current`` points at; a UsageError saying to build first when there is none."""
    current = settings.current_release
    if not current.is_symlink() or not (current / "store").is_dir():
        raise UsageError(f"no published build at {current}: run `bassin-kg build` first, then {then}")
    return current.resolve()


def _check_exists(path: Path) -> None:
    if not path.is_dir():
        raise StoreError(f"no store at {path}; {_MISSING}")
    if not (path / "CURRENT").is_file():
        raise StoreError(f"{path} is not an Oxigraph store (no CURRENT file); {_MISSING}")


def _open(path: Path, *, read_only: bool) -> ox.Store:
    try:
        return ox.Store.read_only(str(path)) if read_only else ox.Store(str(path))
    except OSError as exc:
        # RocksDB reports a held lock as an IO error mentioning the LOCK file.
        if "lock" in str(exc).lower():
            raise StoreError(
                f"the store at {path} is locked by another process (a build, a server or an ingest): "
                "stop it or wait for it to finish"
            ) from None
        raise StoreError(f"cannot open the store at {path}: {exc}") from None
    except RuntimeError as exc:
        # RocksDB reports damaged files as a RuntimeError ("Corruption: ...").
        raise StoreError(
            f"the store at {path} is corrupt ({exc}); rebuild it with `bassin-kg build`"
        ) from None


def to_rdflib(term: object) -> Node:
    """An Oxigraph term as rdflib's parsers give it (xsd:string literals are plain literals there)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return (
            Literal(term.value) if datatype == _XSD_STRING else Literal(term.value, datatype=URIRef(datatype))
        )
    raise StoreError(f"unsupported RDF term in the store: {term!r} (RDF-star triples are not used here)")


def to_oxigraph(node: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """An rdflib term as an Oxigraph term."""
    if isinstance(node, URIRef):
        return ox.NamedNode(str(node))
    if isinstance(node, BNode):
        return ox.BlankNode(str(node))
    if isinstance(node, Literal):
        if node.language:
            return ox.Literal(str(node), language=node.language)
        if node.datatype is not None:
            return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype)))
        return ox.Literal(str(node))
    raise StoreError(f"unsupported RDF term: {node!r}")
