"""Real server processes for the tests, on 127.0.0.1: a free port, a clean environment, start, wait until
the server answers, stop at the end.

Test packages import it as ``from serving import …``: pytest (default "prepend" import mode) puts tests/
on ``sys.path``, as tests/ has no ``__init__.py`` and holds the root conftest.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

#: the ``oxigraph`` command-line server installed in the venv (the ``oxigraph`` package)
OXIGRAPH = Path(sys.executable).parent / "oxigraph"
#: the shortest query every SPARQL endpoint answers 200 to, as a query string
ASK_EMPTY = "query=ASK%20%7B%7D"


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any BASSIN_KG_* setting of the machine, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASSIN_KG_")}
    env.update(extra)
    return env


def cli(*args: str) -> list[str]:
    """The command line of ``bassin-kg <args>`` with this interpreter."""
    return [sys.executable, "-m", "bassin_kg.cli", *args]


@contextmanager
def running_process(
    command: Sequence[str], *, env: Mapping[str, str] | None = None, ready_url: str, timeout: float = 30.0
) -> Iterator[subprocess.Popen[bytes]]:
    """``command`` running until the end of the block, once ``ready_url`` answers 200 to a GET.

    Fails the test, with what the process wrote, if it exits or does not answer within ``timeout`` s.
    At the end: terminate, then kill if it is still there after 10 s. ``env`` defaults to ``clean_env()``.
    """
    # a file, not a pipe: a pipe nobody reads would block the server once full
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            list(command), env=dict(env if env is not None else clean_env()), stdout=log, stderr=log
        )

        def output() -> str:
            log.seek(0)
            return log.read().decode(errors="replace")

        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    pytest.fail(f"{command[0]} exited with {process.returncode}:\n{output()}")
                try:
                    if httpx.get(ready_url, timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"{command[0]} did not answer on {ready_url} within {timeout} s:\n{output()}")
                time.sleep(0.1)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass(frozen=True)
class Running:
    """A server process and its base URL (``http://127.0.0.1:PORT``)."""

    process: subprocess.Popen[bytes]
    url: str


@dataclass(frozen=True)
class BassinKgServer(Running):
    """A ``bassin-kg serve`` process."""

    @property
    def endpoint(self) -> str:
        return self.url + "/sparql"


@contextmanager
def bassin_kg_server(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    ready_path: str = "/sparql?" + ASK_EMPTY,
    timeout: float = 30.0,
) -> Iterator[BassinKgServer]:
    """``command`` (``cli(…, "serve", …)``) with ``--port P`` added: a free port of 127.0.0.1."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running_process(
        [*command, "--port", str(port)], env=env, ready_url=url + ready_path, timeout=timeout
    ) as process:
        yield BassinKgServer(process, url)


@contextmanager
def oxigraph_server(location: Path, *, timeout: float = 20.0) -> Iterator[Running]:
    """A real, read-write ``oxigraph serve`` on the on-disk store ``location`` and a free port."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(OXIGRAPH), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"]
    with running_process(command, ready_url=f"{url}/query?{ASK_EMPTY}", timeout=timeout) as process:
        yield Running(process, url)


def oxigraph_put(base: str, graph: str, ntriples: bytes) -> None:
    """Replace ``graph`` on the Oxigraph server at ``base`` with ``ntriples`` (Graph Store PUT)."""
    response = httpx.put(
        base + "/store",
        params={"graph": graph},
        content=ntriples,
        headers={"content-type": "application/n-triples"},
        timeout=10,
    )
    response.raise_for_status()


def oxigraph_graphs(base: str) -> dict[str, int]:
    """Triples per named graph on the Oxigraph server at ``base``, as its SPARQL endpoint counts them."""
    response = httpx.post(
        base + "/query",
        data={"query": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"},
        headers={"accept": "application/sparql-results+json"},
        timeout=10,
    )
    response.raise_for_status()
    rows = response.json()["results"]["bindings"]
    return {row["g"]["value"]: int(row["n"]["value"]) for row in rows}


#: Debian's ``virtuoso-opensource`` server binary (``make engines`` installs it; CI runs that target)
VIRTUOSO = "virtuoso-t"
#: Virtuoso's own account in a fresh database (password ``dba``); the tests' database is a throwaway
VIRTUOSO_DBA = ("dba", "dba")


@dataclass(frozen=True)
class Virtuoso(Running):
    """A ``virtuoso-t`` process: ``url`` is its HTTP server, ``sql_port`` its SQL (isql) port."""

    sql_port: int
    directory: Path

    @property
    def endpoint(self) -> str:
        return self.url + "/sparql"


def virtuoso_ini(directory: Path, http_port: int, sql_port: int) -> str:
    """A minimal virtuoso.ini: database files in ``directory``, both servers on 127.0.0.1 only."""
    files = {
        "DatabaseFile": "virtuoso.db",
        "ErrorLogFile": "virtuoso.log",
        "LockFile": "virtuoso.lck",
        "TransactionFile": "virtuoso.trx",
        "xa_persistent_file": "virtuoso.pxa",
    }
    database = "\n".join(f"{key} = {directory / name}" for key, name in files.items())
    return f"""[Database]
{database}
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {directory / "virtuoso-temp.db"}
TransactionFile = {directory / "virtuoso-temp.trx"}
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
; ld_dir (the bulk loader of bench/) reads dumps from here only
DirsAllowed = ., {directory}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = /var/lib/virtuoso-opensource-7/vsp
ServerThreads = 10
[SPARQL]
; the default (10,000 rows) would cut the comparisons of every row with the embedded store
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 120
"""


@contextmanager
def virtuoso_server(directory: Path, *, timeout: float = 60.0) -> Iterator[Virtuoso]:
    """A real Virtuoso with a fresh database in ``directory``, on free ports of 127.0.0.1.

    Fails (never skips) when Debian's ``virtuoso-opensource`` is not installed: CI installs it.
    """
    binary = shutil.which(VIRTUOSO)
    if binary is None:
        pytest.fail(
            f"{VIRTUOSO} not found: install Debian's virtuoso-opensource (`make engines`, as root) "
            "to run the tests against a real Virtuoso"
        )
    directory.mkdir(parents=True, exist_ok=True)
    http_port, sql_port = free_port(), free_port()
    ini = directory / "virtuoso.ini"
    ini.write_text(virtuoso_ini(directory, http_port, sql_port), encoding="utf-8")
    url = f"http://127.0.0.1:{http_port}"
    # -f: stay in the foreground, so the process is the server and terminating it stops the server
    command = [binary, "-f", "-c", str(ini)]
    with running_process(command, ready_url=f"{url}/sparql?{ASK_EMPTY}", timeout=timeout) as process:
        yield Virtuoso(process, url, sql_port, directory)
