"""The ``bassin-kg`` command: one command, one subcommand per step of the data flow.

Exit codes: 0 ok, 1 data invalid (or a build that failed), 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bassin_kg import __version__
from bassin_kg.errors import BassinKgError, UsageError
from bassin_kg.progress import Progress
from bassin_kg.settings import Settings

Handler = Callable[[argparse.Namespace, Settings, Progress], int]


def _cmd_extract(args: argparse.Namespace, settings: Settings, progress: Progress) -> int:
    from bassin_kg.extract import run_extract

    return run_extract(settings, check=args.check, out=sys.stdout)


def _cmd_build(args: argparse.Namespace, settings: Settings, progress: Progress) -> int:
    from bassin_kg.build import build

    result = build(settings, progress=progress, all_france=args.all_france)
    print(result.summary())
    return 0


def _cmd_validate(args: argparse.Namespace, settings: Settings, progress: Progress) -> int:
    from bassin_kg.validate import validate_store

    report = validate_store(settings.store_path)
    print(report.render())
    return 0 if report.conforms else 1


def _cmd_query(args: argparse.Namespace, settings: Settings, progress: Progress) -> int:
    from bassin_kg.queries import run_cli_query

    params = dict(_parse_param(p) for p in args.param)
    return run_cli_query(settings, args.name, params, fmt=args.format, out=sys.stdout)


def _cmd_serve(args: argparse.Namespace, settings: Settings, progress: Progress) -> int:
    from bassin_kg.web.app import run_server

    run_server(settings, workers=args.workers)
    return 0


def _parse_param(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise UsageError(f"--param {text!r} is not of the form NAME=VALUE (for example territory=3123)")
    return name, value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; kept separate so tests and docs can inspect it."""
    parser = argparse.ArgumentParser(
        prog="bassin-kg",
        description="Build, check and serve the bassin minier knowledge graph.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--root", type=Path, help="project folder holding data/ (default: current folder)")
    parser.add_argument("--base-iri", help="base IRI of the published identifiers")
    parser.add_argument("--build-dir", type=Path, help="where releases are written (default: ROOT/build)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("extract", help="parse the deck text into the curated tables of data/curated/")
    p.add_argument("--check", action="store_true", help="fail if the committed tables differ from the parser")
    p.set_defaults(handler=_cmd_extract)

    p = sub.add_parser("build", help="convert, validate and publish a new store and dumps, atomically")
    p.add_argument("--all-france", action="store_true", help="load every zone and commune, not only the basin")
    p.set_defaults(handler=_cmd_build)

    p = sub.add_parser("validate", help="check a store against the SHACL shapes; exit 1 on any violation")
    p.add_argument("--store", type=Path, help="store to check (default: the last build)")
    p.set_defaults(handler=_cmd_validate)

    p = sub.add_parser("query", help="run a named query of queries/ and print a table")
    p.add_argument("name", help="query name, e.g. swot-territoire (see queries/)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="query parameter")
    p.add_argument(
        "--format", default="table", choices=["table", "csv", "tsv", "json"], help="output format"
    )
    p.add_argument("--store", type=Path, help="store to query (default: the last build)")
    p.set_defaults(handler=_cmd_query)

    p = sub.add_parser("serve", help="serve the SPARQL endpoint and linked-data pages")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    p.add_argument("--store", type=Path, help="store to serve (default: the last build)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--query-timeout", type=float, help="seconds before a query is stopped (default 10)")
    p.set_defaults(handler=_cmd_serve)
    return parser


def settings_from_args(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Settings:
    """Environment first, then flags: a flag given on the command line wins."""
    settings = Settings.from_env(environ)
    return settings.replace(
        root=args.root,
        base_iri=args.base_iri,
        build_dir=args.build_dir,
        store=getattr(args, "store", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        query_timeout=getattr(args, "query_timeout", None),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bassin-kg`` script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
        handler: Handler = args.handler
        return handler(args, settings, Progress(quiet=args.quiet))
    except BassinKgError as exc:
        print(f"bassin-kg {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("bassin-kg: interrupted; the published build is unchanged", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
