"""Tiny GeoTIFFs and GeoPackages for the raster pipeline tests, written with GDAL/OGR.

The default grid is 1 m pixels in UTM 32N with its top-left corner at ORIGIN, so the
centre of pixel (row, col) is (ORIGIN_X + col + 0.5, ORIGIN_Y - row - 0.5).
"""

from pathlib import Path
from typing import Sequence

import numpy as np
from osgeo import gdal, ogr, osr

UTM32 = "EPSG:32632"
ORIGIN_X, ORIGIN_Y = 664000.0, 5102000.0
GEOTRANSFORM = (ORIGIN_X, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0)


def crs_wkt(crs: str) -> str:
    """WKT of a CRS given as 'EPSG:n', a PROJ string or WKT."""
    srs = osr.SpatialReference()
    srs.SetFromUserInput(crs)
    return srs.ExportToWkt()


def pixel_centre(row: float, col: float) -> tuple[float, float]:
    """Map coordinates of a pixel centre of the default grid."""
    return ORIGIN_X + col + 0.5, ORIGIN_Y - row - 0.5


def write_raster(
    path: Path | str,
    data: np.ndarray,
    geotransform: Sequence[float] = GEOTRANSFORM,
    crs: str | None = UTM32,
    nodata: float | None = None,
    descriptions: Sequence[str] | None = None,
    band_metadata: Sequence[dict] | None = None,
    metadata: dict | None = None,
    scale: float | None = None,
    color_table: dict[int, tuple[int, int, int]] | None = None,
    category_names: Sequence[str] | None = None,
) -> str:
    """Writes data (bands, h, w) or (h, w) as a GeoTIFF of the array's data type; returns the path."""
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[None]
    gdal_type = gdal.GetDataTypeByName(
        {"float32": "Float32", "float64": "Float64", "int16": "Int16", "uint8": "Byte", "int32": "Int32", "uint16": "UInt16",
         "uint32": "UInt32"}[
            data.dtype.name
        ]
    )
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), data.shape[2], data.shape[1], data.shape[0], gdal_type)
    dataset.SetGeoTransform(tuple(geotransform))
    if crs:
        dataset.SetProjection(crs_wkt(crs))
    if metadata:
        dataset.SetMetadata(metadata)
    for index, array in enumerate(data):
        band = dataset.GetRasterBand(index + 1)
        band.WriteArray(array)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        if descriptions:
            band.SetDescription(descriptions[index])
        if band_metadata:
            band.SetMetadata(band_metadata[index])
        if scale is not None:
            band.SetScale(scale)
        if color_table:
            table = gdal.ColorTable()
            for value, rgb in color_table.items():
                table.SetColorEntry(value, (*rgb, 255))
            band.SetRasterColorTable(table)
        if category_names:
            band.SetCategoryNames(list(category_names))
    dataset.FlushCache()
    dataset = None
    return str(path)


def write_palette_style(path: Path, entries: Sequence[tuple[int, str, str]]) -> None:
    """A paletted style as QGIS saves one beside a raster: (value, label, colour) per entry."""
    palette = "".join(f"<paletteEntry value='{value}' label='{label}' color='{color}' alpha='255'/>"
                      for value, label, color in entries)
    Path(path).write_text("<qgis><pipe><rasterrenderer type='paletted' band='1'><colorPalette>"
                          f"{palette}</colorPalette></rasterrenderer></pipe></qgis>")


def write_vector(
    path: Path | str,
    features: Sequence[tuple[str, dict]],
    fields: dict[str, int],
    crs: str | None = UTM32,
    layer: str = "samples",
) -> str:
    """Writes (WKT geometry or None, attributes) features to a GeoPackage; fields maps names to OGR types."""
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = None
    if crs:
        srs = osr.SpatialReference()
        srs.SetFromUserInput(crs)
    vector = source.CreateLayer(layer, srs, ogr.wkbUnknown)
    for name, field_type in fields.items():
        vector.CreateField(ogr.FieldDefn(name, field_type))
    for wkt, attributes in features:
        feature = ogr.Feature(vector.GetLayerDefn())
        if wkt:
            feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        for name, value in attributes.items():
            if value is not None:
                feature.SetField(name, value)
        vector.CreateFeature(feature)
    source = None
    return str(path)


def add_point_layer(path: str, layer: str, field: str, value: int, x: float, y: float) -> None:
    """Adds to a GeoPackage a layer of one point (x, y) whose integer `field` holds `value`, in the CRS of its
    first layer: a file of several layers."""
    source = ogr.Open(path, 1)
    added = source.CreateLayer(layer, source.GetLayer(0).GetSpatialRef(), ogr.wkbPoint)
    added.CreateField(ogr.FieldDefn(field, ogr.OFTInteger))
    feature = ogr.Feature(added.GetLayerDefn())
    feature.SetGeometry(ogr.CreateGeometryFromWkt(point_wkt(x, y)))
    feature.SetField(field, value)
    added.CreateFeature(feature)
    source = added = feature = None


def transform_points(points: Sequence[tuple[float, float]], source: str, target: str) -> list[tuple[float, float]]:
    """Points from one CRS to another, x = easting/longitude."""
    srs = []
    for crs in (source, target):
        item = osr.SpatialReference()
        item.SetFromUserInput(crs)
        item.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        srs.append(item)
    transform = osr.CoordinateTransformation(*srs)
    return [transform.TransformPoint(x, y)[:2] for x, y in points]


def point_wkt(x: float, y: float) -> str:
    return f"POINT ({x!r} {y!r})"


def box_wkt(xmin: float, ymin: float, xmax: float, ymax: float) -> str:
    return f"POLYGON (({xmin} {ymin}, {xmax} {ymin}, {xmax} {ymax}, {xmin} {ymax}, {xmin} {ymin}))"
