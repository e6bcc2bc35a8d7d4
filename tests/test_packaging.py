"""What an operator installs and runs: the dependencies declared are the ones imported, the
production constraints pin them all, and the deploy/ unit files name commands that exist."""
from __future__ import annotations

import ast
import configparser
import functools
import re
import shlex
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
SETUP = configparser.ConfigParser()
SETUP.read(ROOT / "setup.cfg")

# Declared but never imported, each for a reason: a database driver chosen by URL, a server, a
# storage backend Flask-Limiter loads by URI, a pytest plugin, a command-line tool.
NOT_IMPORTED = {"psycopg", "gunicorn", "redis", "pytest-xdist", "import-linter", "ruff"}


def requirements(*sections: str) -> dict[str, Requirement]:
    found = {}
    for section in sections:
        option, key = ("options", "install_requires") if section == "install" else ("options.extras_require", section)
        for line in SETUP.get(option, key).splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                requirement = Requirement(line)
                found[canonicalize_name(requirement.name)] = requirement
    return found


def imported(*folders: str) -> set[str]:
    """Top-level third-party modules imported anywhere under `folders`."""
    names = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    ours = {"solidarity", "tests", "bench", "__future__"}
    return {name for name in names if name not in sys.stdlib_module_names and name not in ours}


@functools.cache
def _packages() -> dict[str, list[str]]:
    return metadata.packages_distributions()  # reads every installed distribution's file list: once


def distributions(module: str) -> set[str]:
    return {canonicalize_name(name) for name in _packages().get(module, [])}


@pytest.mark.parametrize("folders, sections", [(("solidarity",), ("install",)),
                                               (("solidarity", "tests", "bench"), ("install", "test"))],
                         ids=["application", "tests"])
def test_every_imported_package_is_declared(folders, sections):
    declared = set(requirements(*sections))
    undeclared = sorted(module for module in imported(*folders) if not distributions(module) & declared)
    assert undeclared == []


def test_every_declared_package_is_imported_or_has_a_reason():
    used = {dist for module in imported("solidarity", "tests", "bench") for dist in distributions(module)}
    declared = set(requirements("install", "postgres", "redis", "production", "test", "dev"))
    assert sorted(declared - used - NOT_IMPORTED) == []


def test_the_constraints_pin_every_production_requirement_within_its_range():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version
    for name, requirement in requirements("install", "production").items():
        assert name in pins, f"{name} is not pinned in constraints.txt: run `make constraints`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name], requirement)


def test_the_python_versions_we_claim():
    classifiers = SETUP.get("metadata", "classifiers")
    for version in ("3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {version}" in classifiers
    assert SETUP.get("options", "python_requires") == ">=3.11"


# -- deploy/ ----------------------------------------------------------------------------------------

UNITS = sorted((ROOT / "deploy").glob("*.service"))


def exec_lines(unit: Path) -> list[list[str]]:
    return [shlex.split(line.split("=", 1)[1]) for line in unit.read_text().splitlines()
            if re.match(r"Exec(Start|StartPre|Stop|Reload)=", line)]


def test_there_is_a_unit_for_each_process():
    assert [unit.name for unit in UNITS] == ["solidarity-scheduler.service", "solidarity-web.service",
                                             "solidarity-worker.service"]


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_every_command_a_unit_runs_exists(unit, app):
    scripts = {entry.name: entry for entry in metadata.entry_points(group="console_scripts")}
    lines = exec_lines(unit)
    assert lines, f"{unit.name} runs nothing"
    for argv in lines:
        binary = Path(argv[0])
        assert binary.parent == Path("/opt/solidarity/venv/bin"), argv  # the README's install location
        assert binary.name in scripts, f"{binary.name} is not an installed entry point"
        distribution = canonicalize_name(scripts[binary.name].dist.name)
        assert distribution in requirements("install", "production"), f"{binary.name} comes from {distribution}"
        if binary.name == "flask":
            assert argv[1:3] == ["--app", "wsgi"]
            command = app.cli.get_command(None, argv[3])
            assert command is not None, f"flask command {argv[3]!r} is not registered"
            for word in argv[4:]:  # a group's subcommand, e.g. `keys rotate`
                if not word.startswith("-") and hasattr(command, "get_command"):
                    command = command.get_command(None, word)
                    assert command is not None, f"flask command {' '.join(argv[3:])!r} is not registered"
        elif binary.name == "gunicorn":
            config, target = argv[argv.index("--config") + 1], argv[-1]
            assert (ROOT / config).is_file()
            module, _, attribute = target.partition(":")
            assert (ROOT / f"{module}.py").is_file() and attribute == "app"


def test_the_gunicorn_settings_load_and_retire_a_dead_workers_metrics(tmp_path, monkeypatch):
    settings: dict = {}
    exec(compile((ROOT / "deploy" / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), settings)
    assert settings["workers"] >= 1 and settings["bind"].startswith("127.0.0.1:")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "gauge_liveall_4242.db").write_bytes(b"")

    class Worker:
        pid = 4242
    settings["child_exit"](None, Worker())
    assert not (tmp_path / "gauge_liveall_4242.db").exists()
