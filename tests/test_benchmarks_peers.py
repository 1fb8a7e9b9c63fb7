"""The peers benchmark is wired in and says what to install when its extra is missing (no timings here)."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEER_MODULES = ("django", "django_fsm", "django_fsm_log", "SpiffWorkflow", "statemachine")

WITHOUT_PEERS = f"""
import sys
for module in {PEER_MODULES!r}:
    sys.modules[module] = None  # as if not installed, whatever this environment has
from benchmarks.peers.__main__ import main
sys.exit(main(["--quick", "--no-postgres"]))
"""


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_runner_lists_peers_and_runs_it_only_when_named() -> None:
    done = python("from benchmarks.__main__ import SUITES, OPTIONAL; print('peers' in SUITES, OPTIONAL == {'peers'})")
    assert done.stdout.split() == ["True", "True"], done.stderr


def test_without_the_extra_it_fails_naming_the_extra() -> None:
    done = python(WITHOUT_PEERS)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "pip install -e '.[peers]'" in done.stderr
    for distribution in ("Django", "django-fsm-2", "django-fsm-log", "SpiffWorkflow", "python-statemachine"):
        assert distribution in done.stderr
    assert "peers.sqlite" not in done.stdout  # nothing was measured


def test_the_peers_extra_is_separate_from_the_test_extra() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names = {requirement.split(">")[0].split("<")[0].split("[")[0] for requirement in extras["peers"]}
    assert {"Django", "django-fsm-2", "django-fsm-log", "SpiffWorkflow", "python-statemachine"} <= names
    assert not names & {requirement.split(">")[0].split("[")[0] for requirement in extras["test"]} - {"psycopg"}
