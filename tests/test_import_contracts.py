"""The layer contracts (pyproject.toml, [tool.importlinter]) hold, and each one fails when its rule is broken."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-logo", "--no-cache"], cwd=root, capture_output=True, text=True,
                          timeout=120)


def test_the_checkout_keeps_every_contract():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.fixture
def tree(tmp_path) -> Path:
    """A copy of the three packages and the contracts, to break one rule in."""
    for package in ("flows", "training", "tuning"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def add_import(module: Path, line: str) -> None:
    text = module.read_text()
    head, _, rest = text.partition("from __future__ import annotations\n")
    module.write_text(f"{head}from __future__ import annotations\n{line}\n{rest}")


@pytest.mark.parametrize(("module", "line", "broken"), [
    ("flows/stages.py", "import mlflow", "Only training.tracking imports MLflow"),
    ("tuning/space.py", "from mlflow import MlflowClient", "Only training.tracking imports MLflow"),
    ("training/method/fit.py", "from training.tracking.runs import Tracker", "Pure training modules import neither"),
    ("training/method/diagnosis.py", "import mlflow", "Pure training modules import neither"),
    ("training/report/model_card.py", "from prefect import flow", "Prefect belongs to the flows"),
    ("training/data/split.py", "from tuning.space import spec_from_hp", "no arrow points up"),
    ("tuning/space.py", "from flows.tasks import connect", "no arrow points up"),
    ("training/model/spec.py", "from training.model.families import KNOBS", "No import cycle"),
    ("training/data/split.py", "from training.method.noise import row_scores", "Inside training, arrows point down"),
    ("training/serving/predict.py", "from training.config import Selection", "The served package is carried whole"),
    ("flows/stages.py", "from flows.ops.servers import reachable", "Ops are not flows"),
])
def test_breaking_a_rule_breaks_its_contract(tree, module, line, broken):
    add_import(tree / module, line)
    done = lint_imports(tree)
    assert done.returncode == 1, done.stdout + done.stderr
    report = done.stdout.split("Broken contracts")[-1]
    assert broken in report, done.stdout
    # The module that broke it is named (a cycle names it relative to its package), so the report says where.
    assert "." + Path(module).stem in report
