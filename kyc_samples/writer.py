"""``kyc-service samples --out DIR``: write the sample documents, the request bodies, a
README.txt and walkthrough.sh into DIR (registered as the ``samples`` tool, ``kyc.tools``)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from kyc_samples import documents
from kyc_samples.fonts import require_font
from kyc_samples.scenarios import DEPOSIT_AMOUNT, Samples, Scenario, samples

WALKTHROUGH = Path(__file__).resolve().parent / "walkthrough.sh"
SCENARIOS_MARK = "# @SCENARIOS@"


class SamplesError(RuntimeError):
    """The samples cannot be written where asked."""


def write_samples(out: str | Path, force: bool = False) -> list[Path]:
    """Write every sample into ``out``; return the files written, relative to it.

    Refuses (:class:`SamplesError`) a non-empty ``out`` unless ``force``, and raises
    :class:`kyc_samples.fonts.FontMissing` when the CJK font is not installed. The same
    files, byte for byte, on every run.
    """
    require_font()
    folder = Path(out)
    _prepare(folder, force)
    plan = samples()
    files = _documents(plan)
    for scenario in plan.scenarios:
        files[scenario.body_file] = _json(scenario.body)
    files["images/LICENSE-faces.txt"] = documents.faces_licence().encode()
    files["README.txt"] = readme(plan).encode()
    files["walkthrough.sh"] = walkthrough(plan).encode()
    for name, data in files.items():
        _write(folder / name, data)
    (folder / "walkthrough.sh").chmod(0o755)
    return sorted(Path(name) for name in files)


def _write(path: Path, data: bytes) -> None:
    """Write one file, making its folder; a failure is a :class:`SamplesError`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise SamplesError(f"cannot write {path}: {exc.strerror}") from None


def _prepare(folder: Path, force: bool) -> None:
    """Make ``folder``, refusing one that holds anything unless ``force``."""
    if folder.exists() and not folder.is_dir():
        raise SamplesError(f"{folder} is not a directory")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise SamplesError(f"{folder} is not empty: use --force to write the samples over it")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SamplesError(f"cannot create {folder}: {exc.strerror}") from None


def _documents(plan: Samples) -> dict[str, bytes]:
    """Every image of the plan by file name: the cards, the pages and the selfie."""
    files: dict[str, bytes] = {}
    for index, card in enumerate(plan.cards):
        files.update(documents.card_images(card, seed=10 * index))
    for page in plan.pages:
        files[page.file] = documents.page_image(page)
    files[plan.selfie] = documents.selfie(plan.selfie_face)
    return files


def _json(body: dict) -> bytes:
    """A request body as pretty UTF-8 JSON."""
    return (json.dumps(body, ensure_ascii=False, indent=2) + "\n").encode()


def walkthrough(plan: Samples) -> str:
    """The walkthrough script: the template with one ``run_scenario`` call per scenario."""
    calls = "\n\n".join(_scenario_call(scenario) for scenario in plan.scenarios)
    template = WALKTHROUGH.read_text(encoding="utf-8")
    return template.replace(SCENARIOS_MARK, calls)


def _scenario_call(scenario: Scenario) -> str:
    """``run_scenario NAME 'EXPECTED' BODY KIND=FILE...`` over several lines."""
    words = [
        "run_scenario",
        scenario.name,
        shlex.quote(scenario.outcome),
        scenario.body_file,
        *(f"{kind}={file}" for kind, file in scenario.documents.items()),
    ]
    return " \\\n  ".join([" ".join(words[:4]), *words[4:]])


def readme(plan: Samples) -> str:
    """README.txt: how to run the walkthrough, then each scenario and its expected outcome."""
    lines = [
        "Sample documents for the KYC service's sandbox (test mode)",
        "===========================================================",
        "",
        "Written by `kyc-service samples`. Every person, company and number here is made up",
        "(ID numbers, USCCs and bank card numbers carry valid check digits); the portraits and",
        "the selfie come from the face_recognition project's photos (MIT License, see",
        "images/LICENSE-faces.txt).",
        "",
        "Run every scenario against the service in test mode (`make run` in another terminal):",
        "",
        "    bash walkthrough.sh                 # every scenario",
        "    bash walkthrough.sh individual      # only the scenarios named",
        "",
        "KYC_BASE_URL (default http://127.0.0.1:8000) and KYC_API_KEY (default: the key in",
        "./var/dev-api-key, which `make run` writes) choose the service and the key. Each",
        "scenario is created from bodies/NAME.json, its documents uploaded, submitted, and its",
        f"micro-deposit confirmed when one is awaited (always {DEPOSIT_AMOUNT} in test mode);",
        "the script prints `NAME: status (code)` and exits 1 when any outcome differs.",
        "",
        "Scenarios (name: expected status (last_error.code))",
        "--------------------------------------------------",
    ]
    for scenario in plan.scenarios:
        lines += ["", f"{scenario.name}: {scenario.outcome}", f"  {scenario.title}"]
        lines += [f"  note: {note}" for note in scenario.notes]
        lines.append(f"  body: {scenario.body_file}")
        lines += [f"  {kind}: {file}" for kind, file in scenario.documents.items()]
    return "\n".join(lines) + "\n"
