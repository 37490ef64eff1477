"""Peak memory of pretraining as SAMPLES grows: patches streamed from the rasters.

Writes one synthetic scene (600 x 600 pixels, 100 bands + LiDAR, the size of the
report in issue #11), then runs `pretrain_job` in a fresh process per SAMPLES value,
cancels it after a few training batches and records that process' peak resident
memory (VmHWM) before training and after the batches, the seconds until training started and the streamed samples per
second. Prints JSON. `--root` runs another checkout's code on the same scene (the
figures before a change).

    python bench/pretrain_memory.py [--samples 10000,100000,1000000000] [--preset paper]
"""

import argparse
import hashlib
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Optional

from common import RESULTS, ROOT, machine, peak_rss_mb, write_json

import torch  # noqa: E402

WORK = RESULTS / "pretrain_memory"
SIDE = 600


def jobs_of(root: Path):
    """The jobs module of the checkout at `root`, imported as the package `mrs` (as QGIS does)."""
    folder = Path(tempfile.gettempdir()) / f"mrs-bench-{hashlib.md5(str(root).encode()).hexdigest()[:8]}"
    folder.mkdir(exist_ok=True)
    if not (folder / "mrs").exists():
        os.symlink(root, folder / "mrs")
    sys.path.insert(0, str(folder))
    return importlib.import_module("mrs.mrs_qgis_plugin.jobs")


def worker(root: Path, samples: int, preset: str, batches: int, device: str) -> Dict[str, Any]:
    """One pretraining in this process, canceled after `batches` training batches."""
    jobs = jobs_of(root)
    from mrs.model_core.errors import Canceled
    from mrs.model_core.hooks import Hooks
    from mrs.model_core.training import MaskingSettings, TrainSettings
    from mrs.mrs_qgis_plugin.raster.sources import RasterInput

    lines, marks = [], {}

    def log(line: str) -> None:
        lines.append(line)
        if line.startswith("Pretraining:"):
            marks["training"], marks["peak_before"] = time.perf_counter(), peak_rss_mb()

    def progress(_fraction: float) -> None:
        if "training" in marks:
            marks["batches"] = marks.get("batches", -1) + 1  # the first call follows the first batch
            marks.setdefault("first", time.perf_counter())

    layers = jobs.Layers(RasterInput(str(WORK / "scene" / "hsi.tif"), "hsi"),
                         [RasterInput(str(WORK / "scene" / "lidar.tif"), "lidar")])
    settings = TrainSettings(epochs=1, batch_size=128, seed=0, device=device, checkpoint_seconds=1e9)
    hooks = Hooks(progress=progress, log=log, is_canceled=lambda: marks.get("batches", -1) >= batches)
    started = time.perf_counter()
    try:
        jobs.pretrain_job(layers, preset=preset, masking=MaskingSettings(), samples=samples, settings=settings,
                          output=str(WORK / f"model-{os.getpid()}.safetensors"), hooks=hooks)
    except Canceled:
        pass
    timed = batches * settings.batch_size
    return {"samples": samples, "peak_rss_mb_before_training": round(marks["peak_before"], 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "seconds_to_training": round(marks["training"] - started, 2),
            "samples_per_s_after_first_batch": round(timed / (time.perf_counter() - marks["first"]), 1),
            "log": [line for line in lines if line.startswith(("Pretraining:", "SAMPLES", "Only"))]}


def main(argv: Optional[list] = None) -> Dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", default="10000,100000,1000000000")
    parser.add_argument("--preset", default="paper")
    parser.add_argument("--batches", type=int, default=3, help="training batches timed after the first")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--root", default=str(ROOT), help="the checkout whose code runs")
    parser.add_argument("--name", default="pretrain_memory")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    if args.worker is not None:
        print(json.dumps(worker(root, args.worker, args.preset, args.batches, args.device)))
        return {}
    if not (WORK / "scene" / "hsi.tif").exists():
        jobs_of(ROOT)
        from mrs.mrs_qgis_plugin.synthetic_scene import write_scene
        write_scene(WORK / "scene", width=SIDE, height=SIDE, n_bands=100, seed=0)
    runs = []
    for samples in (int(s) for s in args.samples.split(",")):
        command = [sys.executable, __file__, "--worker", str(samples), "--preset", args.preset, "--root", str(root),
                   "--batches", str(args.batches), "--device", args.device]
        result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
        print(json.dumps(result), flush=True)
        runs.append(result)
    report = {"benchmark": "pretrain_memory", "machine": machine(torch.device(args.device)), "root": str(root),
              "scene": f"{SIDE} x {SIDE} pixels, 100 bands + LiDAR (synthetic)", "preset": args.preset,
              "runs": runs}
    write_json(args.name, report)
    return report


if __name__ == "__main__":
    main()
