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
from bassin_kg.sources.registry import loaders

Handler = Callable[[argparse.Namespace, Settings, Progress], int]


def _cmd_extract(args: argparse.Namespace, settings: Settings, progress: Progress) -> int:
    from bassin_kg.extract import run_extract

    return run_extract(settings, check=args.check, out=sys.stdout)


def _cmd_build(args: argparse.Namespace, settings: Settings, progress: Progress) -> int:
    from bassin_kg.release.build import build

    result = build(settings, progress=progress, all_france=args.all_france)
    print(result.summary())
    return 0


def _cmd_validate(args: argparse.Namespace, settings: Settings, progress: Progress) -> int:
    from bassin_kg.validate import validate_files, validate_store

    if bool(args.data) != bool(args.shapes):
        raise UsageError("--data and --shapes go together: validate --data FILE… --shapes FILE…")
    if args.data and args.store:
        raise UsageError("--store checks the project's store against shapes/; --data checks files: not both")
    if args.data:
        report = validate_files(args.data, args.shapes, engine=args.engine)
    else:
        report = validate_store(settings.store_path, settings.root / "shapes", engine=args.engine)
    progress.info(f"engine: {report.engine_label}")
    for note in report.notes:
        progress.info(f"note: {note}")
    output = {"text": report.render, "turtle": report.to_turtle, "json": report.to_json}[args.format]()
    if args.data and args.format == "text":
        output += f"engine: {report.engine_label}\n"
    sys.stdout.write(output if output.endswith("\n") else output + "\n")
    # any RDF files: the standard meaning (sh:conforms is false on any result, warnings included);
    # the project's graph: a warning does not fail it
    return 0 if (report.shacl_conforms if args.data else report.conforms) else 1


def _cmd_query(args: argparse.Namespace, settings: Settings, progress: Progress) -> int:
    from bassin_kg.queries import list_queries, run_cli_query

    if args.list:
        return list_queries(settings, sys.stdout)
    if args.name is None:
        raise UsageError("give a query name, or --list to see them (e.g. bassin-kg query swot-territoire)")
    params = dict(_parse_param(p) for p in args.param)
    return run_cli_query(settings, args.name, params, fmt=args.format, out=sys.stdout)


def _cmd_serve(args: argparse.Namespace, settings: Settings, progress: Progress) -> int:
    from bassin_kg.web.app import run_server

    run_server(settings, workers=args.workers)
    return 0


def _cmd_load(args: argparse.Namespace, settings: Settings, progress: Progress) -> int:
    from bassin_kg.release.replace import run_loader

    result = run_loader(settings, args.loader, args, progress)
    print(result.summary())
    return 0


def _cmd_publish(args: argparse.Namespace, settings: Settings, progress: Progress) -> int:
    if args.to:
        from bassin_kg.publish.remote import Remote, derive, push

        query_url, update_url = derive(args.to, args.query_url, args.update_url)
        remote = Remote(
            args.to,
            query_url,
            None if args.no_staging else update_url,
            user=args.user,
            token=settings.publish_token,
            digest=args.digest,
            timeout=args.timeout,
            retries=args.retries,
        )
        report = push(settings.store_path, remote)
        print(report.summary())
        return 0 if report.ok else 1
    from bassin_kg.publish import publish
    from bassin_kg.publish.dcat import CatalogOptions

    defaults = CatalogOptions()
    # the default type belongs to the default publisher: another publisher states its own
    kind = args.publisher_type or (None if args.publisher else defaults.publisher_type)
    options = CatalogOptions(args.publisher or defaults.publisher, args.contact, kind)
    static_site = args.static_site or bool(args.site_only)
    result = publish(
        settings, progress=progress, options=options, static_site=static_site, site_only=args.site_only
    )
    print(result.summary())
    return 0


def _parse_param(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise UsageError(f"--param {text!r} is not of the form NAME=VALUE (for example territoire=3123)")
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
    p.add_argument(
        "--all-france", action="store_true", help="load every zone and commune, not only the basin"
    )
    p.set_defaults(handler=_cmd_build)

    p = sub.add_parser(
        "validate",
        help="check the store against shapes/ (exit 1 on a violation), or any --data against any --shapes",
    )
    p.add_argument("--store", type=Path, help="store to check (default: the last build)")
    p.add_argument("--data", type=Path, nargs="+", metavar="FILE", help="RDF files to check (any format)")
    p.add_argument(
        "--shapes",
        type=Path,
        nargs="+",
        metavar="FILE",
        help="SHACL shapes files (with --data; exit 1 on any result)",
    )
    p.add_argument(
        "--format",
        default="text",
        choices=["text", "turtle", "json"],
        help="text (default), turtle (a standard sh:ValidationReport) or json",
    )
    p.add_argument(
        "--engine",
        default="fast",
        choices=["fast", "pyshacl"],
        help="fast: shapes compiled to SPARQL in Oxigraph (default); pyshacl: the slower reference",
    )
    p.set_defaults(handler=_cmd_validate)

    p = sub.add_parser("query", help="run a named query of queries/ and print a table")
    p.add_argument("name", nargs="?", help="query name, e.g. swot-territoire (see --list)")
    p.add_argument("--list", action="store_true", help="list the named queries and their parameters")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="query parameter")
    p.add_argument(
        "--format",
        default="table",
        choices=["table", "csv", "csv-fr", "tsv", "json"],
        help="output format (csv: RFC 4180; csv-fr: ';', decimal comma, UTF-8 BOM, for French Excel)",
    )
    p.add_argument("--store", type=Path, help="store to query (default: the last build)")
    p.set_defaults(handler=_cmd_query)

    for command, help_text, metavar in (
        ("ingest", "load an official open-data file into the current build, atomically", "DATASET"),
        ("link", "link the current build to other linked data, atomically", "TARGET"),
    ):
        p = sub.add_parser(command, help=help_text)
        targets = p.add_subparsers(dest=metavar.lower(), metavar=metavar, required=True)
        for name, loader in loaders(command).items():
            q = targets.add_parser(name, help=loader.help)
            loader.arguments(q)
            q.set_defaults(handler=_cmd_load, loader=loader)

    p = sub.add_parser(
        "publish",
        help="write dumps, VoID and the DCAT-AP catalogue into dist/ (atomically), or push to a Graph Store",
    )
    p.add_argument("--static-site", action="store_true", help="also export every HTML page to dist/site/")
    p.add_argument(
        "--site-only",
        action="append",
        default=[],
        metavar="KIND",
        help="export only /id/KIND/… pages (territoire, acteur, swot…; repeatable)",
    )
    p.add_argument("--publisher", help="name of the publisher in the catalogue")
    p.add_argument("--contact", metavar="URL", help="contact point: a web page or mailto: address")
    p.add_argument(
        "--publisher-type",
        metavar="CODE",
        help="ADMS publisher type of --publisher (RegionalAuthority, LocalAuthority, NonProfitOrganisation…)",
    )
    p.add_argument("--to", metavar="URL", help="push the named graphs to this Graph Store endpoint instead")
    p.add_argument("--query-url", metavar="URL", help="its SPARQL query endpoint (to verify the counts)")
    p.add_argument(
        "--update-url", metavar="URL", help="its SPARQL update endpoint (staging graph, then a copy)"
    )
    p.add_argument("--no-staging", action="store_true", help="PUT straight into each graph (no staging)")
    p.add_argument("--user", help="user (password: BASSIN_KG_PUBLISH_TOKEN; without --user it is a bearer)")
    p.add_argument("--digest", action="store_true", help="HTTP Digest instead of Basic for --user (Virtuoso)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="S", help="seconds per request")
    p.add_argument("--retries", type=int, default=2, metavar="N", help="retries after a failure (default 2)")
    p.add_argument("--store", type=Path, help="store to push (default: the last build)")
    p.set_defaults(handler=_cmd_publish)

    p = sub.add_parser("serve", help="serve the SPARQL endpoint and linked-data pages")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    p.add_argument("--store", type=Path, help="store to serve (default: the last build)")
    p.add_argument(
        "--sparql-endpoint",
        metavar="URL",
        help="run the queries on this remote SPARQL 1.1 query endpoint instead of the local store "
        "(the graphs of the release were pushed there with `publish --to`)",
    )
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--query-timeout", type=float, help="seconds before a query is stopped (default 10)")
    p.add_argument(
        "--no-access-log", action="store_true", help="no log line per request (a reverse proxy logs them)"
    )
    p.add_argument(
        "--enable-update",
        action="store_true",
        help="allow SPARQL Update and Graph Store writes, behind BASSIN_KG_UPDATE_TOKEN (local editing)",
    )
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
        sparql_endpoint=getattr(args, "sparql_endpoint", None),
        port=getattr(args, "port", None),
        query_timeout=getattr(args, "query_timeout", None),
        enable_update=True if getattr(args, "enable_update", False) else None,
        access_log=False if getattr(args, "no_access_log", False) else None,
        insee_endpoint=getattr(args, "insee_endpoint", None),
        insee_timeout=getattr(args, "insee_timeout", None),
        insee_retries=getattr(args, "insee_retries", None),
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
