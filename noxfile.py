"""Developer sessions: ``nox -s tests``, ``nox -s lint``, ``nox -s typecheck``, ``nox -s bench``,
``nox -s docs``."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.default_venv_backend = "venv"

INSTALL = ("-e", ".[dev,postgres]")


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite; PostgreSQL tests are mandatory with CT_PRIMA_SYNC_REQUIRE_POSTGRES=1."""
    session.install(*INSTALL)
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the library, the tests and the benchmarks."""
    session.install(*INSTALL)
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """Every benchmark under benchmarks/, each printing its ratio to a baseline run alongside."""
    session.install(*INSTALL)
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site, as CI builds it: ``mkdocs build --strict`` (``serve`` to read it)."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", *(session.posargs or ["build", "--strict"]))
