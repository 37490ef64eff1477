"""bf16 against fp32 classification: the share of pixels whose class agrees, with a trained model.

Fine-tunes a classifier on a benchmark scene's train.tif until its training loss is low
(bf16 autocast where the CPU has it), then classifies the whole scene twice through
`classify_job`, in fp32 and in bf16, and reports the share of pixels with the same class,
the overall accuracy of each map on test.tif, and how confident the model was where
the two disagree. Prints JSON.

    python bench/precision_agreement.py [--scene ../shared/data/trento_sim] [--preset small] [--epochs 40]
"""

import argparse
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np

from common import RESULTS, SHARED_DATA, machine, write_json

from osgeo import gdal  # noqa: E402

import torch  # noqa: E402

from model_core.hooks import Hooks  # noqa: E402
from model_core.training import TrainSettings  # noqa: E402

from accuracy import plugin  # noqa: E402
from pipeline_speed import layers_of  # noqa: E402

WORK = RESULTS / "precision_agreement"


def read(path: Path) -> np.ndarray:
    return gdal.Open(str(path)).ReadAsArray()


def main(argv: Optional[list] = None) -> Dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scene", default=str(SHARED_DATA / "trento_sim"))
    parser.add_argument("--preset", default="small")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args(argv)
    jobs, scene = plugin(), Path(args.scene).resolve()
    WORK.mkdir(parents=True, exist_ok=True)
    model = WORK / f"{scene.name}-{args.preset}-{args.epochs}.safetensors"
    lines = []
    metadata = jobs.finetune_job(layers_of(scene), jobs.LabelSource("train", raster_path=str(scene / "train.tif")),
                                 pretrained=None, preset=args.preset, val_fraction=0.0, class_weighting=True,
                                 output=str(model), hooks=Hooks(log=lines.append),
                                 settings=TrainSettings(epochs=args.epochs, batch_size=64, lr=args.lr, seed=0,
                                                        device="cpu"))
    maps = {}
    for precision in ("fp32", "bf16"):
        output = WORK / f"map-{precision}.tif"
        jobs.classify_job(str(model), layers_of(scene), output=str(output),
                          confidence=str(output.with_name(f"confidence-{precision}.tif")), tile_size=256,
                          batch_size=None, device="cpu", hooks=Hooks(), precision=precision)
        maps[precision] = (read(output), read(output.with_name(f"confidence-{precision}.tif")))
    (fp32, confidence), (bf16, _) = maps["fp32"], maps["bf16"]
    # classified pixels: the class map's no data is 0 (the confidence's, -1, is finite: a helper's audit of 2026-12-06)
    valid = (fp32 > 0) | (bf16 > 0)
    differ = valid & (fp32 != bf16)
    test = read(scene / "test.tif")
    scored = (test > 0) & valid  # as mrs:accuracy scores: the reference pixels the map classifies
    history = metadata["training"]["history"]
    report = {"benchmark": "precision_agreement", "machine": machine(torch.device("cpu")), "scene": scene.name,
              "preset": args.preset, "epochs": args.epochs, "lr": args.lr,
              "final_training_loss": round(history[-1]["loss"], 4), "first_training_loss": round(history[0]["loss"], 4),
              "pixels": int(valid.sum()), "pixels_differing": int(differ.sum()),
              "agreement": round(1 - differ.sum() / max(valid.sum(), 1), 5),
              "fp32_confidence_where_differing": sorted(round(float(c), 3) for c in confidence[differ])[:50],
              "test_oa_fp32": round(float((fp32[scored] == test[scored]).mean()), 4),
              "test_oa_bf16": round(float((bf16[scored] == test[scored]).mean()), 4)}
    write_json("precision_agreement", report)
    return report


if __name__ == "__main__":
    main()
