"""Issue 15: docker-compose.yml, the Dockerfile and the Makefile say the same thing.

No Docker engine runs here, so the files are checked by reading: every compose command is a
``kyc-service`` command the CLI accepts (parsed, not run), every setting it passes is one
the service knows, the Makefile's worker and beat targets run the compose services' very
commands, and the Dockerfile installs as ``make install`` does.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
import yaml

from kyc_service.cli import main
from kyc_service.config import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
MAKEFILE = (ROOT / "Makefile").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()
OURS = {
    name: s for name, s in COMPOSE["services"].items() if s.get("image") == "kyc-service:latest"
}


def parse(argv: list[str]) -> click.Context:
    """Parse ``kyc-service ARGV`` down to its last subcommand, running nothing."""
    assert argv[0] == "kyc-service", argv
    command: click.Command | None = main
    name, args, parent = "kyc-service", argv[1:], None
    while isinstance(command, click.Group):
        parent = click.Context(command, info_name=name, parent=parent)
        name, args = args[0], args[1:]
        command = command.get_command(parent, name)
        assert command is not None, f"no command {name!r} in {argv}"
    return command.make_context(name, list(args), parent=parent)


def test_the_stack_has_web_two_workers_beat_databases_and_a_broker():
    assert {"web", "worker-local", "worker-upstream", "beat", "migrate"} <= set(OURS)
    assert {"postgres", "keystore", "redis"} <= set(COMPOSE["services"])
    assert "kek" in COMPOSE["secrets"]
    assert {"pgdata", "keydata"} <= set(COMPOSE["volumes"])


@pytest.mark.parametrize("name", sorted(OURS))
def test_each_service_runs_a_command_the_cli_accepts(name):
    context = parse(OURS[name]["command"])
    assert context.command.name in {"serve", "worker", "beat", "upgrade"}


@pytest.mark.parametrize("name", sorted(OURS))
def test_each_service_passes_only_settings_the_service_knows(name):
    environment = OURS[name]["environment"]
    unknown = [k for k in environment if k.removeprefix("KYC_") not in DEFAULTS]
    assert not unknown
    assert environment["KYC_EXECUTOR"] == "celery" and environment["KYC_BROKER_URL"]
    assert environment["KYC_KEK_FILE"] == "/run/secrets/kek" and "kek" in OURS[name]["secrets"]
    assert environment["KYC_DATABASE_URL"] != environment["KYC_KEYSTORE_URL"]


@pytest.mark.parametrize("target", ["worker-local", "worker-upstream", "beat"])
def test_the_makefile_targets_run_the_compose_commands(target):
    recipe = re.search(rf"^{target}:.*\n\t(.+)$", MAKEFILE, re.MULTILINE)
    assert recipe, f"no make target {target}"
    argv = shlex.split(recipe.group(1).replace("$(BIN)/", ""))
    compose = OURS[target]["command"]
    assert argv[:3] == compose[:3]  # the same command and queue (beat: its own file)
    if target.startswith("worker"):
        assert argv == compose


def test_the_dockerfile_installs_as_make_install_does():
    for step in ('"setuptools<82"', '--no-deps "face-recognition==1.3.0"'):
        assert step in MAKEFILE and step in DOCKERFILE
