"""model_core throughput: pretraining and fine-tuning samples/s, classification pixels/s.

Runs every preset in float32 and (where the hardware has it) bf16, on random patches
shaped like trento_sim (63 HSI + 2 LiDAR bands), and prints JSON with the machine,
its measured matmul peaks, FLOPs per sample, and each figure as a fraction of the
peak and as a ratio to the reference figures of the public SS-MAE code.

    python bench/model_speed.py [--presets paper,small,tiny] [--device cpu] [--seconds 3]
"""

import argparse
from typing import Any, Dict, Optional

import numpy as np

from common import REFERENCE, clock, machine, peaks, timed_rate, write_json

import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from model_core.config import PRESETS  # noqa: E402
from model_core.device import resolve_device  # noqa: E402
from model_core.heap import reusing_freed_memory  # noqa: E402
from model_core.hooks import Hooks  # noqa: E402
from model_core.inference import TilePredictor  # noqa: E402
from model_core.masking import mrs_mask, spatial_mask  # noqa: E402
from model_core.model import SSMAE, SSMAEClassifier  # noqa: E402
from model_core.preprocessing import Normalizer  # noqa: E402
from model_core.training import (FinetunePhase, MaskingSettings, PretrainPhase, TrainSettings,  # noqa: E402
                                 TensorSamples, run_training)

N_HSI, N_AUX, N_CLASSES = 63, 2, 6
BATCH = 128
"""Training batch size of every preset (the reference trains with 64 to 128)."""


def flops(config) -> Dict[str, float]:
    """MFLOP per sample: classification as run (class token only in the last block),
    classification with every token in every block, and a pretraining step."""
    x = torch.randn(1, N_HSI + N_AUX, config.patch, config.patch)
    classifier = SSMAEClassifier(config, N_HSI, N_AUX, N_CLASSES).eval()
    with FlopCounterMode(display=False) as run, torch.no_grad():
        classifier(x)
    with FlopCounterMode(display=False) as full, torch.no_grad():
        embedded = classifier.spatial_embedding(x).flatten(1, 2) + classifier.encoder.spatial.pos
        classifier.encoder.spatial.encode(embedded)
        spectral = classifier.encoder.spectral
        spectral.encode(spectral.embed(x.flatten(2)) + spectral.pos)
        classifier.cnn_features(x)
    pretrain = SSMAE(config, N_HSI, N_AUX)
    generator = torch.Generator().manual_seed(0)
    with FlopCounterMode(display=False) as step:
        pretrain(x, spatial_mask(x, 0.3, generator), mrs_mask(x, 0.3, generator)).total.backward()
    return {"classify_mflop": run.get_total_flops() / 1e6,
            "classify_all_tokens_mflop": full.get_total_flops() / 1e6,
            "pretrain_step_mflop": step.get_total_flops() / 1e6}


def random_patches(count: int, patch: int, seed: int = 0) -> np.ndarray:
    """Smooth, correlated spectra like a real scene's (so MRS masks behave as on data)."""
    rng = np.random.default_rng(seed)
    abundances = rng.random((count, 4, patch, patch))
    endmembers = np.cumsum(rng.normal(size=(4, N_HSI + N_AUX)), axis=1) / 4
    return np.einsum("nkij,kc->ncij", abundances, endmembers).astype(np.float16)


def training_rate(config, precision: str, device: str, phase_name: str, batch: int, steps: int) -> float:
    """Samples per (CPU-)second over the second of two epochs of `steps` batches."""
    data = torch.from_numpy(random_patches(batch * steps, config.patch))
    now, stamps = clock(resolve_device(device)), []
    settings = TrainSettings(epochs=2, batch_size=batch, seed=0, device=device, precision=precision,
                             checkpoint_seconds=1e9)
    if phase_name == "pretrain":
        model, phase, targets = SSMAE(config, N_HSI, N_AUX), PretrainPhase(MaskingSettings()), None
    else:
        model = SSMAEClassifier(config, N_HSI, N_AUX, N_CLASSES)
        targets = torch.arange(data.shape[0]) % N_CLASSES
        phase = FinetunePhase(None, None, batch, resolve_device(device))
    run_training(model, phase, TensorSamples(data, targets), settings, Hooks(progress=lambda _: stamps.append(now())), {})
    return batch * steps / (stamps[-1] - stamps[steps - 1])


def classify_rate(config, precision: str, device: str, seconds: float, tile: int = 64,
                  batch_size: Optional[int] = None) -> float:
    """Pixels per (CPU-)second of TilePredictor on tile x tile tiles (batch_size None: the job's default)."""
    halo = config.patch // 2
    model = SSMAEClassifier(config, N_HSI, N_AUX, N_CLASSES)
    normalizer = Normalizer(center=np.zeros(N_HSI + N_AUX), scale=np.ones(N_HSI + N_AUX))
    predictor = TilePredictor(model, normalizer, device=device, precision=precision, batch_size=batch_size)
    data = random_patches(1, tile + 2 * halo)[0].astype(np.float32)
    valid = np.ones(data.shape[1:], dtype=bool)
    with reusing_freed_memory():  # as the classification job does
        return timed_rate(lambda: predictor(data, valid), tile * tile, seconds, predictor.device)


def measure(name: str, precision: str, device: str, seconds: float, steps: int) -> Dict[str, Any]:
    config = PRESETS[name]
    return {"pretrain_samples_per_s": training_rate(config, precision, device, "pretrain", BATCH, steps),
            "finetune_samples_per_s": training_rate(config, precision, device, "finetune", BATCH, steps),
            "classify_pixels_per_s": classify_rate(config, precision, device, seconds)}


def derived(figures: Dict[str, float], work: Dict[str, float], peak_gflops: float) -> Dict[str, float]:
    """Achieved GFLOP/s, fraction of the matmul peak, and ratios to the reference figures."""
    out = {}
    for key, per_unit in (("pretrain_samples_per_s", work["pretrain_step_mflop"]),
                          ("classify_pixels_per_s", work["classify_mflop"])):
        gflops = figures[key] * per_unit / 1e3
        out[key.replace("_per_s", "_gflops")] = round(gflops, 1)
        out[key.replace("_per_s", "_fraction_of_peak")] = round(gflops / peak_gflops, 3)
    for key in ("pretrain_samples_per_s", "finetune_samples_per_s", "classify_pixels_per_s"):
        out[key.replace("_per_s", "_vs_reference")] = round(figures[key] / REFERENCE[key], 2)
    return out


def peak_normalised(figures: Dict[str, float], measured_peaks: Dict[str, float]) -> Dict[str, float]:
    """Ratios to the reference figures on a machine of the reference's fp32 matmul peak:
    each figure is scaled by the reference's fp32 peak over this machine's, since the
    reference runs in fp32 at that peak."""
    scale = REFERENCE["fp32_matmul_gflops"] / measured_peaks["fp32_matmul_gflops"]
    return {key.replace("_per_s", "_vs_reference_peak_normalised"): round(figures[key] * scale / REFERENCE[key], 2)
            for key in ("pretrain_samples_per_s", "finetune_samples_per_s", "classify_pixels_per_s")}


def main(argv: Optional[list] = None) -> Dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="paper,small,tiny")
    parser.add_argument("--precisions", default="fp32,bf16")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seconds", type=float, default=3.0, help="timing per classification figure")
    parser.add_argument("--steps", type=int, default=8, help="training batches per timed epoch")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    measured_peaks = peaks(device)
    report: Dict[str, Any] = {"benchmark": "model_speed", "machine": machine(device), "peaks": measured_peaks,
                              "reference": REFERENCE, "presets": {}}
    for name in args.presets.split(","):
        work = flops(PRESETS[name])
        entry: Dict[str, Any] = {"mflop": {k: round(v, 1) for k, v in work.items()}}
        for precision in args.precisions.split(","):
            figures = measure(name, precision, str(device), args.seconds, args.steps)
            peak = measured_peaks["bf16_matmul_gflops" if precision == "bf16" else "fp32_matmul_gflops"]
            entry[precision] = {**{k: round(v, 1) for k, v in figures.items()},
                                **derived(figures, work, peak), **peak_normalised(figures, measured_peaks)}
        report["presets"][name] = entry
    write_json("model_speed", report)
    return report


if __name__ == "__main__":
    main()
