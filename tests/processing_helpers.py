"""What the tests that run the MRS algorithms through Processing share: a small
synthetic scene, quick training settings, the provider for a whole module, and
feedback objects that record the log or cancel part-way."""

import contextlib
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import numpy as np
import pytest
import torch
from qgis.core import QgsApplication, QgsProcessingFeedback

from mrs.mrs_qgis_plugin.synthetic_scene import ScenePaths, write_scene

SAMPLES_AND_LABELS = ("Give either SAMPLES (with CLASS_FIELD) or LABELS, not both; to use both, burn the features of "
                      "SAMPLES by a field of whole class values into a copy of the LABELS raster made with its side "
                      "files, such as its .aux.xml of class names (Processing Toolbox > GDAL > Vector conversion > "
                      "Rasterize (overwrite with attribute)), and give that copy as LABELS.")
"""The refusal of SAMPLES beside LABELS, with the way to use both (a desktop helper's red team of 2026-12-06)."""

# 48 x 48 pixels, 20 HSI bands, a 2-band LiDAR raster, 8 training pixels per class (7 classes).
SCENE = dict(width=48, height=48, n_bands=20, seed=1, train_per_class=8)
N_HSI, N_AUX = 20, 2
# Seconds on a CPU; a fine-tuning learning rate high enough to learn something in a few epochs.
QUICK_PRETRAIN = {"PRESET": "tiny", "SAMPLES": 300, "EPOCHS": 2, "BATCH_SIZE": 32, "LEARNING_RATE": 0.001}
QUICK_FINETUNE = {"PRESET": "tiny", "EPOCHS": 8, "BATCH_SIZE": 32, "LEARNING_RATE": 0.003}


def write_test_scene(folder: Path) -> ScenePaths:
    return write_scene(folder, **SCENE)


def scene_layers(scene: ScenePaths) -> Dict[str, Any]:
    return {"INPUT_HSI": str(scene.hsi), "INPUT_AUX": [str(scene.lidar)]}


# One torch thread: on a busy machine (CI, other jobs) threads that wait for each
# other's cores make these small runs many times slower.
ONE_THREAD = {"OMP_NUM_THREADS": "1"}


@contextlib.contextmanager
def algorithms_ready() -> Iterator[None]:
    """The MRS provider in the Processing registry and one torch thread while the block runs
    (for module fixtures; the `provider` fixture of conftest registers it for one test)."""
    from mrs.mrs_qgis_plugin.provider import MrsProvider

    registry = QgsApplication.processingRegistry()
    provider = MrsProvider()
    assert registry.addProvider(provider)
    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in ONE_THREAD.items():
            patch.setenv(name, value)
        try:
            yield
        finally:
            registry.removeProvider(provider)
            torch.set_num_threads(threads)


class RecordingFeedback(QgsProcessingFeedback):
    """Keeps the log lines, error messages, progress texts and progress values an algorithm reports."""

    def __init__(self) -> None:
        super().__init__()
        self.infos = []
        self.warnings = []
        self.errors = []
        self.texts = []
        self.percents = []

    def setProgressText(self, text: str) -> None:  # noqa: N802 - QGIS API name
        self.texts.append(text)

    def setProgress(self, progress: float) -> None:  # noqa: N802 - QGIS API name
        super().setProgress(progress)
        self.percents.append(progress)

    def pushInfo(self, info: str) -> None:  # noqa: N802 - QGIS API name
        self.infos.append(info)

    def pushWarning(self, warning: str) -> None:  # noqa: N802 - QGIS API name
        self.warnings.append(warning)

    def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802 - QGIS API name
        self.errors.append(error)

    def log_with(self, start: str) -> list:
        return [line for line in self.infos if line.startswith(start)]


class CancelingFeedback(RecordingFeedback):
    """Is canceled as soon as the progress reaches `at` percent, as if the user pressed Cancel then."""

    def __init__(self, at: float) -> None:
        super().__init__()
        self.at = at

    def setProgress(self, progress: float) -> None:  # noqa: N802 - QGIS API name
        super().setProgress(progress)
        if progress >= self.at:
            self.cancel()


def run(algorithm: Any, parameters: Dict[str, Any], feedback: Optional[QgsProcessingFeedback] = None) -> Dict[str, Any]:
    import processing

    return processing.run(algorithm, parameters, feedback=feedback or RecordingFeedback())


def run_and_load(algorithm: Any, parameters: Dict[str, Any], feedback: Optional[QgsProcessingFeedback] = None):
    """Run as the Toolbox does with "Open output file after running": outputs are loaded into the project."""
    import processing

    return processing.runAndLoadResults(algorithm, parameters, feedback=feedback or RecordingFeedback())


def overall_accuracy(class_map: np.ndarray, reference: np.ndarray) -> float:
    """Share of the labelled reference pixels (> 0) that the map gives the same class."""
    labelled = reference > 0
    return float(np.mean(class_map[labelled] == reference[labelled]))


def accuracy_by_offset(class_map: np.ndarray, reference: np.ndarray, reach: int) -> Dict[Tuple[int, int], float]:
    """Overall accuracy of the map moved by (rows, cols) pixels, for every offset within `reach`,
    each on the same reference pixels (a border of `reach` left out)."""
    height, width = reference.shape
    core = reference[reach:height - reach, reach:width - reach]
    return {(dy, dx): overall_accuracy(class_map[reach + dy:height - reach + dy, reach + dx:width - reach + dx], core)
            for dy in range(-reach, reach + 1) for dx in range(-reach, reach + 1)}


def swapped_pairs(class_map: np.ndarray, reference: np.ndarray) -> List[Tuple[int, int]]:
    """The class pairs (a, b) whose producer's accuracies would rise if the map swapped them:
    the reference's a-pixels mapped as b plus its b-pixels mapped as a outweigh each class's own."""
    classes = [int(value) for value in np.unique(reference) if value > 0]
    recall = {(a, b): float(np.mean(class_map[reference == a] == b)) for a in classes for b in classes}
    return [(a, b) for a in classes for b in classes if a < b
            and recall[a, b] + recall[b, a] >= recall[a, a] + recall[b, b]]


def folder_state(folder: Path) -> dict:
    """Every file under a folder (hidden ones too) with its size, time and mode."""
    return {str(path): (path.stat().st_size, path.stat().st_mtime_ns, path.stat().st_mode)
            for path in folder.rglob("*")}
