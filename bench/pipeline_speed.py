"""Scene prediction through the whole pipeline: pixels per second and peak memory as scenes grow.

Writes synthetic scenes of about 0.25, 1 and 4 megapixels (100 bands + LiDAR) by
tiling one synthetic scene, trains a small classifier per preset on it, then
classifies each scene with each preset in a fresh process (classify_job: aligned
reading, tile by tile prediction, GeoTIFF writing) and records that process' pixels
per second and peak resident memory. Prints JSON.

With --scene (a benchmark scene folder of ../shared/data: hsi.tif, aux.tif, train.tif),
that scene is classified instead, with classifiers trained briefly on its train.tif.
Rates are per CPU-second of the worker process (per second on a GPU).

    python bench/pipeline_speed.py [--sides 512,1024,2048] [--presets small,tiny] [--scene DIR]
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Optional

from common import RESULTS, REFERENCE, clock, machine, peak_rss_mb, peaks, write_json

from osgeo import gdal  # noqa: E402

from model_core.device import resolve_device  # noqa: E402
from model_core.hooks import Hooks  # noqa: E402
from model_core.training import TrainSettings  # noqa: E402

from accuracy import plugin  # noqa: E402

BASE_SIDE = 512
WORK = RESULTS / "pipeline"


def tiled_copy(source: Path, target: Path, side: int) -> None:
    """A side x side raster made of copies of `source`, block by block (bounded memory)."""
    base = gdal.Open(str(source))
    width, height = base.RasterXSize, base.RasterYSize
    driver = gdal.GetDriverByName("GTiff")
    out = driver.Create(str(target), side, side, base.RasterCount, base.GetRasterBand(1).DataType,
                        ["TILED=YES", "COMPRESS=DEFLATE", "BIGTIFF=IF_SAFER"])
    out.SetGeoTransform(base.GetGeoTransform())
    out.SetProjection(base.GetProjection())
    for number in range(1, base.RasterCount + 1):
        band, copy = base.GetRasterBand(number), out.GetRasterBand(number)
        if band.GetNoDataValue() is not None:
            copy.SetNoDataValue(band.GetNoDataValue())
        copy.SetDescription(band.GetDescription())
        copy.SetMetadata(band.GetMetadata())
        copy.SetScale(band.GetScale() or 1.0)
    for row in range(0, side, height):
        for col in range(0, side, width):
            w, h = min(width, side - col), min(height, side - row)
            out.WriteRaster(col, row, w, h, base.ReadRaster(0, 0, w, h))
    out = None


def layers_of(folder: Path):
    """The scene's HSI and its auxiliary raster (lidar.tif in the synthetic scenes, aux.tif in benchmark ones)."""
    jobs = plugin()
    from mrs.mrs_qgis_plugin.raster.sources import RasterInput

    aux = folder / "lidar.tif" if (folder / "lidar.tif").exists() else folder / "aux.tif"
    return jobs.Layers(RasterInput(str(folder / "hsi.tif"), "hsi"), [RasterInput(str(aux), "aux")])


def synthetic_scenes(sides: list) -> Dict[Any, Path]:
    """Synthetic scenes of side x side pixels (100 bands + LiDAR), tiled from one; the first key, "base", has labels."""
    from mrs.mrs_qgis_plugin.synthetic_scene import write_scene

    base = write_scene(WORK / "base", width=BASE_SIDE, height=BASE_SIDE, n_bands=100, seed=0, train_per_class=20)
    scenes: Dict[Any, Path] = {"base": base.directory}
    for side in sides:
        folder = WORK / f"scene-{side}"
        folder.mkdir(exist_ok=True)
        for name in ("hsi", "lidar"):
            if not (folder / f"{name}.tif").exists():
                tiled_copy(Path(getattr(base, name)), folder / f"{name}.tif", side)
        scenes[side] = folder
    return scenes


def prepare(presets: list, sides: list, device: str, scene: Optional[Path]) -> Dict[str, Any]:
    """Scenes and one classifier per preset (trained briefly: speed does not depend on the weights)."""
    jobs = plugin()
    WORK.mkdir(parents=True, exist_ok=True)
    scenes = {"base": scene, scene.name: scene} if scene else synthetic_scenes(sides)
    base = scenes.pop("base")
    models = {}
    for preset in presets:
        path = WORK / f"classifier-{base.name}-{preset}.safetensors"
        if not path.exists():
            jobs.finetune_job(layers_of(base), jobs.LabelSource("train", raster_path=str(base / "train.tif")),
                              pretrained=None,
                              preset=preset, val_fraction=0.0, class_weighting=True, output=str(path), hooks=Hooks(),
                              settings=TrainSettings(epochs=1, batch_size=64, seed=0, device=device))
        models[preset] = path
    return {"scenes": scenes, "models": models}


def bands(folder: Path) -> int:
    return sum(gdal.Open(str(source.path)).RasterCount for source in (layers_of(folder).hsi, *layers_of(folder).aux))


def worker(model: str, scene: str, device: str, tile_size: int, batch_size: int) -> Dict[str, Any]:
    """One classification in this process: its speed and this process' peak memory."""
    jobs = plugin()
    output = WORK / f"map-{Path(scene).name}-{Path(model).stem}.tif"
    now = clock(resolve_device(device))
    started, wall = now(), time.perf_counter()
    summary = jobs.classify_job(model, layers_of(Path(scene)), output=str(output),
                                confidence=str(output.with_name(output.stem + "-conf.tif")),
                                tile_size=tile_size, batch_size=batch_size, device=device, hooks=Hooks())
    seconds, wall = now() - started, time.perf_counter() - wall
    pixels = summary["classified_pixels"] + summary["nodata_pixels"]
    return {"pixels": pixels, "seconds": round(seconds, 2), "wall_seconds": round(wall, 2),
            "pixels_per_s": round(pixels / seconds, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1)}


def main(argv: Optional[list] = None) -> Dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", default="512,1024,2048")
    parser.add_argument("--presets", default="paper,small,tiny")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--tile-size", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=None, help="default: chosen from the model")
    parser.add_argument("--scene", default=None, help="a benchmark scene folder instead of the synthetic scenes")
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "SCENE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker, args.device, args.tile_size, args.batch_size)))
        return {}
    sides = sorted(int(s) for s in args.sides.split(","))  # the growth is from the smallest to the largest
    presets = args.presets.split(",")
    device = resolve_device(args.device)
    prepared = prepare(presets, sides, str(device), Path(args.scene).resolve() if args.scene else None)
    sides = list(prepared["scenes"])
    report: Dict[str, Any] = {"benchmark": "pipeline_speed", "machine": machine(device), "peaks": peaks(device),
                              "reference": REFERENCE, "bands": bands(prepared["scenes"][sides[0]]), "tile_size": args.tile_size,
                              "batch_size": args.batch_size, "presets": {}}
    for preset in presets:
        runs = {}
        for side in sides:
            command = [sys.executable, __file__, "--worker", str(prepared["models"][preset]),
                       str(prepared["scenes"][side]), "--device", args.device, "--tile-size", str(args.tile_size)]
            if args.batch_size:
                command += ["--batch-size", str(args.batch_size)]
            result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
            name = f"{side}x{side}" if isinstance(side, int) else side
            runs[name] = {"megapixels": round(result["pixels"] / 1e6, 2), **result}
            print(f"{preset} {name}: {result}", flush=True)
        memories = [run["peak_rss_mb"] for run in runs.values()]
        report["presets"][preset] = {"runs": runs,
                                     "peak_memory_growth_smallest_to_largest": round(memories[-1] / memories[0] - 1, 3)}
    write_json("pipeline_speed", report)
    return report


if __name__ == "__main__":
    main()
