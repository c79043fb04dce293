"""``kyc-service samples --out DIR`` (API.md § Running it) and the walkthrough it writes.

The command writes the documents, bodies, README.txt and walkthrough.sh, the same bytes on
every run; it refuses a non-empty directory without ``--force`` and says in one line what
to install without the CJK font. Then the real thing: ``dev-setup``, ``samples`` and
``serve`` as a newcomer runs them, in a temporary directory on SQLite, and
``bash walkthrough.sh`` against that server must end every scenario as API.md promises.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from stdnum import luhn
from stdnum.cn import ric, uscc

from benchmarks.servers import BIN, run_command, serve_argv, serving
from kyc_service.cli import main
from tests.cards import require_font

CONTRACT = {
    "individual": "verified",
    "individual_scans": "verified",
    "individual_name_mismatch": "rejected (name_id_mismatch)",
    "individual_not_found": "rejected (id_not_found)",
    "individual_portrait_mismatch": "rejected (portrait_mismatch)",
    "bank_phone_mismatch": "rejected (phone_mismatch)",
    "bank_card_mismatch": "rejected (bank_card_mismatch)",
    "bank_card_not_supported": "rejected (card_not_supported)",
    "bank_unavailable": "processing (upstream_unavailable)",
    "organization": "verified",
    "organization_unsealed": "in_review (seal_not_found)",
    "organization_not_found": "rejected (entity_not_found)",
    "organization_deregistered": "rejected (entity_deregistered)",
    "organization_rep_mismatch": "rejected (legal_representative_mismatch)",
}
"""Each scenario's outcome as API.md § Sandbox magic values and § Statuses promise it."""
MAGIC_NAMES = {
    "individual_name_mismatch": "测试不符",
    "individual_not_found": "测试无此人",
    "individual_portrait_mismatch": "测试人像不符",
    "organization_not_found": "测试不存在企业",
    "organization_deregistered": "测试已注销企业",
}


def write(out: Path, *options: str) -> tuple[int, str]:
    """Run ``kyc-service samples --out OUT``; return its exit code and output."""
    result = CliRunner().invoke(main, ["samples", "--out", str(out), *options])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The samples written once into a new directory."""
    require_font()
    out = tmp_path_factory.mktemp("samples") / "samples"
    code, output = write(out)
    assert code == 0, output
    return out


def test_the_command_writes_the_documents_bodies_readme_and_walkthrough(written):
    assert (written / "README.txt").is_file()
    assert os.access(written / "walkthrough.sh", os.X_OK)
    bodies = {path.stem: json.loads(path.read_text()) for path in written.glob("bodies/*.json")}
    assert set(bodies) == set(CONTRACT)
    readme = (written / "README.txt").read_text()
    for name, outcome in CONTRACT.items():
        assert f"{name}: {outcome}\n" in readme
    script = (written / "walkthrough.sh").read_text()
    referenced = {word.split("=", 1)[1] for word in script.split() if "=images/" in word}
    assert len(referenced) >= 20
    for file in referenced:
        assert (written / file).read_bytes()[:3] == b"\xff\xd8\xff", file  # a JPEG
    assert "MIT License" in (written / "images/LICENSE-faces.txt").read_text()


def test_the_bodies_carry_valid_identifiers_and_the_magic_values(written):
    bodies = {path.stem: json.loads(path.read_text()) for path in written.glob("bodies/*.json")}
    for name, body in bodies.items():
        if body["type"] == "individual":
            person = body["individual"]
            assert ric.is_valid(person["id_number"]), name
            assert luhn.is_valid(person["bank_card"]["number"]), name
            assert person["bank_card"]["number"].startswith("62")
        else:
            org = body["organization"]
            assert uscc.is_valid(org["uscc"]), name
            for party in ("legal_representative", "agent"):
                if party in org:
                    assert ric.is_valid(org[party]["id_number"]), (name, party)
    for name, magic in MAGIC_NAMES.items():
        body = bodies[name]
        shown = body.get("individual") or body["organization"]
        assert shown["name"] == magic
    rep = bodies["organization_rep_mismatch"]["organization"]["legal_representative"]
    assert rep["name"] == "测试法人不符"
    phones = {bodies[name]["individual"]["bank_card"]["reserved_phone"] for name in CONTRACT
              if name.startswith("bank_")}  # fmt: skip
    assert phones == {"13900000001", "13900000002", "13900000003", "13900000009"}
    assert bodies["individual"]["options"]["face_match"] is True


def test_the_same_bytes_on_every_run(written, tmp_path):
    again = tmp_path / "again"
    code, output = write(again)
    assert code == 0, output
    first = {p.relative_to(written): p.read_bytes() for p in written.rglob("*") if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def test_a_non_empty_directory_is_refused_without_force(tmp_path):
    require_font()
    mine = tmp_path / "notes.txt"
    mine.write_text("mine")
    code, output = write(tmp_path)
    assert code == 1
    assert output.strip().splitlines() == [
        f"Error: {tmp_path} is not empty: use --force to write the samples over it"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    code, output = write(tmp_path, "--force")
    assert code == 0, output
    assert (tmp_path / "walkthrough.sh").is_file() and mine.read_text() == "mine"


def test_without_the_font_one_line_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("KYC_SAMPLES_FONT", str(tmp_path / "missing.ttc"))
    code, output = write(tmp_path / "out")
    assert code == 1
    lines = output.strip().splitlines()
    assert len(lines) == 1 and "fonts-wqy-microhei" in lines[0], output
    assert "Traceback" not in output
    assert not (tmp_path / "out").exists()


def test_the_walkthrough_refuses_a_live_key(written):
    """Samples sent with a live key would reach real, billed verifiers: refused before any
    request (the base URL here answers nothing)."""
    done = subprocess.run(
        ["bash", str(written / "walkthrough.sh")],
        env={**os.environ, "KYC_API_KEY": "kyc_live_abc", "KYC_BASE_URL": "http://127.0.0.1:9"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "not a test-mode key" in done.stderr and "kyc_live_abc" not in done.stderr


# --- the walkthrough against a served instance -------------------------------------------------


def newcomer_env(home: Path) -> dict[str, str]:
    """The environment of a fresh checkout: no KYC_ setting but KYC_HOME (and quiet logs)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("KYC_")}
    env.update(
        {
            "KYC_HOME": str(home),
            "KYC_LOG_LEVEL": "WARNING",
            "PROMETHEUS_MULTIPROC_DIR": str(home / "metrics"),
        }
    )
    (home / "metrics").mkdir()
    return env


@pytest.mark.timeout(900)
def test_the_walkthrough_ends_every_scenario_as_the_contract_says(tmp_path):
    require_font()
    env = newcomer_env(tmp_path)
    cli = str(BIN / "kyc-service")
    run_command([cli, "dev-setup"], env, tmp_path)
    assert (tmp_path / "var" / "dev-api-key").is_file()
    run_command([cli, "samples", "--out", "samples"], env, tmp_path)
    with serving(serve_argv(1), env, tmp_path, "walkthrough") as server:
        env["KYC_BASE_URL"] = f"http://{server.host}:{server.port}"
        done = subprocess.run(
            ["bash", "samples/walkthrough.sh"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=840,
        )
    lines = done.stdout.splitlines()
    assert lines[:-1] == [f"{name}: {outcome}" for name, outcome in CONTRACT.items()], (
        done.stdout + done.stderr
    )
    assert lines[-1] == f"{len(CONTRACT)} of {len(CONTRACT)} scenarios as expected"
    assert done.returncode == 0, done.stderr
