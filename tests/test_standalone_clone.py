"""Issue 16: the repository is whole on its own — a clone far from any sibling folder runs
``make test`` with no test skipped for missing data.

The clone is made from the committed HEAD into a temporary directory (no ``../shared``
beside it) and runs the README's test command there, on the suite's tests that read the
real photos and faces (``tests/data``) and draw the synthetic cards, outside CI mode so a
missing file would show as a skip rather than a failure. The clone reuses this checkout's
virtual environment (its install stamp is made the newest file, so ``make`` does not
reinstall into it); the clone's own code is imported first (``python -m pytest`` puts its
directory first on the path).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import missing

ROOT = Path(__file__).resolve().parents[1]
DATA_TESTS = (
    "tests/test_face_match.py",
    "tests/test_document_quality.py",
    "tests/test_seal_detection.py",
)
"""Tests that need ``tests/data`` (faces, real photos) or the drawn cards and seals."""


def _clone(into: Path) -> Path:
    """Clone this repository's HEAD into ``into``; the clone's path."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        missing("git or the repository's history is not available")
    target = into / "kyc-clone"
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(target)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return target


def _reuse_environment(clone: Path) -> Path:
    """Point the clone at this checkout's venv without letting ``make`` reinstall into it."""
    venv = Path(sys.executable).parent.parent
    stamp = venv / ".installed"
    if not stamp.exists():
        missing(f"{venv} was not made by `make install` (no {stamp.name})")
    os.utime(stamp)  # newer than every file of the fresh clone: nothing to install
    return venv


def test_a_clone_alone_runs_make_test_with_nothing_skipped(tmp_path: Path) -> None:
    """``make test`` in a lone clone: every data test runs, none is skipped, all pass."""
    clone = _clone(tmp_path)
    assert not (clone.parent / "shared").exists()
    venv = _reuse_environment(clone)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KYC_", "PYTEST_"))}
    env["CI"] = "false"  # a missing file must show as a skip, which this test then refuses
    done = subprocess.run(
        [
            "make",
            "test",
            f"VENV={venv}",
            f"PYTEST_ARGS=-q -rs -p no:cacheprovider {' '.join(DATA_TESTS)}",
        ],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = done.stdout + done.stderr
    assert "pip install" not in output, "make reinstalled into the shared venv"
    assert done.returncode == 0, output[-3000:]
    summaries = [
        line for line in output.splitlines() if re.search(r"\d+ passed.* in [\d.]+s", line)
    ]
    assert summaries, output[-3000:]  # pytest's last line (make may print after it)
    assert "skipped" not in summaries[-1], output[-3000:]


@pytest.mark.parametrize("document", ["README.md", "docs"])
def test_the_docs_link_only_inside_the_repository(document: str) -> None:
    """No Markdown link of the README or docs/ leaves the repository for a sibling folder."""
    paths = (
        [ROOT / document] if document.endswith(".md") else sorted((ROOT / document).glob("*.md"))
    )
    for path in paths:
        text = path.read_text()
        for target in re.findall(r"\]\(([^)#\s]+)", text):
            if re.match(r"[a-z]+://", target):
                continue
            resolved = (path.parent / target).resolve()
            assert resolved.is_relative_to(ROOT), f"{path.name} links outside: {target}"
            assert resolved.exists(), f"{path.name} links to a missing file: {target}"
        assert "../shared" not in text, f"{path.name} names ../shared"
