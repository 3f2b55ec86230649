"""The command-line reference: every command shows an example, docs/cli.md is current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer

from api.cli.main import app

ROOT = Path(__file__).resolve().parents[2]


def _commands(group, prefix: str = "factordb"):  # type: ignore[no-untyped-def]
    for name, command in sorted(getattr(group, "commands", {}).items()):
        path = f"{prefix} {name}"
        yield path, command
        yield from _commands(command, path)


COMMANDS = [
    (path, command)
    for path, command in _commands(typer.main.get_command(app))
    if not getattr(command, "commands", None)
]


def test_the_contract_commands_exist() -> None:
    names = {path for path, _ in COMMANDS}
    assert {
        "factordb db upgrade",
        "factordb demo",
        "factordb org add",
        "factordb key create",
        "factordb ingest",
        "factordb import",
        "factordb review list",
        "factordb review approve",
        "factordb review reject",
        "factordb review request-changes",
        "factordb publish",
        "factordb snapshot list",
        "factordb snapshot show",
        "factordb snapshot diff",
        "factordb snapshot export",
        "factordb snapshot verify",
        "factordb calc",
        "factordb citations",
        "factordb audit verify",
        "factordb serve",
    } <= names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_help_has_an_example(path: str, command) -> None:  # type: ignore[no-untyped-def]
    assert "Example: factordb" in (command.help or "")
    assert "--database-url" in {o for p in command.params for o in getattr(p, "opts", [])}


def test_cli_reference_is_up_to_date() -> None:
    generated = subprocess.run(
        [sys.executable, "-m", "typer", "api.cli.main", "utils", "docs", "--name", "factordb"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == generated, (
        "regenerate: python -m typer api.cli.main utils docs --name factordb --output docs/cli.md"
    )
