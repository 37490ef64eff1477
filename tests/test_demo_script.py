"""bin/demo, the script behind `make demo`, in the parts that run before any QGIS."""

import importlib.machinery
import importlib.util
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "bin" / "demo"


def _demo_module():
    loader = importlib.machinery.SourceFileLoader("mrs_demo_script", str(DEMO))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


def test_a_demonstration_stopped_while_training_starts_afresh(tmp_path, capsys):
    """A training keeps a stopped run's checkpoint until it is resumed (red team of 2026-12-05), so
    `make demo` run again after a Ctrl-C was refused; its own folder's checkpoint is removed."""
    demo = _demo_module()
    output = tmp_path / "pretrained.safetensors"
    checkpoint = tmp_path / "pretrained.checkpoint.safetensors"
    checkpoint.write_bytes(b"progress")
    assert demo.afresh(output) == output and not checkpoint.exists()
    assert "starting it afresh" in capsys.readouterr().out
    assert demo.afresh(output) == output
