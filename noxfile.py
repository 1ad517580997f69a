"""Developer sessions. `nox` runs them all; `nox -l` lists them; `nox -s NAME` runs one."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "tests", "robot", "coverage_report", "benchmark"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False

ROOT = Path(__file__).parent
BUILD = ROOT / "build"
LINE_COVERAGE_FLOOR = 97.0
BRANCH_COVERAGE_FLOOR = 95.0  # measured; the storage-engine issue sets 95 as the least
COVERAGE_DATA = BUILD / "coverage-data"
# The suites measured in this nox run (tests, robot): coverage_report combines their data
# instead of running them again, and runs under coverage only what did not run.
MEASURED: set[str] = set()


def install(session: nox.Session) -> None:
    """The project in editable mode with its development dependencies from pyproject.toml."""
    session.install("-e", ".[dev,mcp,review]")


def hermetic_env(session: nox.Session) -> dict[str, str]:
    home = BUILD / "home" / session.name
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text(
        "[user]\n\tname = gitplan tests\n\temail = tests@example.com\n[init]\n\tdefaultBranch = main\n"
    )
    return {"HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C.UTF-8"}


def run_behave(session: nox.Session, *runner: str) -> None:
    # One directory per session (tests, coverage_report): .ci/run counts a scenario that
    # failed in either run as failed, so a failure is never hidden by a later pass.
    junit = BUILD / "behave" / session.name
    junit.mkdir(parents=True, exist_ok=True)
    session.run(
        *runner,
        "behave",
        # progress2, not progress: behave 1.3's progress formatter raises KeyError on a
        # scenario whose clean-up failed, and that ends the whole run unreported.
        "--format=progress2",
        "--junit",
        f"--junit-directory={junit}",
        *session.posargs,
        env=hermetic_env(session),
    )


def run_robot(session: nox.Session) -> None:
    session.run(
        "robot",
        "--outputdir",
        str(BUILD / "robot" / session.name),
        "--loglevel",
        "INFO",
        *session.posargs,
        "robot",
        env=hermetic_env(session),
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the package, features, benchmarks and this file."""
    session.install("ruff")
    session.run("ruff", "check", "src", "features", "benchmarks", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over src/gitplan."""
    install(session)
    session.run("mypy")


@contextlib.contextmanager
def measured(session: nox.Session, suite: str) -> Iterator[None]:
    """Run the block's commands under coverage, their subprocesses too (the CLI, the hooks,
    the MCP server), with the data in build/coverage-data/SUITE, made anew."""
    site = Path(
        session.run(
            "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", silent=True
        ).strip()
    )
    data = COVERAGE_DATA / suite
    for old in data.glob(".coverage*"):
        old.unlink()
    data.mkdir(parents=True, exist_ok=True)
    (site / "gitplan_coverage.pth").write_text("import coverage; coverage.process_startup()\n")
    os.environ["COVERAGE_PROCESS_START"] = str(ROOT / "pyproject.toml")
    os.environ["COVERAGE_FILE"] = str(data / ".coverage")
    try:
        yield
    finally:
        # Measured even when a test failed (.ci/run counts it failed from its JUnit file):
        # coverage_report runs again only a suite that did not run at all.
        if any(data.glob(".coverage.*")):
            MEASURED.add(suite)
        (site / "gitplan_coverage.pth").unlink(missing_ok=True)
        del os.environ["COVERAGE_PROCESS_START"], os.environ["COVERAGE_FILE"]


@nox.session
def tests(session: nox.Session) -> None:
    """behave: the unit and integration scenarios in features/, under coverage."""
    install(session)
    with measured(session, "behave"):
        run_behave(session)


@nox.session
def robot(session: nox.Session) -> None:
    """Robot Framework: the installed `git plan` in real repositories, checked with git,
    under coverage."""
    install(session)
    with measured(session, "robot"):
        run_robot(session)


def check_coverage_floors(report: Path) -> None:
    """Line and branch coverage, each against its own floor (coverage's one number mixes them)."""
    totals = json.loads(report.read_text())["totals"]
    lines = 100.0 * totals["covered_lines"] / max(1, totals["num_statements"])
    branches = 100.0 * totals["covered_branches"] / max(1, totals["num_branches"])
    print(
        f"line coverage {lines:.2f}% (floor {LINE_COVERAGE_FLOOR}%), "
        f"branch coverage {branches:.2f}% (floor {BRANCH_COVERAGE_FLOOR}%)"
    )
    if lines < LINE_COVERAGE_FLOOR or branches < BRANCH_COVERAGE_FLOOR:
        raise SystemExit("coverage is under its floor")


@nox.session
def coverage_report(session: nox.Session) -> None:
    """Line and branch coverage of behave + robot against their floors; build/coverage.xml.

    Combines what the tests and robot sessions of this nox run measured; a suite that
    did not run in it (`nox -s coverage_report` alone) runs here, under coverage."""
    install(session)
    for suite, run in (("behave", run_behave), ("robot", run_robot)):
        if suite not in MEASURED:
            with measured(session, suite):
                run(session)
    data = [str(path) for path in COVERAGE_DATA.glob("*/.coverage.*")]
    combined = {"COVERAGE_FILE": str(BUILD / ".coverage")}
    session.run("coverage", "erase", env=combined)
    session.run("coverage", "combine", "--quiet", "--keep", *data, env=combined)
    session.run("coverage", "xml", "-o", str(BUILD / "coverage.xml"), env=combined)
    session.run("coverage", "json", "-o", str(BUILD / "coverage.json"), env=combined)
    session.run("coverage", "report", env=combined)
    check_coverage_floors(BUILD / "coverage.json")


@nox.session
def benchmark(session: nox.Session) -> None:
    """asv in quick mode, in this session's environment (ratios against git and SQLite).

    This run checks that every benchmark still works, at 10,000 files where the issues'
    targets name 100,000: set GITPLAN_BENCH_LARGE=100000 (or run asv yourself, as
    the README shows) to measure at full size."""
    install(session)
    os.environ.setdefault("GITPLAN_BENCH_LARGE", "10000")
    session.run("asv", "machine", "--yes", "--config", "benchmarks/asv.conf.json")
    session.run(
        "asv",
        "run",
        "--config",
        "benchmarks/asv.conf.json",
        "--python=same",
        "--quick",
        "--show-stderr",
        "--dry-run",
        *session.posargs,
    )
