"""What labelling the pixels mrs:suggest chooses gains over labelling random pixels.

On a benchmark scene of ../shared/data, per seed: a classifier is fine-tuned on 5 labelled
pixels per class drawn from train.tif as the data README's protocol draws them ("base");
then K x 5 more pixels are labelled (K classes), either those `suggest_job` chooses with
the base classifier ("suggested") or 5 more per class at random ("random"), and a
classifier is fine-tuned on the base pixels plus those. The analyst is simulated: a
suggested pixel takes its label from train.tif, so the suggestions are restricted (the
suggestion area, as polygons) to the labelled pixels of train.tif not already used.
The random draw uses the protocol's draw on the remaining train.tif pixels with the same
seed. Every arm is fine-tuned with the same settings and seed and scored on test.tif,
through the plugin's own jobs (fine-tune, suggest, classify, accuracy).

    python bench/suggest_gain.py [--scene trento_sim] [--seeds 0,1,2] [--preset small] [--epochs 200]

Prints JSON (also bench/results/suggest_gain.json). Nothing is written beside the data.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from accuracy import plugin, protocol_pixels, read_classes, write_labels
from common import RESULTS, SHARED_DATA, machine, write_json

from osgeo import gdal, ogr, osr  # noqa: E402

from model_core.device import resolve_device  # noqa: E402
from model_core.hooks import Hooks  # noqa: E402
from model_core.training import TrainSettings  # noqa: E402

ARMS = ("base", "suggested", "random")


def area_polygons(path: Path, like: Path, allowed: np.ndarray) -> str:
    """The allowed pixels as polygons (a GeoPackage) on the grid of `like`: the suggestion area."""
    source = gdal.Open(str(like))
    mask = gdal.GetDriverByName("MEM").Create("", source.RasterXSize, source.RasterYSize, 1, gdal.GDT_Byte)
    mask.SetGeoTransform(source.GetGeoTransform())
    mask.SetProjection(source.GetProjection())
    mask.GetRasterBand(1).WriteArray(allowed.astype(np.uint8))
    target = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference(wkt=source.GetProjection())
    layer = target.CreateLayer("area", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("value", ogr.OFTInteger))
    gdal.Polygonize(mask.GetRasterBand(1), mask.GetRasterBand(1), layer, 0)
    target = None
    return str(path)


def flat_pixels(rows: np.ndarray, cols: np.ndarray, width: int) -> np.ndarray:
    return rows.astype(np.int64) * width + cols.astype(np.int64)


class SeedRun:
    """One seed's three arms on one scene."""

    def __init__(self, jobs, scene: Path, args, seed: int, work: Path, log: Hooks) -> None:
        from mrs.mrs_qgis_plugin.raster.sources import RasterInput

        self.jobs, self.scene, self.args, self.seed, self.work, self.log = jobs, scene, args, seed, work, log
        self.layers = jobs.Layers(RasterInput(str(scene / "hsi.tif"), "hsi"), [RasterInput(str(scene / "aux.tif"), "aux")])
        self.classes = read_classes(scene)
        self.train = gdal.Open(str(scene / "train.tif")).ReadAsArray()

    def fit_and_score(self, name: str, pixels: np.ndarray) -> Dict[str, Any]:
        """Fine-tune on `pixels` (flat indices into train.tif) and score the map on test.tif."""
        from mrs.mrs_qgis_plugin.analysis import accuracy_job

        labels = self.work / f"labels-{name}-{self.seed}.tif"
        write_labels(labels, self.scene / "train.tif", self.train, pixels, self.classes)
        model = self.work / f"{name}-{self.seed}.safetensors"
        started = time.perf_counter()
        self.jobs.finetune_job(
            self.layers, self.jobs.LabelSource(labels.name, raster_path=str(labels)), pretrained=self.args.pretrained,
            preset=self.args.preset, val_fraction=0.0, class_weighting=True, output=str(model), hooks=self.log,
            settings=TrainSettings(epochs=self.args.epochs, batch_size=64, lr=self.args.lr, seed=self.seed,
                                   device=self.args.device, encoder_lr_scale=self.args.encoder_lr_scale))
        trained = time.perf_counter()
        class_map = self.work / f"map-{name}-{self.seed}.tif"
        self.jobs.classify_job(str(model), self.layers, output=str(class_map), confidence=None, tile_size=256,
                               batch_size=None, device=self.args.device, hooks=self.log)
        report = accuracy_job(str(class_map), "map",
                              self.jobs.LabelSource("test", raster_path=str(self.scene / "test.tif")),
                              hooks=self.log)
        values = self.train.ravel()[pixels]
        return {"model": str(model), "labels": len(pixels),
                "labels_per_class": {c["name"]: int(np.sum(values == int(c["value"]))) for c in self.classes},
                "oa": report["overall_accuracy"], "aa": report["average_accuracy"], "kappa": report["kappa"],
                "finetune_seconds": trained - started, "classify_seconds": time.perf_counter() - trained}

    def suggested(self, model: str, used: np.ndarray, count: int) -> Dict[str, Any]:
        """The pixels suggest_job chooses with the base classifier among the unused labelled pixels."""
        allowed = self.train > 0
        allowed.ravel()[used] = False
        area = area_polygons(self.work / f"area-{self.seed}.gpkg", self.scene / "train.tif", allowed)
        started = time.perf_counter()
        result = self.jobs.suggest_job(model, self.layers, count=count, min_distance=self.args.min_distance,
                                       output=str(self.work / f"suggested-{self.seed}.gpkg"), hooks=self.log,
                                       seed=self.seed, mask_path=area, mask_name="train.tif labels",
                                       device=self.args.device)
        pixels = flat_pixels(result["rows"], result["cols"], self.train.shape[1])
        assert allowed.ravel()[pixels].all(), "a suggestion outside the labelled pixels"
        return {"pixels": pixels, "seconds": time.perf_counter() - started,
                "mean_confidence": float(np.mean(result["confidence"]))}

    def random(self, used: np.ndarray, per_class: int) -> np.ndarray:
        remaining = self.train.copy()
        remaining.ravel()[used] = 0
        return protocol_pixels(remaining, per_class, self.seed)

    def run(self) -> Dict[str, Any]:
        per_class = self.args.per_class
        base_pixels = protocol_pixels(self.train, per_class, self.seed)
        base = self.fit_and_score("base", base_pixels)
        suggestion = self.suggested(base["model"], base_pixels, per_class * len(self.classes))
        record = {"seed": self.seed, "base": base,
                  "suggested": self.fit_and_score("suggested", np.concatenate([base_pixels, suggestion["pixels"]])),
                  "random": self.fit_and_score("random", np.concatenate([base_pixels,
                                                                         self.random(base_pixels, per_class)])),
                  "suggest_seconds": suggestion["seconds"], "suggested_mean_confidence": suggestion["mean_confidence"]}
        print(f"seed {self.seed}: OA base {100 * base['oa']:.2f} %, + suggested {100 * record['suggested']['oa']:.2f} %, "
              f"+ random {100 * record['random']['oa']:.2f} %", flush=True)
        return record


def summary(records: List[Dict[str, Any]]) -> Dict[str, Any]:
    def figures(values: List[float]) -> Dict[str, float]:
        return {"mean": statistics.mean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0}

    out = {arm: {metric: figures([(100 if metric != "kappa" else 1) * r[arm][metric] for r in records])
                 for metric in ("oa", "aa", "kappa")} for arm in ARMS}
    out["gain_oa_points"] = figures([100 * (r["suggested"]["oa"] - r["random"]["oa"]) for r in records])
    return out


def main(argv: Optional[list] = None) -> Dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scene", default="trento_sim")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--per-class", type=int, default=5)
    parser.add_argument("--preset", default="small")
    parser.add_argument("--pretrained", default=None, help="a pretraining model file to start every arm from")
    parser.add_argument("--epochs", type=int, default=200, help="fine-tuning epochs, fixed (no validation split)")
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--encoder-lr-scale", type=float, default=1.0)
    parser.add_argument("--min-distance", type=float, default=10.0, help="MIN_DISTANCE of the suggestions, pixels")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    jobs = plugin()
    RESULTS.mkdir(parents=True, exist_ok=True)
    log_file = open(RESULTS / "suggest_gain.log", "a")
    log = Hooks(log=lambda line: print(f"{time.strftime('%H:%M:%S')} {line}", file=log_file, flush=True))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mrs-suggest-gain-") as work:
        records = [SeedRun(jobs, SHARED_DATA / args.scene, args, int(seed), Path(work), log).run()
                   for seed in args.seeds.split(",")]
    report = {"benchmark": "suggest_gain", "machine": machine(resolve_device(args.device)),
              "settings": vars(args), "wall_seconds": time.perf_counter() - started,
              "results": summary(records), "runs": records}
    write_json("suggest_gain", report)
    return report


if __name__ == "__main__":
    main()
