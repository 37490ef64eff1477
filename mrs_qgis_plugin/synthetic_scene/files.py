"""Writing the scene: GeoTIFFs on the scene grid, the training points (GeoPackage), `classes.csv`."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from osgeo import gdal, ogr, osr

from .classes import CLASSES
from .signals import HSI_NODATA, HSI_SCALE, band_centres

EPSG = 32632
ORIGIN = (661000.0, 5101000.0)
PIXEL_SIZE = 1.0
LIDAR_NODATA = -9999.0


def _srs() -> osr.SpatialReference:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def _create_geotiff(path: Path, data: np.ndarray, gdal_type: int, descriptions: list[str],
                    nodata: float | None, metadata: dict[str, str],
                    palette: gdal.ColorTable | None = None) -> gdal.Dataset:
    """Write (bands, rows, cols) `data` to a tiled, compressed GeoTIFF on the scene grid.

    A palette goes in before the data: GDAL 3.12 cannot change a GeoTIFF's photometric
    interpretation once data are written (an ERROR line, and no palette interpretation).
    Returns the open dataset so that callers can add band metadata; drop it to close.
    """
    bands, rows, cols = data.shape
    integer = gdal_type not in (gdal.GDT_Float32, gdal.GDT_Float64)
    options = ["TILED=YES", "BLOCKXSIZE=128", "BLOCKYSIZE=128", "COMPRESS=DEFLATE",
               f"PREDICTOR={2 if integer else 3}", "INTERLEAVE=BAND", "BIGTIFF=IF_SAFER"]
    ds = gdal.GetDriverByName("GTiff").Create(str(path), cols, rows, bands, gdal_type, options)
    if ds is None:
        raise OSError(f"Cannot create {path}: {gdal.GetLastErrorMsg()}")
    ds.SetGeoTransform((ORIGIN[0], PIXEL_SIZE, 0.0, ORIGIN[1], 0.0, -PIXEL_SIZE))
    ds.SetProjection(_srs().ExportToWkt())
    ds.SetMetadata(metadata)
    for i, (plane, description) in enumerate(zip(data, descriptions), start=1):
        band = ds.GetRasterBand(i)
        band.SetDescription(description)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        if palette is not None:
            band.SetRasterColorTable(palette)
            band.SetRasterColorInterpretation(gdal.GCI_PaletteIndex)
        band.WriteArray(plane)
    return ds


def _envi_list(values: np.ndarray) -> str:
    return "{" + ", ".join(f"{v:.2f}" for v in values) + "}"


def _write_hsi(path: Path, cube: np.ndarray, metadata: dict[str, str]) -> None:
    centres, fwhm = band_centres(cube.shape[0])
    descriptions = [f"b{i + 1:03d} {wl:.1f} nm" for i, wl in enumerate(centres)]
    metadata = dict(metadata, data_type="surface reflectance x 10000 (simulated)",
                    reflectance_scale_factor=str(HSI_SCALE), wavelength_units="Nanometers",
                    wavelength=_envi_list(centres), fwhm=_envi_list(np.full(centres.size, fwhm)))
    ds = _create_geotiff(path, cube, gdal.GDT_Int16, descriptions, HSI_NODATA, metadata)
    for i, wl in enumerate(centres, start=1):
        band = ds.GetRasterBand(i)
        band.SetScale(1.0 / HSI_SCALE)
        band.SetOffset(0.0)
        band.SetMetadata({"wavelength": f"{wl:.2f}", "fwhm": f"{fwhm:.2f}", "wavelength_units": "Nanometers"})
        band.SetMetadata({"CENTRAL_WAVELENGTH_UM": f"{wl / 1000:.5f}", "FWHM_UM": f"{fwhm / 1000:.5f}"}, "IMAGERY")
    ds = None


def _write_labels(path: Path, labels: np.ndarray, description: str, metadata: dict[str, str]) -> None:
    table = gdal.ColorTable()
    table.SetColorEntry(0, (0, 0, 0, 0))
    for scene_class in CLASSES:
        rgb = tuple(int(scene_class.color[i:i + 2], 16) for i in (1, 3, 5))
        table.SetColorEntry(scene_class.value, rgb + (255,))
    ds = _create_geotiff(path, labels[None], gdal.GDT_Byte, [description], 0, metadata, table)
    ds.GetRasterBand(1).SetCategoryNames(["Unlabelled"] + [k.name for k in CLASSES])
    ds = None


def _write_points(path: Path, train: np.ndarray) -> None:
    """One point per training pixel centre, classes in ascending order, pixels in row-major order."""
    if path.exists():
        path.unlink()
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    if ds is None:
        raise OSError(f"Cannot create {path}: {gdal.GetLastErrorMsg()}")
    layer = ds.CreateLayer("train_points", _srs(), ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn("class_id", ogr.OFTInteger))
    name_field = ogr.FieldDefn("class_name", ogr.OFTString)
    name_field.SetWidth(32)
    layer.CreateField(name_field)
    layer.StartTransaction()
    for scene_class in CLASSES:
        for row, col in zip(*np.nonzero(train == scene_class.value)):
            feature = ogr.Feature(layer.GetLayerDefn())
            feature.SetField("class_id", scene_class.value)
            feature.SetField("class_name", scene_class.name)
            point = ogr.Geometry(ogr.wkbPoint)
            point.AddPoint_2D(ORIGIN[0] + (col + 0.5) * PIXEL_SIZE, ORIGIN[1] - (row + 0.5) * PIXEL_SIZE)
            feature.SetGeometry(point)
            layer.CreateFeature(feature)
    layer.CommitTransaction()
    ds = None


def _write_classes_csv(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["value", "name", "color"])
        writer.writerows((k.value, k.name, k.color) for k in CLASSES)
