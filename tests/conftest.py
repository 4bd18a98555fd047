"""Fixtures of the end-to-end suite: Portico nodes as real processes on free ports.

Storage-sensitive modules take the `node` fixture, which is parametrized over the storage
backends: SQLite always, PostgreSQL when PORTICO_TEST_POSTGRES_URL names a server
(scripts/with-postgres sets it). Every PostgreSQL node gets a database of its own.

Run: PORTICO_BINARY=build/portico scripts/with-postgres /usr/bin/python3 -m pytest -q tests
(without scripts/with-postgres the PostgreSQL variants are skipped with a reason).
"""

from __future__ import annotations

import os
import uuid

import pytest

import portico_node
from portico_node import Node, binary_path

POSTGRES_URL = os.environ.get("PORTICO_TEST_POSTGRES_URL", "")

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.skipif(
        not POSTGRES_URL,
        reason="PORTICO_TEST_POSTGRES_URL is not set (run under scripts/with-postgres)")),
]


@pytest.fixture(scope="session", autouse=True)
def portico_binary():
    path = binary_path()
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(f"no portico binary at {path}: build it, or set PORTICO_BINARY", pytrace=False)
    return path


class NodeLauncher:
    """Creates nodes in fresh temporary directories and stops whatever is still running
    when its scope ends (asserting a clean exit)."""

    def __init__(self, tmp_path_factory, backend: str = "sqlite"):
        self.tmp_path_factory = tmp_path_factory
        self.backend = backend
        self.nodes: list[Node] = []
        self.databases: list[str] = []

    def new(self, *, start: bool = True, backend: str | None = None, **kwargs) -> Node:
        backend = backend or self.backend
        if backend == "postgresql" and "database_url" not in kwargs:
            url = portico_node.create_postgres_database(POSTGRES_URL)
            self.databases.append(url)
            kwargs["database_url"] = url
        directory = self.tmp_path_factory.mktemp(f"node-{backend}-{uuid.uuid4().hex[:6]}")
        node = Node(directory, **kwargs)
        self.nodes.append(node)
        return node.start() if start else node

    def close(self) -> None:
        errors = []
        for node in self.nodes:
            if node.running:
                try:
                    node.stop()
                except AssertionError as e:
                    errors.append(str(e))
        for url in self.databases:
            try:
                portico_node.drop_postgres_database(POSTGRES_URL, url)
            except Exception:  # a throwaway server: a leftover database harms nothing
                pass
        if errors:
            pytest.fail("\n\n".join(errors), pytrace=False)


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def module_launcher(tmp_path_factory, backend):
    launcher = NodeLauncher(tmp_path_factory, backend)
    yield launcher
    launcher.close()


@pytest.fixture
def launcher(tmp_path_factory, backend):
    """Function-scoped: for tests that stop, restart or reconfigure their own node."""
    launcher = NodeLauncher(tmp_path_factory, backend)
    yield launcher
    launcher.close()


@pytest.fixture(scope="module")
def node(module_launcher) -> Node:
    """One running node per module and backend, shared by the module's tests."""
    return module_launcher.new()


@pytest.fixture(scope="module")
def sqlite_launcher(tmp_path_factory):
    launcher = NodeLauncher(tmp_path_factory, "sqlite")
    yield launcher
    launcher.close()


@pytest.fixture(scope="module")
def sqlite_node(sqlite_launcher) -> Node:
    """A node on SQLite, for modules whose behaviour does not depend on storage."""
    return sqlite_launcher.new()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for n in portico_node.live_nodes:
            report.sections.append((f"portico log {n.directory.name}", n.log_tail()))


@pytest.fixture(scope="module")
def redis():
    """A throwaway redis-server for the module's nodes (tests/cluster_support.py)."""
    from cluster_support import RedisServer
    server = RedisServer()
    server.start()
    yield server
    server.stop()
