"""The QGIS dialogs' widgets hold every parameter's default and bounds (a QGIS with a GUI, in a subprocess)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_provider import ALGORITHM_IDS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def widgets(tmp_path_factory) -> list:
    """What `dialog_widgets.py` reports: one entry per parameter and value given to its widget."""
    imports = tmp_path_factory.mktemp("imports")
    (imports / "mrs").symlink_to(ROOT, target_is_directory=True)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "PYTHONPATH": os.pathsep.join([str(imports), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "dialog_widgets.py")], env=env, cwd=imports,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_widget_gives_back_the_default_and_bounds_it_is_given_and_the_algorithm_accepts_them(widgets):
    # A seed declared up to 2**32 - 1 once wrapped round to a spin box of -2**31 to -2**31:
    # every dialog with a SEED refused to run ("Wrong or missing parameter value: Random seed").
    refused = [entry for entry in widgets if not entry["accepted"] or entry["number_changed"]]
    assert refused == []


def test_the_check_covers_every_algorithm_and_every_number(widgets):
    checked = {(entry["algorithm"], entry["parameter"]) for entry in widgets}
    # mrs:accuracy's parameters are layers and fields, without defaults or bounds to give.
    assert {algorithm for algorithm, _ in checked} == set(ALGORITHM_IDS) - {"mrs:accuracy"}
    assert {("mrs:pretrain", name) for name in ("SEED", "EPOCHS", "LEARNING_RATE", "SPECTRAL_RATIO", "SAMPLES")} <= checked
    seeds = [entry["shown"] for entry in widgets if entry["parameter"] == "SEED" and entry["algorithm"] == "mrs:finetune"]
    assert seeds == ["0", "0", "2147483647"]
