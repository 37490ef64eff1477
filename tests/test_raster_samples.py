import math
import re

import numpy as np
import pytest
from osgeo import gdal, ogr, osr
from rasters import (ORIGIN_X, ORIGIN_Y, UTM32, add_point_layer, box_wkt, pixel_centre, point_wkt, transform_points,
                     write_raster, write_vector)

from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin.raster.classes import ClassInfo
from mrs.mrs_qgis_plugin.raster.colours import default_colors
from mrs.mrs_qgis_plugin.raster.label_raster import labels_from_raster
from mrs.mrs_qgis_plugin.raster.labels import LabelledPixels, check_trainable, nodata_layers, stratified_split
from mrs.mrs_qgis_plugin.raster.patches import cut_patches
from mrs.mrs_qgis_plugin.raster.samples import random_valid_positions
from mrs.mrs_qgis_plugin.raster.grid import Window
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene
from mrs.mrs_qgis_plugin.raster.vector_labels import labels_from_vector, mask_rasterizer

HEIGHT, WIDTH = 12, 16
INT_FIELDS = {"class": ogr.OFTInteger, "label": ogr.OFTString}


@pytest.fixture
def scene(tmp_path):
    """A 3-band HSI whose band 0 holds the flat pixel index; pixel (row 11, col 15) is nodata."""
    index = np.arange(HEIGHT * WIDTH, dtype=np.float32).reshape(HEIGHT, WIDTH)
    data = np.stack([index, index + 0.5, -index])
    data[:, 11, 15] = -9999
    hsi = write_raster(tmp_path / "hsi.tif", data, nodata=-9999)
    with Scene.open(RasterInput(hsi, "hsi"), []) as opened:
        yield opened


def _logger():
    lines = []
    return lines, Hooks(log=lines.append)


def _points(tmp_path, cells_and_classes, fields=INT_FIELDS, crs=UTM32, name="points.gpkg", jitter=(0.3, -0.2)):
    coordinates = [pixel_centre(row + jitter[1], col + jitter[0]) for (row, col), _ in cells_and_classes]
    if crs != UTM32:
        coordinates = transform_points(coordinates, UTM32, crs)
    features = [(point_wkt(x, y), attributes) for (x, y), (_, attributes) in zip(coordinates, cells_and_classes)]
    return write_vector(tmp_path / name, features, fields, crs=crs)


def _pixels(labels):
    return list(zip(labels.rows.tolist(), labels.cols.tolist(), labels.values.tolist()))


POINTS = [((1, 2), {"class": 2}), ((0, 5), {"class": 1}), ((7, 3), {"class": 2}), ((4, 9), {"class": 1})]


def test_points_take_the_pixel_they_fall_in_sorted_row_major(tmp_path, scene):
    path = _points(tmp_path, POINTS)
    labels = labels_from_vector(scene, path, None, "class", None, "points")
    assert _pixels(labels) == [(0, 5, 1), (1, 2, 2), (4, 9, 1), (7, 3, 2)]
    assert [(c.value, c.name) for c in labels.classes] == [(1, "1"), (2, "2")]
    assert labels.counts() == {1: 2, 2: 2}
    assert all(c.color.startswith("#") and len(c.color) == 7 for c in labels.classes)
    assert labels.rows.dtype == labels.cols.dtype == labels.values.dtype == np.int64


def test_points_in_another_crs_are_reprojected(tmp_path, scene):
    path = _points(tmp_path, POINTS, crs="EPSG:4326")
    lines, hooks = _logger()
    labels = labels_from_vector(scene, path, None, "class", None, "points", hooks)
    assert _pixels(labels) == [(0, 5, 1), (1, 2, 2), (4, 9, 1), (7, 3, 2)]
    assert any("reprojected from EPSG:4326 to EPSG:32632" in line for line in lines)


def test_polygons_take_the_pixels_whose_centre_is_inside(tmp_path, scene):
    features = [
        (box_wkt(ORIGIN_X + 2.2, ORIGIN_Y - 4.9, ORIGIN_X + 5.8, ORIGIN_Y - 1.6), {"class": 3}),
        (f"POLYGON (({ORIGIN_X + 8} {ORIGIN_Y - 6}, {ORIGIN_X + 14.25} {ORIGIN_Y - 6}, {ORIGIN_X + 8} {ORIGIN_Y - 12.25}, {ORIGIN_X + 8} {ORIGIN_Y - 6}))", {"class": 5}),
    ]
    path = write_vector(tmp_path / "polygons.gpkg", features, INT_FIELDS)
    expected = {(r, c, 3) for r in (2, 3, 4) for c in (2, 3, 4, 5)}
    expected |= {(r, c, 5) for r in range(6, 12) for c in range(8, 14) if (c + 0.5 - 8) + (r + 0.5 - 6) < 6.25}
    for tile_size in (256, 4):
        labels = labels_from_vector(scene, path, None, "class", None, "polygons", tile_size=tile_size)
        assert set(_pixels(labels)) == expected
        assert _pixels(labels) == sorted(expected)



def test_lines_take_every_pixel_they_cross_and_say_so(tmp_path, scene):
    """A helper's red team of 2026-12-05: a line of 10 pixels gave 10 samples without a word, where the
    help speaks of points and polygons."""
    line = f"LINESTRING ({ORIGIN_X + 0.5} {ORIGIN_Y - 3.5}, {ORIGIN_X + 9.5} {ORIGIN_Y - 3.5})"
    path = write_vector(tmp_path / "lines.gpkg", [(line, {"class": 4}), (point_wkt(*pixel_centre(8, 8)), {"class": 1})],
                        INT_FIELDS)
    lines, hooks = _logger()
    labels = labels_from_vector(scene, path, None, "class", None, "lines", hooks)
    assert _pixels(labels) == [(3, c, 4) for c in range(10)] + [(8, 8, 1)]
    assert "1 of the 2 features of 'lines' is a line: every pixel it crosses is a sample." in lines


def test_lines_along_pixel_edges_take_the_pixels_beside_them(tmp_path, scene):
    """A helper's red team of 2026-12-05: a line along a pixel edge (as 'Polygons to lines' makes of a
    polygonised raster) gave no pixel, said to be 'smaller than a pixel', and GDAL burnt a line along
    the grid's far edges into the pixels beyond it (a review of 2026-12-05)."""
    features = [(f"LINESTRING ({ORIGIN_X + 1.5} {ORIGIN_Y - 4}, {ORIGIN_X + 5.5} {ORIGIN_Y - 4})", {"class": 1}),
                (f"LINESTRING ({ORIGIN_X} {ORIGIN_Y - 6.5}, {ORIGIN_X} {ORIGIN_Y - 8.5})", {"class": 2}),
                (f"LINESTRING ({ORIGIN_X + WIDTH} {ORIGIN_Y - 1.5}, {ORIGIN_X + WIDTH} {ORIGIN_Y - 2.5})",
                 {"class": 3}),
                (f"LINESTRING ({ORIGIN_X + 8.5} {ORIGIN_Y - HEIGHT}, {ORIGIN_X + 9.5} {ORIGIN_Y - HEIGHT})",
                 {"class": 4})]
    lines, hooks = _logger()
    labels = labels_from_vector(scene, write_vector(tmp_path / "edges.gpkg", features, INT_FIELDS), None, "class",
                                None, "edges", hooks)
    assert _pixels(labels) == sorted([(row, col, 1) for row in (3, 4) for col in range(1, 6)]
                                     + [(6, 0, 2), (7, 0, 2), (8, 0, 2), (1, WIDTH - 1, 3), (2, WIDTH - 1, 3),
                                        (HEIGHT - 1, 8, 4), (HEIGHT - 1, 9, 4)])
    assert not any("pixel centre" in line for line in lines), lines


@pytest.mark.parametrize("start, end, count", [
    ((2.3, 2.1), (12.7, 7.9), 16),  # fractional ends: 5 of the 16 pixels were left out
    ((1, 1), (6, 6), 5),  # through pixel corners: the pixels touched at a corner were taken (a review)
    ((1, 6), (6, 1), 5),
    ((0.5, 3.5), (4, 3.5), 4),  # ending on a pixel edge: the pixel beyond was taken
    ((6, 6), (6, 9.5), 8),  # along a pixel edge: the pixels on both sides
])
def test_a_line_takes_exactly_the_pixels_it_runs_through_or_along(tmp_path, scene, start, end, count):
    """A helper's red team of 2026-12-05: GDAL's default burning stepped along a line a pixel at a time,
    leaving out 5 of the 16 pixels a line crossed and taking pixels it did not touch; with ALL_TOUCHED
    it took the pixels a line touched at a corner or an end (a review of 2026-12-05)."""
    wkt = f"LINESTRING ({ORIGIN_X + start[0]} {ORIGIN_Y - start[1]}, {ORIGIN_X + end[0]} {ORIGIN_Y - end[1]})"
    labels = labels_from_vector(scene, write_vector(tmp_path / "line.gpkg", [(wkt, {"class": 1})], INT_FIELDS),
                                None, "class", None, "line")
    line = ogr.CreateGeometryFromWkt(wkt)
    crossed = set()
    for row in range(HEIGHT):
        for col in range(WIDTH):
            pixel = ogr.CreateGeometryFromWkt(box_wkt(ORIGIN_X + col, ORIGIN_Y - row - 1, ORIGIN_X + col + 1,
                                                      ORIGIN_Y - row))
            if pixel.Intersection(line).Length() > 1e-9:
                crossed.add((row, col))
    assert len(crossed) == count and set(zip(labels.rows.tolist(), labels.cols.tolist())) == crossed


@pytest.mark.parametrize("size, turn", [(0.3, 0.0), (0.3, 30.0), (30.0, 30.0)])
def test_a_diagonal_through_pixel_corners_takes_the_diagonal_s_pixels_on_any_grid(tmp_path, size, turn):
    """A helper's red team of 2026-12-05: measured in map units at UTM coordinates, a line through
    pixel corners took pixels it touched at a corner on 0.3 m pixels and on a rotated grid."""
    c, s = size * math.cos(math.radians(turn)), size * math.sin(math.radians(turn))
    geotransform = (ORIGIN_X, c, s, ORIGIN_Y, s, -c)
    hsi = write_raster(tmp_path / "grid.tif", np.ones((3, 20, 20), np.float32), geotransform)
    ends = [gdal.ApplyGeoTransform(geotransform, float(k), float(k)) for k in (0, 20)]
    wkt = f"LINESTRING ({ends[0][0]} {ends[0][1]}, {ends[1][0]} {ends[1][1]})"
    with Scene.open(RasterInput(hsi, "grid"), []) as grid:
        labels = labels_from_vector(grid, write_vector(tmp_path / "diagonal.gpkg", [(wkt, {"class": 1})], INT_FIELDS),
                                    None, "class", None, "diagonal")
    assert _pixels(labels) == [(k, k, 1) for k in range(20)]


def test_a_line_along_a_pixel_edge_of_a_fine_grid_takes_both_sides_and_one_touching_the_grid_none(tmp_path):
    """A review of 2026-12-05: on 0.1 m pixels GDAL rounded a line on a row edge to one side, and the
    other side's pixels were not offered; a line ending on the grid's edge from outside took a pixel."""
    geotransform = (ORIGIN_X, 0.1, 0.0, ORIGIN_Y, 0.0, -0.1)
    hsi = write_raster(tmp_path / "fine.tif", np.ones((3, 40, 40), np.float32), geotransform)
    features = [(f"LINESTRING ({ORIGIN_X + 0.25} {ORIGIN_Y - 0.3}, {ORIGIN_X + 3.05} {ORIGIN_Y - 0.3})", {"class": 1}),
                (f"LINESTRING ({ORIGIN_X - 3} {ORIGIN_Y - 0.55}, {ORIGIN_X} {ORIGIN_Y - 0.55})", {"class": 2}),
                (point_wkt(ORIGIN_X + 3.95, ORIGIN_Y - 3.95), {"class": 2})]
    with Scene.open(RasterInput(hsi, "fine"), []) as grid:
        labels = labels_from_vector(grid, write_vector(tmp_path / "edge.gpkg", features, INT_FIELDS), None, "class",
                                    None, "edge")
    assert _pixels(labels) == sorted([(row, col, 1) for row in (2, 3) for col in range(2, 31)] + [(39, 39, 2)])


def test_lines_and_curves_leaving_and_reentering_the_grid_take_the_pixels_they_cross_inside_it(tmp_path, scene):
    """A helper's coverage round of 2026-12-06: no test gave a line whose clipping to the grid leaves
    several parts, nor a curve. A U-shaped line out over the top edge and back, a MultiLineString with
    parts out over the right and bottom edges and one wholly outside, an arc over the top right corner
    and a compound curve whose arc lies west of the grid take exactly the pixels they cross inside it
    (those a pixel-by-pixel intersection finds; the clipping makes curves straight), and the parts outside
    are said to be left out."""

    def at(col: float, row: float) -> str:
        return f"{ORIGIN_X + col} {ORIGIN_Y - row}"

    features = [
        (f"LINESTRING ({at(3.3, 5.5)}, {at(3.3, -2)}, {at(9.7, -2)}, {at(9.7, 5.5)})", {"class": 1}),
        (f"MULTILINESTRING (({at(12.5, 8.5)}, {at(20, 8.5)}), ({at(1.5, 10.5)}, {at(1.5, 20)}, {at(6.5, 20)}, "
         f"{at(6.5, 10.5)}), ({at(-5, 1)}, {at(-3, 1)}))", {"class": 2}),
        (f"CIRCULARSTRING ({at(11.5, 3.5)}, {at(13.5, -1.5)}, {at(15.5, 3.5)})", {"class": 3}),
        (f"COMPOUNDCURVE (({at(0.5, 7.5)}, {at(-2.5, 7.5)}), CIRCULARSTRING ({at(-2.5, 7.5)}, {at(-4.5, 5.5)}, "
         f"{at(-2.5, 3.5)}), ({at(-2.5, 3.5)}, {at(2.5, 3.5)}))", {"class": 4}),
    ]
    lines, hooks = _logger()
    labels = labels_from_vector(scene, write_vector(tmp_path / "lines.gpkg", features, INT_FIELDS), None, "class",
                                None, "lines", hooks)
    expected = ([(row, col, 1) for row in range(6) for col in (3, 9)]
                + [(8, col, 2) for col in range(12, WIDTH)] + [(row, col, 2) for row in (10, 11) for col in (1, 6)]
                + [(0, 10, 3), (1, 10, 3), (2, 10, 3), (2, 11, 3), (2, 15, 3), (3, 11, 3), (3, 15, 3)]
                + [(3, 0, 4), (3, 1, 4), (3, 2, 4), (7, 0, 4)])
    assert _pixels(labels) == sorted(expected)
    crossed = set()
    for wkt, attributes in features:
        line = ogr.CreateGeometryFromWkt(wkt).GetLinearGeometry()
        for row in range(HEIGHT):
            for col in range(WIDTH):
                pixel = ogr.CreateGeometryFromWkt(box_wkt(ORIGIN_X + col, ORIGIN_Y - row - 1, ORIGIN_X + col + 1,
                                                          ORIGIN_Y - row))
                if pixel.Intersection(line).Length() > 1e-9:
                    crossed.add((row, col, attributes["class"]))
    assert set(expected) == crossed
    assert "4 of the 4 features of 'lines' reach beyond the hyperspectral layer 'hsi'; their parts outside it are " \
           "left out." in lines


def sparse_raster(folder) -> str:
    """A sparse tiled GeoTIFF of 64 x 64 pixels in blocks of 16, 3 bands, with data in one block only (rows 16-31,
    columns 32-47) and nodata -9999 elsewhere."""
    path = str(folder / "sparse.tif")
    dataset = gdal.GetDriverByName("GTiff").Create(path, 64, 64, 3, gdal.GDT_Float32, options=[
        "TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", "SPARSE_OK=TRUE"])
    dataset.SetGeoTransform((ORIGIN_X, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0))
    for band in range(1, 4):
        dataset.GetRasterBand(band).SetNoDataValue(-9999)
        dataset.GetRasterBand(band).WriteArray(np.full((16, 16), band, np.float32), 32, 16)
    dataset = None
    return path


def test_pretraining_positions_pass_over_the_blocks_a_sparse_scene_holds_no_data_in(tmp_path, monkeypatch):
    """A helper's red team of 2026-12-05: a sparse scene of 12,000 x 12,000 pixels with data in four
    patches was read block by block for 80 s before pretraining, unsaid (the statistics skip them)."""
    path = sparse_raster(tmp_path)
    reads = []
    with Scene.open(RasterInput(path, "sparse"), []) as sparse:
        monkeypatch.setattr(sparse, "read", lambda *args, **kwargs: reads.append(args) or Scene.read(sparse, *args,
                                                                                                     **kwargs))
        rows, cols = random_valid_positions(sparse, 50, 0, tile_size=16)
    assert len(reads) == 1 and len(rows) == 50
    assert rows.min() >= 16 and rows.max() < 32 and cols.min() >= 32 and cols.max() < 48


def test_a_line_of_no_length_takes_the_pixel_it_lies_in_as_a_point_does(tmp_path, scene):
    """A line digitised by a double click (its vertices on one spot, here on a pixel centre and inside
    a pixel) gave no pixel and was said to be 'smaller than a pixel' (own bad input of 2026-12-05)."""
    (x, y), (u, v) = pixel_centre(2, 3), pixel_centre(5, 7.2)
    features = [(f"LINESTRING ({x} {y}, {x} {y})", {"class": 1}),
                (f"MULTILINESTRING (({u} {v}, {u} {v}, {u} {v}))", {"class": 2})]
    lines, hooks = _logger()
    labels = labels_from_vector(scene, write_vector(tmp_path / "dots.gpkg", features, INT_FIELDS), None, "class",
                                None, "dots", hooks)
    assert _pixels(labels) == [(2, 3, 1), (5, 7, 2)]
    assert not any("pixel centre" in line for line in lines), lines


def test_a_collection_of_a_point_a_line_and_a_polygon_takes_the_pixels_of_each(tmp_path, scene):
    """A review of 2026-12-05: a collection's points went with its lines, whose pixels are kept only
    where a segment runs through them, and were lost."""
    x, y = pixel_centre(1, 1)
    collection = (f"GEOMETRYCOLLECTION (POINT ({x} {y}), LINESTRING ({ORIGIN_X + 4.5} {ORIGIN_Y - 1.5}, "
                  f"{ORIGIN_X + 6.5} {ORIGIN_Y - 1.5}), {box_wkt(ORIGIN_X + 9, ORIGIN_Y - 3, ORIGIN_X + 10, ORIGIN_Y - 2)})")
    labels = labels_from_vector(scene, write_vector(tmp_path / "mixed.gpkg", [(collection, {"class": 1})], INT_FIELDS),
                                None, "class", None, "mixed")
    assert _pixels(labels) == [(1, 1, 1), (1, 4, 1), (1, 5, 1), (1, 6, 1), (2, 9, 1)]


def test_reading_many_features_reports_progress_and_stops_on_cancel(tmp_path, scene):
    """A helper's red team of 2026-12-05: 20,000 polygons were read for 12 s at 0 %, and Cancel
    waited for the end."""
    from mrs.model_core.errors import Canceled
    from mrs.mrs_qgis_plugin.raster.vector_labels import FEATURES_PER_CHECK

    count = 4 * FEATURES_PER_CHECK
    path = write_vector(tmp_path / "many.gpkg", [(point_wkt(*pixel_centre(n % 10, n // 10 % 10)), {"class": 1 + n % 2})
                                                 for n in range(count)], INT_FIELDS)
    progress, lines = [], []
    labels_from_vector(scene, path, None, "class", None, "many", Hooks(progress=progress.append, log=lines.append))
    assert progress[:4] == [n / 4 for n in range(4)]
    # said before the reading, which is otherwise silent on the command line (a helper's red team of 2026-12-05)
    assert lines[0] == f"Reading the {count:,} features of 'many'."
    with pytest.raises(Canceled):
        labels_from_vector(scene, path, None, "class", None, "many",
                           Hooks(progress=progress.append, is_canceled=lambda: len(progress) > 5))
    assert len(progress) == 6


def test_tins_polyhedral_surfaces_and_triangles_take_the_pixels_of_their_faces(tmp_path, scene):
    """OGR reads an ESRI MultiPatch (a building shell, say) as these surfaces, which GDAL does not
    burn: they covered no pixel (red team of 2026-12-04)."""
    def ring(xmin, ymin, xmax, ymax, z=""):
        corners = [(xmin, ymin), (xmax, ymin), (xmax, ymax), (xmin, ymax), (xmin, ymin)]
        return ", ".join(f"{ORIGIN_X + x} {ORIGIN_Y - y}{z}" for x, y in corners)

    def triangles(xmin, ymin, xmax, ymax):
        a, b, c, d = ((xmin, ymin), (xmax, ymin), (xmax, ymax), (xmin, ymax))
        return ", ".join("((" + ", ".join(f"{ORIGIN_X + x} {ORIGIN_Y - y} 0" for x, y in (*face, face[0])) + "))"
                         for face in ((a, b, c), (a, c, d)))

    features = [(f"TIN Z ({triangles(1, 1, 4, 3)})", {"class": 1}),
                (f"POLYHEDRALSURFACE Z ((({ring(6, 1, 8, 3, ' 0')})))", {"class": 2}),
                (f"GEOMETRYCOLLECTION Z (TIN Z ({triangles(1, 6, 3, 8)}))", {"class": 3}),
                (f"TRIANGLE (({ORIGIN_X + 10} {ORIGIN_Y - 1}, {ORIGIN_X + 13.25} {ORIGIN_Y - 1}, "
                 f"{ORIGIN_X + 10} {ORIGIN_Y - 4.25}, {ORIGIN_X + 10} {ORIGIN_Y - 1}))", {"class": 4})]
    path = write_vector(tmp_path / "surfaces.gpkg", features, INT_FIELDS)
    labels = labels_from_vector(scene, path, None, "class", None, "surfaces")
    expected = {(r, c, 1) for r in (1, 2) for c in (1, 2, 3)} | {(r, c, 2) for r in (1, 2) for c in (6, 7)}
    expected |= {(r, c, 3) for r in (6, 7) for c in (1, 2)}
    expected |= {(r, c, 4) for r in (1, 2, 3) for c in (10, 11, 12) if (c + 0.5 - 10) + (r + 0.5 - 1) < 3.25}
    assert set(_pixels(labels)) == expected


def test_a_polygon_collapsed_onto_a_row_of_pixel_centres_or_a_point_holds_no_pixel_centre(tmp_path, scene):
    """Red team of 2026-12-04: skipping every collapsed polygon (GDAL 3.12 took seconds for one
    collapsed onto a far point) was slow; a polygon of no area holds no pixel centre, and GDAL's
    row of pixels for one along a row of centres went (a helper's red team of 2026-12-05)."""
    y = ORIGIN_Y - 10.5
    features = [(f"POLYGON (({ORIGIN_X + 2} {y}, {ORIGIN_X + 8} {y}, {ORIGIN_X + 2} {y}))", {"class": 3}),
                (f"POLYGON (({ORIGIN_X + 4.5} {ORIGIN_Y - 4.5}, {ORIGIN_X + 4.5} {ORIGIN_Y - 4.5}, "
                 f"{ORIGIN_X + 4.5} {ORIGIN_Y - 4.5}))", {"class": 5}),
                (point_wkt(*pixel_centre(0, 0)), {"class": 5})]
    labels = labels_from_vector(scene, write_vector(tmp_path / "collapsed.gpkg", features, INT_FIELDS), None, "class",
                                None, "collapsed")
    assert _pixels(labels) == [(0, 0, 5)]


@pytest.mark.parametrize("horizontal", [True, False])
def test_polygons_that_share_an_edge_through_pixel_centres_give_each_pixel_to_one_of_them(tmp_path, scene,
                                                                                          horizontal):
    """A helper's red team of 2026-12-05: two rectangles sharing a horizontal edge through a row of
    pixel centres both took the row, said to 'hold samples of different classes' and left out (an
    island filling a lake's hole lost 5 of its 100 pixels); a vertical edge gave them to one."""
    edge = 4.5  # through the centres of row (or column) 4
    if horizontal:
        first = box_wkt(ORIGIN_X + 1, ORIGIN_Y - edge, ORIGIN_X + 5, ORIGIN_Y - 1)
        second = box_wkt(ORIGIN_X + 1, ORIGIN_Y - 8, ORIGIN_X + 5, ORIGIN_Y - edge)
    else:
        first = box_wkt(ORIGIN_X + 1, ORIGIN_Y - 5, ORIGIN_X + edge, ORIGIN_Y - 1)
        second = box_wkt(ORIGIN_X + edge, ORIGIN_Y - 5, ORIGIN_X + 8, ORIGIN_Y - 1)
    path = write_vector(tmp_path / "touching.gpkg", [(first, {"class": 1}), (second, {"class": 2})], INT_FIELDS)
    lines, hooks = _logger()
    labels = labels_from_vector(scene, path, None, "class", None, "touching", hooks)
    held = 4 * 7  # rows 1..7 x columns 1..4, or rows 1..4 x columns 1..7
    assert len(labels.values) == held and not any("different classes" in line for line in lines), lines
    along = labels.rows if horizontal else labels.cols
    assert sorted(set(along[labels.values == 1].tolist())) + sorted(set(along[labels.values == 2].tolist())) == \
        list(range(1, 8))


def _circle_wkt(centre_x, centre_y, radius):
    """A full circle as a curved polygon: two half circles as arcs."""
    left, right, top = (centre_x - radius, centre_y), (centre_x + radius, centre_y), (centre_x, centre_y + radius)
    bottom = (centre_x, centre_y - radius)
    arcs = ", ".join(f"{x} {y}" for x, y in (left, top, right, bottom, left))
    return f"CURVEPOLYGON (CIRCULARSTRING ({arcs}))"


def test_curved_polygons_take_the_pixels_whose_centre_is_inside_as_straight_ones_do(tmp_path, scene):
    """Red team of 2026-12-04: QGIS's curve digitising writes CurvePolygons, which GDAL's
    rasteriser burns nothing for: a class of the samples or the reference silently vanished."""
    square = box_wkt(ORIGIN_X + 2.2, ORIGIN_Y - 4.9, ORIGIN_X + 5.8, ORIGIN_Y - 1.6).replace("POLYGON", "CURVEPOLYGON")
    features = [(square, {"class": 3}), (_circle_wkt(ORIGIN_X + 11, ORIGIN_Y - 7, 3.2), {"class": 5})]
    path = write_vector(tmp_path / "curves.gpkg", features, INT_FIELDS)
    expected = {(r, c, 3) for r in (2, 3, 4) for c in (2, 3, 4, 5)}
    expected |= {(r, c, 5) for r in range(HEIGHT) for c in range(WIDTH) if (c + 0.5 - 11) ** 2 + (r + 0.5 - 7) ** 2 < 3.2 ** 2}
    labels = labels_from_vector(scene, path, None, "class", None, "curves")
    assert _pixels(labels) == sorted(expected)
    rows, cols = random_valid_positions(scene, 100, seed=0, mask_path=path, mask_name="curves", tile_size=4)
    assert sorted(zip(rows.tolist(), cols.tolist())) == sorted((r, c) for r, c, _ in expected)


def test_text_classes_get_ids_in_sorted_order_and_keep_their_names(tmp_path, scene):
    cells = [((0, 0), "water"), ((1, 1), "forest"), ((2, 2), "urban"), ((3, 3), "forest"), ((4, 4), "")]
    path = _points(tmp_path, [(cell, {"label": name}) for cell, name in cells])
    lines, hooks = _logger()
    labels = labels_from_vector(scene, path, None, "label", None, "points", hooks)
    assert [(c.value, c.name) for c in labels.classes] == [(1, "forest"), (2, "urban"), (3, "water")]
    assert _pixels(labels) == [(0, 0, 3), (1, 1, 1), (2, 2, 2), (3, 3, 1)]
    assert any("1 of the 5 features of 'points' has no class" in line for line in lines)
    assert len({c.color for c in labels.classes}) == 3


def test_text_classes_that_are_all_whole_numbers_keep_their_values(tmp_path, scene):
    path = _points(tmp_path, [((0, 0), {"label": "10"}), ((1, 1), {"label": " 2"}), ((2, 2), {"label": "10"})])
    labels = labels_from_vector(scene, path, None, "label", None, "points")
    assert _pixels(labels) == [(0, 0, 10), (1, 1, 2), (2, 2, 10)]
    assert [(c.value, c.name) for c in labels.classes] == [(2, "2"), (10, "10")]


def test_a_placeholder_among_whole_numbers_is_no_class_and_among_names_a_class(tmp_path, scene):
    """A helper's red team of 2026-12-06: 104 points of 'NA' among classes 1 to 7 (a CSV's missing
    values) trained a class 8 named 'NA' without a word, and a reference's was refused as names."""
    path = _points(tmp_path, [((0, 0), {"label": "3"}), ((1, 1), {"label": "NA"}), ((2, 2), {"label": "1"}),
                              ((3, 3), {"label": "null"}), ((4, 4), {"label": "NA"})])
    warnings, lines = [], []
    labels = labels_from_vector(scene, path, None, "label", None, "points", Hooks(warn=warnings.append,
                                                                                  log=lines.append))
    assert _pixels(labels) == [(0, 0, 3), (2, 2, 1)]
    assert [(c.value, c.name) for c in labels.classes] == [(1, "1"), (3, "3")]
    assert warnings == ["3 features of 'points' have 'NA' and 'null' as their class in the class field 'label', whose "
                        "other classes are whole numbers: taken for no class, they are left out."]
    assert "3 of the 5 features of 'points' have no class; they are left out." in lines
    path = _points(tmp_path, [((0, 0), {"label": "Water"}), ((1, 1), {"label": "None"}), ((2, 2), {"label": "Crop"})],
                   name="names.gpkg")
    labels = labels_from_vector(scene, path, None, "label", None, "names")
    assert [(c.value, c.name) for c in labels.classes] == [(1, "Crop"), (2, "None"), (3, "Water")]
    assert _pixels(labels) == [(0, 0, 3), (1, 1, 2), (2, 2, 1)]


def test_texts_of_whole_numbers_with_a_decimal_point_keep_their_values(tmp_path, scene):
    """A helper's red team of 2026-12-06: '1.0' ... '11.0' in a text field were numbered in text
    order ('2.0' became class 4) without a word at training, where a field of real numbers keeps 2.0
    as 2."""
    path = _points(tmp_path, [((0, 0), {"label": "2.0"}), ((1, 1), {"label": "10.0"}), ((2, 2), {"label": "11"})])
    labels = labels_from_vector(scene, path, None, "label", None, "points")
    assert _pixels(labels) == [(0, 0, 2), (1, 1, 10), (2, 2, 11)]
    assert [(c.value, c.name) for c in labels.classes] == [(2, "2.0"), (10, "10.0"), (11, "11")]


def test_texts_that_python_alone_reads_as_numbers_are_names_not_merged_classes(tmp_path, scene):
    """Red team of 2026-12-04: int() read '1_0' as 10, merging it with the class '10'."""
    path = _points(tmp_path, [((0, 0), {"label": "1_0"}), ((1, 1), {"label": "10"}), ((2, 2), {"label": "+2"})])
    labels = labels_from_vector(scene, path, None, "label", None, "points")
    assert [(c.value, c.name) for c in labels.classes] == [(1, "+2"), (2, "10"), (3, "1_0")]


def test_class_names_lose_the_characters_that_reorder_text(tmp_path, scene):
    path = _points(tmp_path, [((0, 0), {"label": "Water\u202e\u00e9"}), ((1, 1), {"label": "\u2067Roads\u2069"})])
    labels = labels_from_vector(scene, path, None, "label", None, "points")
    assert [c.name for c in labels.classes] == ["Water\u00e9", "Roads"]


def test_class_names_written_in_either_unicode_form_are_one_class_in_the_composed_form(tmp_path, scene):
    """Red team of 2026-12-04: 'Forêt' as e + combining circumflex (macOS's decomposed form) was
    another class than the composed 'Forêt', and a reference so written matched no class of a map."""
    path = _points(tmp_path, [((0, 0), {"label": "Fore\u0302t"}), ((1, 1), {"label": "For\u00eat"})])
    labels = labels_from_vector(scene, path, None, "label", None, "points")
    assert [(c.value, c.name) for c in labels.classes] == [(1, "For\u00eat")]
    assert ClassInfo(1, "Fore\u0302t", "#000000").name == "For\u00eat"  # a map's name, from its style or table


def test_names_come_from_the_name_field(tmp_path, scene):
    path = _points(tmp_path, [((0, 0), {"class": 4, "label": "Woods"}), ((1, 0), {"class": 7, "label": "Roads"}), ((2, 0), {"class": 4, "label": "Other"})])
    labels = labels_from_vector(scene, path, None, "class", "label", "points")
    assert [(c.value, c.name) for c in labels.classes] == [(4, "Woods"), (7, "Roads")]


def test_numbers_as_the_names_of_text_classes_are_warned_of_as_fields_swapped(tmp_path, scene):
    """Red team of 2026-12-05: CLASS_FIELD class_name and NAME_FIELD class_id numbered the classes
    from their names and named them '3', '1', ...; the map's legend lost every name unsaid."""
    fields = {"class_name": ogr.OFTString, "class_id": ogr.OFTInteger}
    path = _points(tmp_path, [((0, 0), {"class_name": "Water", "class_id": 7}),
                              ((1, 0), {"class_name": "Crop", "class_id": 1})], fields)
    warnings = []
    labels = labels_from_vector(scene, path, None, "class_name", "class_id", "points", Hooks(warn=warnings.append))
    assert [(c.value, c.name) for c in labels.classes] == [(1, "1"), (2, "7")]
    assert warnings == ["The name field 'class_id' of 'points' holds numbers (1, 7) and its class field 'class_name' "
                        "texts (Crop, Water), so the classes are named by numbers: were the two fields swapped? The "
                        "class field holds the classes (numbers, or texts that name them), the name field their names."]
    named = _points(tmp_path, [((0, 0), {"class_name": "W1", "class_id": 7})], fields, name="codes.gpkg")
    labels_from_vector(scene, named, None, "class_id", "class_name", "points", Hooks(warn=warnings.append))
    assert len(warnings) == 1


def test_a_class_name_too_long_for_a_legend_is_refused(tmp_path, scene):
    """Red team of 2026-12-05: a name of 140,006 characters went into the legend, the .aux.xml and an
    accuracy CSV that Python's csv module (and spreadsheets) could not read, and that the next run
    took for a file of another program."""
    path = _points(tmp_path, [((0, 0), {"class": 4, "label": "W" * 201}), ((1, 0), {"class": 7, "label": "Roads"})])
    with pytest.raises(InputError) as refused:
        labels_from_vector(scene, path, None, "class", "label", "points")
    assert str(refused.value) == ("The name of class 4 of 'points' is 201 characters long ('WWWWWWWWWWWWWWWWWWWW...'); "
                                  "a class name has at most 200 (legends and reports show it whole). Shorten it.")


def test_duplicate_pixels_merge_when_they_agree_and_are_dropped_when_they_conflict(tmp_path, scene):
    cells = [((1, 1), 1), ((1, 1), 1), ((2, 2), 1), ((2, 2), 2), ((3, 3), 2), ((5, 5), 2)]
    path = _points(tmp_path, [(cell, {"class": value}) for cell, value in cells])
    lines, hooks = _logger()
    labels = labels_from_vector(scene, path, None, "class", None, "points", hooks)
    assert _pixels(labels) == [(1, 1, 1), (3, 3, 2), (5, 5, 2)]
    assert any("1 pixel of 'points' holds samples of different classes; it is left out." in line for line in lines)


def test_samples_on_nodata_pixels_and_outside_the_raster_are_dropped_and_logged(tmp_path, scene):
    cells = [((0, 0), {"class": 1}), ((11, 15), {"class": 1}), ((3, 3), {"class": 2}), ((40, 3), {"class": 2})]
    path = _points(tmp_path, cells)
    lines, hooks = _logger()
    labels = labels_from_vector(scene, path, None, "class", None, "points", hooks)
    assert _pixels(labels) == [(0, 0, 1), (3, 3, 2)]
    assert "1 sample pixel of 'points' is nodata in 'hsi'; it is left out." in lines
    assert any("1 of the 4 features of 'points' lies outside the hyperspectral layer 'hsi'" in line for line in lines)


def test_on_a_rotated_grid_samples_beside_it_within_its_bounding_box_lie_outside_it(tmp_path):
    """Red team of 2026-12-05: points of a rotated map's bounding box beyond the map were said to be
    'smaller than a pixel', and an accuracy report counted them nowhere."""
    c = math.cos(math.radians(45))
    data = np.ones((3, HEIGHT, WIDTH), np.float32)
    hsi = write_raster(tmp_path / "rotated.tif", data, (ORIGIN_X, c, c, ORIGIN_Y, c, -c))
    inside = gdal.ApplyGeoTransform((ORIGIN_X, c, c, ORIGIN_Y, c, -c), 3.5, 2.5)
    path = write_vector(tmp_path / "points.gpkg", [(point_wkt(*inside), {"class": 1}),
                                                   (point_wkt(ORIGIN_X + 0.5, ORIGIN_Y + 10), {"class": 2})],
                        INT_FIELDS)
    lines, hooks = _logger()
    with Scene.open(RasterInput(hsi, "hsi"), []) as rotated:
        labels = labels_from_vector(rotated, path, None, "class", None, "points", hooks)
    assert _pixels(labels) == [(2, 3, 1)] and labels.outside == 1
    assert "1 of the 2 features of 'points' lies outside the hyperspectral layer 'hsi'; it is left out." in lines
    # a polygon over the grid's edge, within its bounding box, reaches beyond it (review of 2026-12-05)
    corner = gdal.ApplyGeoTransform((ORIGIN_X, c, c, ORIGIN_Y, c, -c), 0.0, 0.0)
    half_out = write_vector(tmp_path / "half.gpkg", [(box_wkt(corner[0] + 1, corner[1] - 2, corner[0] + 5,
                                                               corner[1] + 2), {"class": 1}),
                                                      (point_wkt(*inside), {"class": 2})], INT_FIELDS)
    lines.clear()
    with Scene.open(RasterInput(hsi, "hsi"), []) as rotated:
        labels_from_vector(rotated, half_out, None, "class", None, "points", hooks)
    assert any(line.startswith("1 of the 2 features of 'points' reaches beyond the hyperspectral layer 'hsi'")
               for line in lines), lines


def test_a_polygon_that_only_touches_the_grid_from_outside_lies_outside_it(tmp_path, scene):
    """A helper's red team of 2026-12-05: a reference polygon beside the map, sharing its east edge,
    was said to cover no pixel centre '(smaller than a pixel)' and counted among the features to fill
    in, not outside the map."""
    features = [(box_wkt(ORIGIN_X + WIDTH, ORIGIN_Y - 5, ORIGIN_X + WIDTH + 12, ORIGIN_Y - 1), {"class": 1}),
                (box_wkt(ORIGIN_X + 2, ORIGIN_Y - HEIGHT - 3, ORIGIN_X + 4, ORIGIN_Y - HEIGHT), {"class": 1}),
                (box_wkt(ORIGIN_X + 1, ORIGIN_Y - 3, ORIGIN_X + 3, ORIGIN_Y - 1), {"class": 1}),
                (point_wkt(*pixel_centre(5, 5)), {"class": 2})]
    path = write_vector(tmp_path / "polygons.gpkg", features, INT_FIELDS)
    lines, hooks = _logger()
    labels = labels_from_vector(scene, path, None, "class", None, "polygons", hooks)
    assert (labels.outside, len(labels.values)) == (2, 5)
    assert "2 of the 4 features of 'polygons' lie outside the hyperspectral layer 'hsi'; they are left out." in lines
    assert not any("smaller than a pixel" in line for line in lines), lines


@pytest.mark.parametrize("exceptions", [True, False])
def test_an_empty_part_of_a_feature_is_skipped_and_its_other_parts_are_read(tmp_path, scene, exceptions):
    """A helper's red team of 2026-12-05: with OGR's exceptions on, as a console script or another
    plugin leaves QGIS, MULTIPOLYGON (((...)), EMPTY) stopped a mask with a traceback, and as samples
    was said to be a file not complete and readable."""
    first = box_wkt(ORIGIN_X + 1, ORIGIN_Y - 3, ORIGIN_X + 3, ORIGIN_Y - 1)[len("POLYGON "):]
    second = box_wkt(ORIGIN_X + 6, ORIGIN_Y - 3, ORIGIN_X + 8, ORIGIN_Y - 1)
    features = [(f"MULTIPOLYGON ({first}, EMPTY)", {"class": 1}),
                (f"GEOMETRYCOLLECTION (POLYGON EMPTY, {second})", {"class": 2})]
    path = write_vector(tmp_path / "parts.gpkg", features, INT_FIELDS)
    previous = ogr.GetUseExceptions()
    (ogr.UseExceptions if exceptions else ogr.DontUseExceptions)()
    try:
        labels = labels_from_vector(scene, path, None, "class", None, "parts", Hooks())
        rasterizer = mask_rasterizer(path, "parts", scene.grid, "hsi", Hooks())
    finally:
        (ogr.UseExceptions if previous else ogr.DontUseExceptions)()
    assert _pixels(labels) == [(1, 1, 1), (1, 2, 1), (1, 6, 2), (1, 7, 2), (2, 1, 1), (2, 2, 1), (2, 6, 2), (2, 7, 2)]
    assert np.argwhere(rasterizer.burn(Window(0, 0, WIDTH, HEIGHT))).tolist() == [
        [1, 1], [1, 2], [1, 6], [1, 7], [2, 1], [2, 2], [2, 6], [2, 7]]


@pytest.mark.parametrize("table", [None, "points.DbF", "points.DBF"])
def test_a_shapefile_without_its_dbf_is_said_to_lack_it(tmp_path, scene, table):
    """Own bad input of 2026-12-05: the class field was said not to be one of 'its fields: none'; and of a table
    in a letter case GDAL does not read, 'points.DbF' (a mutation audit of 2026-12-06), while 'points.DBF' reads."""
    driver = ogr.GetDriverByName("ESRI Shapefile")
    dataset = driver.CreateDataSource(str(tmp_path / "points.shp"))
    layer = dataset.CreateLayer("points", None, ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn("class", ogr.OFTInteger))
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetField("class", 1)
    feature.SetGeometry(ogr.CreateGeometryFromWkt(point_wkt(*pixel_centre(1, 1))))
    layer.CreateFeature(feature)
    dataset = layer = feature = None
    if table is None:
        (tmp_path / "points.dbf").unlink()
    else:
        (tmp_path / "points.dbf").rename(tmp_path / table)
    if table == "points.DBF":
        assert labels_from_vector(scene, str(tmp_path / "points.shp"), None, "class", None, "points",
                                  Hooks()).values.tolist() == [1]
        return
    with pytest.raises(InputError) as refused:
        labels_from_vector(scene, str(tmp_path / "points.shp"), None, "class", None, "points", Hooks())
    assert str(refused.value) == (
        f"The shapefile 'points' ({tmp_path / 'points.shp'}) has no .dbf file beside it, which holds its fields (the "
        "class field among them). Copy the .dbf with the .shp and .shx, or choose another layer." if table is None else
        f"The shapefile 'points' ({tmp_path / 'points.shp'}) has its table, which holds its fields (the class field "
        "among them), as points.DbF, in a letter case GDAL does not read. Rename it points.dbf and run again.")


def test_labels_in_another_crs_far_from_the_scene_are_counted_outside_without_placing_each(tmp_path, scene,
                                                                                           monkeypatch):
    """Red team of 2026-12-05: a reference in EPSG:4326 of 61 million labelled pixels took 2 minutes
    before any progress, each pixel carried into the scene's CRS to be found outside it. Far tiles
    are counted outside as they are; the count is the one of placing every pixel."""
    from mrs.mrs_qgis_plugin.raster import label_raster

    lon, lat = transform_points([(ORIGIN_X, ORIGIN_Y)], UTM32, "EPSG:4326")[0]
    step = 1e-5  # about 1 m
    values = np.ones((400, 400), np.uint8)
    geotransform = (lon - 200 * step, step, 0.0, lat + 200 * step, 0.0, -step)
    path = write_raster(tmp_path / "wide.tif", values, geotransform, crs="EPSG:4326")
    placed = []
    real = label_raster.transformation

    def counting(*args):
        transform, problem = real(*args)

        class Counting:
            def TransformPoints(self, points):  # noqa: N802 - osr's name
                placed.append(len(points))
                return transform.TransformPoints(points)

            def TransformBounds(self, *bounds):  # noqa: N802 - osr's name
                return transform.TransformBounds(*bounds)

        return Counting(), problem

    monkeypatch.setattr(label_raster, "transformation", counting)
    dataset = gdal.Open(path)
    quick = label_raster._source_counts(dataset, scene, "wide", Hooks(), 64, "")
    quick_placed, placed[:] = sum(placed), []
    every = label_raster._source_counts(dataset, scene, "wide", Hooks(), 400, "")  # one tile: every pixel placed
    assert quick == every and every[0] == 160000 and 0 < every[1] < 160000
    assert quick_placed < sum(placed) / 10
    # through a coordinate operation of QGIS's that shifts the labels 60 m: the same counts either way
    # (review of 2026-12-05: a reverse transformation without it skipped tiles the operation brings in)
    shift = ("+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step +proj=utm +zone=32 +ellps=WGS84 "
             "+step +proj=affine +xoff=60")
    assert (label_raster._source_counts(dataset, scene, "wide", Hooks(), 64, shift)
            == label_raster._source_counts(dataset, scene, "wide", Hooks(), 400, shift))


def test_a_file_of_several_layers_given_without_a_layer_says_which_it_reads(tmp_path, scene):
    """A GeoPackage of two tables, given by its path alone, trained on the first only without a word
    (red team of 2026-12-04); with the layer named, nothing is said."""
    path = _points(tmp_path, POINTS[:2])
    dataset = ogr.Open(path, 1)
    dataset.CreateLayer("more", dataset.GetLayer(0).GetSpatialRef(), ogr.wkbPoint)
    dataset = None
    warnings = []
    hooks = Hooks(warn=warnings.append)
    assert len(labels_from_vector(scene, path, None, "class", None, "points", hooks).values) == 2
    assert warnings == [f"The vector source of 'points' ({path}) holds 2 layers and names none, so its first, "
                        "'samples', is read (the others: 'more'). To read another, give it as FILE|layername=NAME "
                        "(in QGIS, add that layer to the project and choose it)."]
    labels_from_vector(scene, f"{path}|layername=samples", None, "class", None, "points", hooks)
    labels_from_vector(scene, path, "samples", "class", None, "points", hooks)
    assert len(warnings) == 1


def test_reference_samples_outside_a_map_are_said_to_be_outside_the_map(tmp_path, scene):
    """Red team of 2026-12-04: mrs:accuracy, which reads no hyperspectral layer, spoke of one."""
    path = _points(tmp_path, [((0, 0), {"class": 1}), ((3, 3), {"class": 2}), ((40, 3), {"class": 2})])
    lines, hooks = _logger()
    with Scene.single(RasterInput(write_raster(tmp_path / "map.tif", np.ones((HEIGHT, WIDTH), np.uint8)), "map")) as grid:
        labels_from_vector(grid, path, None, "class", None, "points", hooks)
    assert "1 of the 3 features of 'points' lies outside the layer 'map'; it is left out." in lines
    empty = write_raster(tmp_path / "empty.tif", np.zeros((HEIGHT, WIDTH), np.uint8), nodata=0)
    with Scene.single(RasterInput(empty, "empty")) as grid, pytest.raises(
            InputError, match=r"^All 2 sample pixels of 'points' are nodata in 'empty', and 1 feature of 'points' lies "
                              r"outside the layer 'empty'\. Check"):
        labels_from_vector(grid, path, None, "class", None, "points")


def test_a_point_at_absurd_coordinates_in_another_crs_is_dropped_as_outside(tmp_path):
    """PROJ never returns when asked to turn x = -4.7e30 in Web Mercator into a longitude."""
    lonlat = write_raster(tmp_path / "lonlat.tif", np.ones((3, 4, 4), np.float32), (9.0, 1e-4, 0.0, 46.0, 0.0, -1e-4),
                          crs="EPSG:4326")
    centres = [(9.0 + (col + 0.5) * 1e-4, 46.0 - (row + 0.5) * 1e-4) for row, col in ((1, 2), (3, 0))]
    mercator = transform_points(centres, "EPSG:4326", "EPSG:3857") + [(-4.7e30, 2.7e16)]
    features = [(point_wkt(x, y), {"class": value}) for (x, y), value in zip(mercator, (1, 2, 2))]
    path = write_vector(tmp_path / "points.gpkg", features, INT_FIELDS, crs="EPSG:3857")
    lines, hooks = _logger()
    with Scene.open(RasterInput(lonlat, "lonlat"), []) as scene:
        labels = labels_from_vector(scene, path, None, "class", None, "points", hooks)
    assert _pixels(labels) == [(1, 2, 1), (3, 0, 2)]
    assert any("1 of the 3 features of 'points' lies outside the hyperspectral layer" in line for line in lines)


def test_points_a_geopackage_records_without_a_crs_are_taken_in_the_rasters_crs(tmp_path, scene):
    """QGIS writes a layer without a CRS (a memory layer) to a GeoPackage as 'Undefined geographic
    SRS' (srs_id 0), which was taken for longitude and latitude: every sample fell outside (red
    team of 2026-12-04)."""
    import sqlite3

    path = _points(tmp_path, POINTS)
    with sqlite3.connect(path) as database:
        database.execute("UPDATE gpkg_geometry_columns SET srs_id = 0")
        database.execute("UPDATE gpkg_contents SET srs_id = 0")
    lines, hooks = _logger()
    labels = labels_from_vector(scene, path, None, "class", None, "points", hooks)
    assert _pixels(labels) == [(0, 5, 1), (1, 2, 2), (4, 9, 1), (7, 3, 2)]
    assert "'points' has no CRS; its coordinates are taken to be in the CRS of 'hsi'." in lines


def test_a_qgis_layer_source_with_layername_is_understood(tmp_path, scene):
    path = _points(tmp_path, POINTS)
    labels = labels_from_vector(scene, f"{path}|layername=samples", None, "class", None, "points")
    assert len(labels.values) == 4


def test_a_qgis_layer_source_keeps_its_subset_and_layer_number(tmp_path, scene):
    """bin/mrs read 'file.gpkg|layername=x|subset=...' as the whole layer: a model trained on the
    samples the analyst had filtered out (red team of 2026-12-04)."""
    path = _points(tmp_path, POINTS)
    add_point_layer(path, "more", "class", 3, *pixel_centre(9, 9))
    labels = labels_from_vector(scene, f'{path}|layername=samples|subset="class" > 1', None, "class", None, "points")
    assert _pixels(labels) == [(1, 2, 2), (7, 3, 2)]
    assert _pixels(labels_from_vector(scene, f"{path}|layerid=1", None, "class", None, "points")) == [(9, 9, 3)]
    with pytest.raises(InputError, match=re.escape(f"The vector source of 'points' ({path}) has no layer numbered "
                                                   "'2'; its layers: 'samples', 'more'. Choose one of them.")):
        labels_from_vector(scene, f"{path}|layerid=2", None, "class", None, "points")
    with pytest.raises(InputError, match=re.escape("The vector source of 'points' has a subset that OGR cannot "
                                                   "apply (clas > 1): no such column: clas. Correct")):
        labels_from_vector(scene, f'{path}|subset=clas > 1', None, "class", None, "points")
    with pytest.raises(InputError, match=re.escape(  # a helper's red team of 2026-12-05: 'near "SELECT": syntax error'
            "The vector source of 'points' has a subset that is a whole SQL query (SELECT * FROM samples WHERE "
            "class > 1), which QGIS runs but this reading does not: give its condition alone (subset=class > 1)")):
        labels_from_vector(scene, f'{path}|subset=SELECT * FROM samples WHERE class > 1', None, "class", None, "points")
    # As QGIS reads a source, the subset is the rest of it, '|' in its condition included.
    with pytest.raises(InputError, match=re.escape("The subset of 'points' (\"class\" = 5) selects none of its "
                                                   "features. Correct the filter")):
        labels_from_vector(scene, f'{path}|subset="class" = 5', None, "class", None, "points")
    labels = labels_from_vector(scene, f'{path}|layername=samples|subset="class" = 2 or "class" = \'a|b\'', None,
                                "class", None, "points")
    assert _pixels(labels) == [(1, 2, 2), (7, 3, 2)]
    with pytest.raises(InputError, match=r"^The vector source of 'points' has the option 'geometrytype=Point', "
                                         r"which is not understood here; .*layername, layerid, operation and subset"):
        labels_from_vector(scene, f"{path}|geometrytype=Point", None, "class", None, "points")


def test_samples_of_one_class_are_read_for_a_reference_and_refused_for_training(tmp_path, scene):
    """An accuracy assessment on reference samples of one class gives that class's producer's
    accuracy (red team of 2026-12-04: refused as for training); training needs two classes."""
    labels = labels_from_vector(scene, _points(tmp_path, [((0, 0), {"class": 3}), ((1, 1), {"class": 3})]),
                                None, "class", None, "pts")
    assert _pixels(labels) == [(0, 0, 3), (1, 1, 3)]
    with pytest.raises(InputError, match=r"^SAMPLES: the samples of 'pts' on valid pixels of the rasters hold only one "
                                         r"class \('3'\); at least two classes are needed\. Add samples of other "
                                         r"classes, or choose the field that holds the classes\.$"):
        check_trainable(labels, "pts")
    # a label raster has no field to choose (a helper's audit of 2026-12-06)
    with pytest.raises(InputError, match=r"^LABELS: the samples of 'pts' .* needed\. Add samples of other classes\.$"):
        check_trainable(labels, "pts", "LABELS")


@pytest.mark.parametrize(
    "features, field, message",
    [
        ([((0, 0), {"class": 1}), ((1, 1), {"class": 2})], "kind", r"The class field 'kind' is not a field of 'pts' \(its fields: class, label\)"),
        ([((0, 0), {}), ((1, 1), {})], "class", r"The class field 'class' of 'pts' is empty"),
        ([((0, 0), {"class": 0}), ((1, 1), {"class": 2})], "class", r"holds the value 0; class values must be 1 or more, because 0 is reserved"),
        ([((50, 0), {"class": 1}), ((1, 90), {"class": 2})], "class", r"None of the samples of 'pts' falls inside the hyperspectral layer 'hsi'"),
        ([((11, 15), {"class": 1}), ((11, 15), {"class": 1})], "class", r"The sample pixel of 'pts' is nodata"),
        ([], "class", r"^SAMPLES: the layer 'pts' has no features to read samples from \(or its filter selects none\)\. "
                      r"Choose a layer that holds samples"),
        ([((0, 0), {"label": "99999999999999999999999"})], "label", r"holds the value 99999999999999999999999; class"),
    ],
)
def test_bad_samples_are_errors_that_name_the_layer(tmp_path, scene, features, field, message):
    path = _points(tmp_path, features)
    with pytest.raises(InputError, match=message):
        labels_from_vector(scene, path, None, field, None, "pts")


def test_a_source_s_coordinate_operation_takes_its_features_to_the_grid(tmp_path, scene):
    """'|operation=<PROJ pipeline>' is how the algorithms hand over the datum shift QGIS draws a
    layer with (GDAL may choose another: red team of 2026-12-04); a pure shift shows it is used."""
    cells = [(1, 2), (4, 9), (7, 3)]
    features = [(point_wkt(x - 3, y + 2), {"class": 1 + number % 2})
                for number, (x, y) in enumerate(pixel_centre(row, col) for row, col in cells)]
    path = write_vector(tmp_path / "ed50.gpkg", features, INT_FIELDS, crs="EPSG:23032")
    source = f"{path}|layername=samples|operation=+proj=affine +xoff=3 +yoff=-2"
    labels = labels_from_vector(scene, source, None, "class", None, "ed50")
    assert _pixels(labels) == [(1, 2, 1), (4, 9, 2), (7, 3, 1)]
    with pytest.raises(InputError) as refused:
        labels_from_vector(scene, f"{path}|operation=+proj=nonsense", None, "class", None, "ed50")
    assert str(refused.value).startswith("The coordinate operation given for 'ed50' cannot be used (")


def test_samples_with_a_crs_on_a_raster_without_one_are_read_as_they_are_and_said_so(tmp_path):
    """Samples in a CRS on a hyperspectral raster without one were taken as grid coordinates without
    a word (helpers' review of 2026-12-04): ED50 against WGS 84 lies 200 m off."""
    index = np.arange(HEIGHT * WIDTH, dtype=np.float32).reshape(HEIGHT, WIDTH)
    hsi = write_raster(tmp_path / "hsi.tif", np.stack([index, index + 0.5, -index]), crs=None)
    path = _points(tmp_path, [((1, 2), {"class": 2}), ((4, 9), {"class": 1})])
    warnings = []
    with Scene.open(RasterInput(hsi, "hsi"), []) as unplaced:
        labels = labels_from_vector(unplaced, path, None, "class", None, "points", Hooks(warn=warnings.append))
    assert _pixels(labels) == [(1, 2, 2), (4, 9, 1)]
    assert warnings == ["'points' is in EPSG:32632, but 'hsi' has no CRS, so its coordinates are taken as they are. "
                        "If they are not the raster's, give the raster its CRS."]


def test_labelled_pixels_on_nodata_are_counted_by_class_name_classes_sharing_one_adding_up(tmp_path):
    """Two classes named 'Water' kept only the second one's count (helpers' review of 2026-12-04),
    and the accuracy warning undercounted the pixels the map leaves out."""
    data = np.ones((3, HEIGHT, WIDTH), np.float32)
    data[:, 0, :3] = -9999
    hsi = write_raster(tmp_path / "hsi.tif", data, nodata=-9999)
    labels_array = np.zeros((HEIGHT, WIDTH), np.uint8)
    labels_array[0, :3] = [1, 2, 2]
    labels_array[5, 5:7] = [1, 2]
    path = write_raster(tmp_path / "labels.tif", labels_array, category_names=["", "Water", "Water"])
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        labels = labels_from_raster(scene, path, "labels")
    assert (labels.nodata_pixels, labels.nodata_by_class) == (3, {"Water": 3})


def test_a_warped_label_raster_s_class_0_warning_counts_its_own_zeros_only(tmp_path, scene):
    """A warp writes 0 where the label raster has no value (its nodata, beyond its extent): those were
    said to be class-0 pixels left out (helpers' review of 2026-12-04)."""
    coarse = np.full((4, 5), 255, np.uint8)
    coarse[0, 1], coarse[1, 0] = 1, 2
    path = write_raster(tmp_path / "labels.tif", coarse, (ORIGIN_X - 1, 3.0, 0.0, ORIGIN_Y + 1, 0.0, -3.0),
                        nodata=255, category_names=["Other", "Crop", "Water"])
    warnings = []
    labels_from_raster(scene, path, "labels", Hooks(warn=warnings.append))
    assert warnings == []
    coarse[3, 4] = 0
    path = write_raster(tmp_path / "zero.tif", coarse, (ORIGIN_X - 1, 3.0, 0.0, ORIGIN_Y + 1, 0.0, -3.0),
                        nodata=255, category_names=["Other", "Crop", "Water"])
    labels_from_raster(scene, path, "zero", Hooks(warn=warnings.append))
    assert warnings == ["The label layer 'zero' names its value 0 'Other' and declares 255 as its nodata value, but 0 "
                        "means unlabelled here, so its pixels of value 0 (1) are left out. If 0 is a class, recode "
                        "the classes from 1."]


def test_a_label_raster_whose_nodata_value_is_a_class_it_names_is_warned_of(tmp_path, scene):
    """Red team of 2026-12-05: train.tif given -a_nodata 7, its category 7 still 'Water', trained and
    scored six classes without a word."""
    values = np.zeros((HEIGHT, WIDTH), np.uint8)
    values[0, :3] = [1, 2, 3]
    names = ["", "Crop", "Unclassified", "Water"]
    warnings = []
    for nodata in (3, 2, None):
        path = write_raster(tmp_path / f"labels{nodata}.tif", values, nodata=nodata, category_names=names)
        labels_from_raster(scene, path, "labels", Hooks(warn=warnings.append))
    styled = write_raster(tmp_path / "styled.tif", values, nodata=3)  # named in its style only (red team)
    (tmp_path / "styled.qml").write_text(
        "<qgis><pipe><rasterrenderer type='paletted' band='1'><colorPalette>"
        + "".join(f"<paletteEntry value='{value}' label='{name}' color='#00000{value}' alpha='255'/>"
                  for value, name in enumerate(names) if name)
        + "</colorPalette></rasterrenderer></pipe></qgis>", encoding="utf-8")
    labels_from_raster(scene, styled, "labels", Hooks(warn=warnings.append))
    for ignored in ("Ignore", "ignored", "No class", "Not labelled", "Unknown"):  # review of 2026-12-05
        path = write_raster(tmp_path / "ignored.tif", values, nodata=2, category_names=["", "Crop", ignored, "Water"])
        labels_from_raster(scene, path, "labels", Hooks(warn=warnings.append))
    assert warnings == ["The label layer 'labels' declares 3 as its nodata value, but names that value 'Water' as a "
                        "class: its pixels are left out as unlabelled. If 'Water' is a class, declare another nodata "
                        "value, or none (0 means unlabelled here)."] * 2


def test_a_label_raster_holding_0_beside_another_nodata_value_is_warned_of_also_when_0_is_unnamed(tmp_path, scene):
    """Red team of 2026-12-05: classes 0-6 with 255 as nodata (the usual 'ignore' value of
    segmentation labels) lost class 0 without a word, as 0 was named by no category."""
    values = np.full((HEIGHT, WIDTH), 255, np.uint8)
    values[0, :3], values[1, :2] = 0, 1
    warnings = []
    labels = labels_from_raster(scene, write_raster(tmp_path / "zero_based.tif", values, nodata=255), "zero_based",
                                Hooks(warn=warnings.append))
    assert len(labels.values) == 2
    assert warnings == ["The label layer 'zero_based' declares 255 as its nodata value and holds 3 pixels of value 0, "
                        "which means unlabelled here too, so they are left out. If 0 is a class, recode the classes "
                        "from 1."]
    warnings.clear()
    background = np.zeros((HEIGHT, WIDTH), np.uint8)  # 0 unlabelled, the most of it; 255 beyond the footprint
    background[:, -3:], background[1, :2] = 255, 1
    labels_from_raster(scene, write_raster(tmp_path / "footprint.tif", background, nodata=255), "footprint",
                       Hooks(warn=warnings.append))
    assert warnings == []
    dense = (np.arange(HEIGHT * WIDTH).reshape(HEIGHT, WIDTH) % 7).astype(np.uint8)  # classes 0-6 everywhere
    dense[0, :5] = 255  # a few boundary pixels 'ignored' (review of 2026-12-05: 0 outnumbered 255, unsaid)
    dense[5, :] = 3
    labels_from_raster(scene, write_raster(tmp_path / "dense.tif", dense, nodata=255), "dense",
                       Hooks(warn=warnings.append))
    assert len(warnings) == 1 and warnings.pop().startswith("The label layer 'dense' declares 255 as its nodata value")
    for name, nodata in (("plain", None), ("zero_nodata", 0), ("nan_nodata", float("nan"))):
        labels_from_raster(scene, write_raster(tmp_path / f"{name}.tif", values.astype(np.float32), nodata=nodata),
                           name, Hooks(warn=warnings.append))
    assert warnings == []


@pytest.mark.parametrize("dtype, top", [(np.uint8, 255), (np.uint16, 65535)])
def test_a_label_raster_whose_most_common_value_is_its_type_s_largest_unnamed_and_undeclared_is_warned_of(
        tmp_path, scene, dtype, top):
    """A helper's red team of 2026-12-05: 255 as the unlabelled background without a nodata value
    was trained as an eighth class '255' (half the map) and scored as one (OA 43.8 %) unsaid."""
    values = np.full((HEIGHT, WIDTH), top, dtype)
    values[0, :3], values[1, :2] = 1, 2
    warnings = []
    labels = labels_from_raster(scene, write_raster(tmp_path / "background.tif", values), "background",
                                Hooks(warn=warnings.append))
    assert len(labels.values) == HEIGHT * WIDTH - 1  # the scene's nodata pixel aside
    assert warnings == [
        f"The label layer 'background' declares no nodata value, and its most common value, {top} (the largest its "
        f"data type holds, named by no class), is taken as a class: {HEIGHT * WIDTH - 5} of its "
        f"{HEIGHT * WIDTH} labelled pixels. If {top} marks unlabelled pixels, declare it the layer's nodata value "
        f"(gdal_edit -a_nodata {top}, or in QGIS Raster > Conversion > Translate, 'Assign a specified nodata value to output bands')."]
    warnings.clear()
    for name, nodata, names in (("declared", top, None), ("named", None, {top: "Cloud"}), ("few", None, None)):
        if name == "few":
            values[2:, :] = 1
        labels_from_raster(scene, write_raster(tmp_path / f"{name}.tif", values, nodata=nodata,
                                               category_names=[names.get(v, "") for v in range(top + 1)]
                                               if names else None), name, Hooks(warn=warnings.append))
    values[2:, :] = top  # named in its style only (review of 2026-12-05: warned of as 'named by no class')
    styled = write_raster(tmp_path / "styled.tif", values)
    (tmp_path / "styled.qml").write_text(
        "<qgis><pipe><rasterrenderer type='paletted' band='1'><colorPalette>"
        f"<paletteEntry value='{top}' label='Grassland' color='#00ff00' alpha='255'/>"
        "</colorPalette></rasterrenderer></pipe></qgis>", encoding="utf-8")
    labels_from_raster(scene, styled, "styled", Hooks(warn=warnings.append))
    assert warnings == []
    (tmp_path / "styled.qml").write_text((tmp_path / "styled.qml").read_text().replace("Grassland", str(top)))
    labels_from_raster(scene, styled, "styled", Hooks(warn=warnings.append))  # QGIS's Classify names by number
    assert len(warnings) == 1 and f"its most common value, {top} " in warnings.pop()
    labels_from_raster(scene, write_raster(tmp_path / "zero_nodata.tif", values, nodata=0), "zero_nodata",
                       Hooks(warn=warnings.append))
    assert len(warnings) == 1 and warnings[0].startswith(
        f"The label layer 'zero_nodata' declares 0, not {top}, as its nodata value, and its most common value, {top} ")


def test_a_label_raster_with_a_scale_or_offset_is_refused(tmp_path, scene):
    """Red team of 2026-12-05: class values stored minus one with an offset of 1 were read as
    stored (class 0 left out, OA 2 %), while the same raster as the map was read with its offset."""
    values = np.zeros((HEIGHT, WIDTH), np.int16)
    path = write_raster(tmp_path / "offset.tif", values, nodata=-1)
    dataset = gdal.Open(path, gdal.GA_Update)
    dataset.GetRasterBand(1).SetOffset(1.0)
    dataset = None
    with pytest.raises(InputError) as refused:
        labels_from_raster(scene, path, "offset")
    assert str(refused.value) == (
        "The label layer 'offset' declares a scale of 1 and an offset of 1 for its values, which class values cannot "
        "have. If the values stored are the classes, remove them (gdal_edit.py -scale 1 -offset 0); if the values "
        "scaled are, write those (gdal_translate -unscale -ot Int32); then choose it again.")


@pytest.mark.parametrize("hsi_nodata, lidar_nodata, said, by_layer", [
    ([], [(1, 2)], "1 sample pixel of 'points' is nodata in 'lidar'; it is left out.", {"lidar": 1}),
    ([(4, 9)], [(1, 2), (4, 9), (6, 3)], "3 sample pixels of 'points' are nodata in 'hsi' (1 pixel) or 'lidar' "
                                         "(3 pixels); they are left out.", {"hsi": 1, "lidar": 3}),
])
def test_sample_pixels_on_nodata_are_said_with_the_layers_holding_it(tmp_path, hsi_nodata, lidar_nodata, said,
                                                                     by_layer):
    """'are nodata in 'hsi', 'lidar'' read as nodata in both, where one layer's nodata drops a pixel
    (helpers' review of 2026-12-04); 'in at least one of 'hsi', 'lidar'' named a layer holding none
    (note of 2026-12-06)."""
    hsi_values = np.ones((3, HEIGHT, WIDTH), np.float32)
    lidar_values = np.ones((HEIGHT, WIDTH), np.float32)
    for row, col in hsi_nodata:
        hsi_values[:, row, col] = -1
    for row, col in lidar_nodata:
        lidar_values[row, col] = -9999
    hsi = write_raster(tmp_path / "hsi.tif", hsi_values, nodata=-1)
    lidar = write_raster(tmp_path / "lidar.tif", lidar_values, nodata=-9999)
    path = _points(tmp_path, [((1, 2), {"class": 2}), ((4, 9), {"class": 1}), ((6, 3), {"class": 1}),
                              ((7, 7), {"class": 2})])
    lines, hooks = _logger()
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(lidar, "lidar")]) as scene:
        labelled = labels_from_vector(scene, path, None, "class", None, "points", hooks)
    assert said in lines
    assert labelled.nodata_by_layer == by_layer


def test_sample_pixels_all_on_nodata_are_refused_with_the_layers_holding_it(tmp_path):
    lidar_values = np.ones((HEIGHT, WIDTH), np.float32)
    lidar_values[:, :5] = -9999
    sar_values = np.ones((HEIGHT, WIDTH), np.float32)
    sar_values[:, 5:] = np.nan
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, HEIGHT, WIDTH), np.float32))
    lidar = write_raster(tmp_path / "lidar.tif", lidar_values, nodata=-9999)
    sar = write_raster(tmp_path / "sar.tif", sar_values)
    path = _points(tmp_path, [((1, 2), {"class": 2}), ((4, 9), {"class": 1}), ((6, 3), {"class": 1})])
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(lidar, "lidar"), RasterInput(sar, "sar")]) as scene:
        with pytest.raises(InputError) as refused:
            labels_from_vector(scene, path, None, "class", None, "points", Hooks())
    assert str(refused.value) == ("All 3 sample pixels of 'points' are nodata in 'lidar' (2 pixels) or 'sar' "
                                  "(1 pixel). Check the nodata values of the rasters, or place the samples on pixels "
                                  "with data.")


@pytest.mark.parametrize("by_layer, said", [
    ({"hsi": 4}, "'hsi'"),
    ({"hsi": 1, "lidar": 2}, "'hsi' (1 pixel) or 'lidar' (2 pixels)"),
    ({"hsi": 1, "lidar": 2, "sar": 3}, "'hsi' (1 pixel), 'lidar' (2 pixels) or 'sar' (3 pixels)"),
])
def test_the_layers_holding_nodata_are_listed(by_layer, said):
    assert nodata_layers(by_layer) == said


def test_a_confidence_raster_given_as_labels_is_refused_as_no_label_raster(tmp_path, scene):
    """Red team of 2026-12-04: the sentence said 'recode the raster' of a map's confidence; a helper's
    of 2026-12-05: it named no value."""
    confidence = write_raster(tmp_path / "confidence.tif", np.full((HEIGHT, WIDTH), 0.75, np.float32))
    with pytest.raises(InputError) as refused:
        labels_from_raster(scene, confidence, "confidence")
    assert str(refused.value) == (
        "The label layer 'confidence' holds values that are negative or not whole numbers (such as 0.75), as a "
        "confidence, "
        "reflectance or height raster does: a label raster holds class values, whole numbers from 1 (0 or nodata = "
        "unlabelled). Choose a label raster or a map made by Classify, or recode this one.")


@pytest.mark.parametrize("fill, dtype, code", [(-1, np.int16, "-1"), (-2 ** 31, np.int32, "-2147483648"),
                                               (np.finfo(np.float32).min, np.float32, "-3.4028234663852886e+38")])
def test_a_label_raster_of_minus_one_for_unlabelled_is_told_to_declare_it_nodata(tmp_path, scene, fill, dtype, code):
    """Red team of 2026-12-05: -1 for unlabelled, undeclared, was refused 'as a confidence, reflectance
    or height raster', without the way out; 'beside whole class values' said -1 was not whole (a helper's
    red team of 2026-12-05). A helper's red team of 2026-12-07: the lowest Int32 and Float32 were said as
    -2.14748e+09 and -3.40282e+38, which declared as nodata matched no pixel, and the refusal came back."""
    values = np.full((HEIGHT, WIDTH), fill, dtype)
    values[0, :2] = [1, 2]
    path = write_raster(tmp_path / "minus.tif", values)
    with pytest.raises(InputError) as refused:
        labels_from_raster(scene, path, "minus")
    assert str(refused.value) == (
        f"The label layer 'minus' holds {code} beside class values from 1: if {code} means unlabelled, declare it the "
        f"raster's nodata value (gdal_edit.py -a_nodata {code}; in QGIS, Translate with -a_nodata {code} as an "
        "additional command-line parameter), or recode it to 0.")
    dataset = gdal.Open(path, gdal.GA_Update)
    dataset.GetRasterBand(1).SetNoDataValue(float(code))  # as the advice does
    dataset = None
    assert sorted(labels_from_raster(scene, path, "minus").values.tolist()) == [1, 2]


def test_label_raster_gives_positions_values_names_and_colours(tmp_path, scene):
    labels_array = np.zeros((HEIGHT, WIDTH), np.uint8)
    labels_array[2, 3] = labels_array[2, 4] = 1
    labels_array[5, 0] = 3
    labels_array[11, 15] = 3
    labels_array[9, 9] = 255
    path = write_raster(
        tmp_path / "labels.tif",
        labels_array,
        nodata=255,
        color_table={1: (255, 0, 0), 3: (0, 128, 255)},
        category_names=["", "Crops", "", "Water"],
    )
    labels = labels_from_raster(scene, path, "labels")
    assert _pixels(labels) == [(2, 3, 1), (2, 4, 1), (5, 0, 3)]
    assert labels.classes == [ClassInfo(1, "Crops", "#ff0000"), ClassInfo(3, "Water", "#0080ff")]


def test_a_label_raster_without_names_takes_those_of_its_paletted_qml_style(tmp_path, scene):
    """Red team of 2026-12-05: a reference raster named only by its QGIS style (saved as its default
    .qml) was matched by value to a map numbered from names (5.3 % OA), and the warning's advice to
    give it a .qml style changed nothing; its entries hand-edited to '2.0' or without a value
    raised a traceback where a map's style was read."""
    labels_array = np.zeros((HEIGHT, WIDTH), np.uint8)
    labels_array[0, :3] = [1, 2, 3]
    path = write_raster(tmp_path / "labels.tif", labels_array, color_table={1: (9, 9, 9), 3: (10, 20, 30)})
    (tmp_path / "labels.qml").write_text(
        "<qgis><pipe><rasterrenderer type='paletted' band='1'><colorPalette>"
        "<paletteEntry value='1' label='Crop' color='#ff0000' alpha='255'/>"
        "<paletteEntry value='2.0' label='Water' color='#0000ff' alpha='255'/>"
        "<paletteEntry label='No value' color='#00ff00' alpha='255'/>"
        "<paletteEntry value='x' label='Text' color='#00ff00' alpha='255'/>"
        "</colorPalette></rasterrenderer></pipe></qgis>", encoding="utf-8")
    labels = labels_from_raster(scene, path, "labels")
    assert labels.classes[:2] == [ClassInfo(1, "Crop", "#ff0000"), ClassInfo(2, "Water", "#0000ff")]
    assert (labels.classes[2].value, labels.classes[2].name, labels.classes[2].color) == (3, "3", "#0a141e")
    named = write_raster(tmp_path / "named.tif", labels_array, category_names=["", "Grass", "Lake", "Road"])
    (tmp_path / "named.qml").write_text((tmp_path / "labels.qml").read_text(), encoding="utf-8")
    warnings = []
    assert [info.name for info in labels_from_raster(scene, named, "named", Hooks(warn=warnings.append)).classes] == [
        "Grass", "Lake", "Road"]
    # red team of 2026-12-05: QGIS's legend showed the style's names, the plugin used the raster's, unsaid
    assert warnings == [f"The class names of 'named' in its style {tmp_path / 'named.qml'} differ from those the "
                        "raster holds itself, which are used ('Crop' for 'Grass', 'Water' for 'Lake'): QGIS's legend "
                        "names those classes otherwise. Make them agree, in the style or in the raster's category "
                        "names, so that both say what the values are."]


def test_label_raster_classes_left_out_of_its_colour_table_get_colours_of_their_own(tmp_path, scene):
    """Red team of 2026-12-05: a colour table with entries for classes 1 and 3 only made classes 2
    and 4 black (a GeoTIFF's table colours every value, black where none was set), said to 'share
    a colour'; a transparent entry (a VRT's gap) is no colour either."""
    labels_array = np.zeros((HEIGHT, WIDTH), np.uint8)
    labels_array[0, :4] = [1, 2, 3, 4]
    path = write_raster(tmp_path / "labels.tif", labels_array, color_table={1: (255, 0, 0), 3: (0, 128, 255)})
    warnings, lines = [], []
    labels = labels_from_raster(scene, path, "labels", Hooks(warn=warnings.append, log=lines.append))
    colors = [info.color for info in labels.classes]
    assert colors[0] == "#ff0000" and colors[2] == "#0080ff"
    assert len(set(colors)) == 4 and "#000000" not in colors
    assert warnings == []
    assert ("Classes 2, 4 of 'labels' are black in its colour table, as a GeoTIFF colours the values it was given no "
            "colour for; they get colours of their own.") in lines
    table = gdal.ColorTable()
    table.SetColorEntry(1, (255, 0, 0, 255))
    table.SetColorEntry(2, (0, 0, 0, 0))
    vrt = gdal.Translate(str(tmp_path / "labels.vrt"), path, format="VRT")
    vrt.GetRasterBand(1).SetRasterColorTable(table)
    vrt = None
    labels = labels_from_raster(scene, str(tmp_path / "labels.vrt"), "vrt")
    assert [info.color for info in labels.classes][0] == "#ff0000"
    assert "#000000" not in [info.color for info in labels.classes]


def test_label_raster_classes_sharing_a_colour_or_a_name_are_warned_of(tmp_path, scene):
    """A colour table that gives two classes one colour made them look alike in the map without a word;
    the names of a raster's categories are checked as a layer's are."""
    labels_array = np.zeros((HEIGHT, WIDTH), np.uint8)
    labels_array[0, :4] = [1, 2, 3, 4]
    path = write_raster(tmp_path / "labels.tif", labels_array,
                        color_table={1: (40, 40, 40), 2: (40, 40, 40), 3: (40, 40, 40), 4: (0, 128, 255)},
                        category_names=["", "Crops", "Crops", "Woods", "Water"])
    warnings = []
    labels = labels_from_raster(scene, path, "labels", Hooks(warn=warnings.append))
    assert [info.color for info in labels.classes] == ["#282828"] * 3 + ["#0080ff"]
    assert warnings == [
        "Classes of 'labels' share a name ('Crops': classes 1, 2): the map's legend will not tell them apart; give "
        "each class a name of its own.",
        "Classes of 'labels' share a colour ('#282828': classes 1, 2, 3): the map will show them alike; give each "
        "class a colour of its own.",
    ]


def test_label_raster_on_another_grid_is_warped_with_the_nearest_neighbour(tmp_path, scene):
    coarse = np.zeros((4, 5), np.uint8)
    coarse[0, 1] = 2
    coarse[1, 0] = 5
    coarse[3, 4] = 2
    coarse_gt = (ORIGIN_X - 1, 3.0, 0.0, ORIGIN_Y + 1, 0.0, -3.0)
    path = write_raster(tmp_path / "labels.tif", coarse, coarse_gt)
    labels = labels_from_raster(scene, path, "labels")
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    coarse_rows, coarse_cols = (rows + 1) // 3, (cols + 1) // 3
    inside = (coarse_rows < 4) & (coarse_cols < 5)
    expected = np.zeros((HEIGHT, WIDTH), int)
    expected[inside] = coarse[coarse_rows[inside], coarse_cols[inside]]
    assert _pixels(labels) == [(r, c, expected[r, c]) for r, c in zip(*np.nonzero(expected))]
    assert set(labels.values.tolist()) == {2, 5}


def _with_internal_mask(path, hidden):
    """Give the raster at `path` an internal (per-dataset) mask that hides the pixels `hidden`."""
    dataset = gdal.Open(str(path), gdal.GA_Update)
    dataset.CreateMaskBand(gdal.GMF_PER_DATASET)
    mask = np.full((dataset.RasterYSize, dataset.RasterXSize), 255, np.uint8)
    mask[hidden] = 0
    dataset.GetRasterBand(1).GetMaskBand().WriteArray(mask)
    dataset = None
    return path


def _with_alpha(path, hidden):
    """The one-band raster at `path` with nodata 0 and an alpha band that hides the pixels `hidden`."""
    source = gdal.Open(str(path))
    alpha = np.full((source.RasterYSize, source.RasterXSize), 255, np.uint8)
    alpha[hidden] = 0
    copy = str(path).replace(".tif", "-alpha.tif")
    write_raster(copy, np.stack([source.ReadAsArray(), alpha]), source.GetGeoTransform(), nodata=0)
    target = gdal.Open(copy, gdal.GA_Update)
    target.GetRasterBand(2).SetColorInterpretation(gdal.GCI_AlphaBand)
    target = None
    return copy


def _with_alpha_and_mask(path, hidden):
    """An alpha band that hides the first of the pixels `hidden`, and a mask band the other."""
    (rows, cols) = hidden
    return _with_internal_mask(_with_alpha(path, (rows[:1], cols[:1])), (rows[1:], cols[1:]))


@pytest.mark.parametrize("grid", ["the scene's", "another"])
@pytest.mark.parametrize("hide", [_with_internal_mask, _with_alpha, _with_alpha_and_mask])
def test_label_pixels_a_mask_or_alpha_band_hides_are_unlabelled_on_any_grid(tmp_path, scene, grid, hide):
    """A label raster's own mask (a per-dataset mask band) was honoured when the raster was
    warped onto the scene, and ignored on the scene's grid, where a hidden pixel trained; an
    alpha band too, where the band had a nodata value (red team of 2026-12-04)."""
    down, right = (0, 0) if grid == "the scene's" else (1, 2)  # another: a larger raster, offset
    labels_array = np.zeros((HEIGHT + down, WIDTH + right), np.uint8)
    labels_array[2 + down, 3 + right] = labels_array[2 + down, 4 + right] = labels_array[5 + down, right] = 1
    labels_array[0, WIDTH + right - 1] = 1  # hidden, and outside the scene when the raster is larger
    transform = (ORIGIN_X - right, 1.0, 0.0, ORIGIN_Y + down, 0.0, -1.0)
    path = hide(write_raster(tmp_path / "labels.tif", labels_array, transform),
                ([2 + down, 0], [4 + right, WIDTH + right - 1]))
    labels = labels_from_raster(scene, path, "labels")
    assert _pixels(labels) == [(2, 3, 1), (5, 0, 1)] and labels.outside == 0


def test_label_pixels_outside_the_scene_are_counted_in_the_labels_own_pixels(tmp_path, scene):
    """A coarser reference whose edge pixels reach into the map had them counted as outside it,
    though the warp takes them (red team of 2026-12-04): only pixels beyond every centre count."""
    coarse = np.ones((7, 12), np.uint8)  # 2 m pixels from 1.4 m west and north of the scene's corner
    path = write_raster(tmp_path / "coarse.tif", coarse, (ORIGIN_X - 1.4, 2.0, 0.0, ORIGIN_Y + 1.4, 0.0, -2.0))
    labels = labels_from_raster(scene, path, "coarse")
    assert len(labels.values) == HEIGHT * WIDTH - 1  # the scene's nodata pixel aside
    assert (labels.outside, labels.outside_unit) == (3 * 7, "pixels")  # the columns from 16.6 m east


def test_a_finer_reference_of_the_map_s_very_extent_has_no_pixel_outside_it(tmp_path, scene):
    """Its pixels between the map's edges and its first pixel centres were said to lie outside
    (red team of 2026-12-04: 92 of them, in the log and in the accuracy report)."""
    fine = np.ones((4 * HEIGHT, 4 * WIDTH), np.uint8)
    path = write_raster(tmp_path / "fine.tif", fine, (ORIGIN_X, 0.25, 0.0, ORIGIN_Y, 0.0, -0.25))
    labels = labels_from_raster(scene, path, "fine")
    assert labels.outside == 0
    assert len(labels.values) == HEIGHT * WIDTH - 1  # the scene's nodata pixel aside




def test_a_finer_label_raster_holding_no_pixel_centre_of_the_grid_is_told_to_be_resampled(tmp_path, scene):
    """A review of 2026-12-06: labels in a corner of each pixel of a raster four times finer, over the scene,
    were refused as 'all lie outside the hyperspectral layer'."""
    corners = np.zeros((HEIGHT * 4, WIDTH * 4), np.uint8)
    corners[::4, ::4] = 1 + np.arange(HEIGHT * WIDTH).reshape(HEIGHT, WIDTH) % 2
    path = write_raster(tmp_path / "finer.tif", corners, (ORIGIN_X, 0.25, 0.0, ORIGIN_Y, 0.0, -0.25))
    with pytest.raises(InputError) as refused:
        labels_from_raster(scene, path, "finer")
    assert str(refused.value) == (
        f"LABELS: the {HEIGHT * WIDTH} labelled pixels of 'finer' over the hyperspectral layer 'hsi' hold none of its "
        "pixel centres, which take the label there (a label raster finer than that grid). Resample 'finer' onto that "
        "grid first (by majority: gdalwarp -r mode).")


def test_label_raster_without_labels_is_an_error(tmp_path, scene):
    path = write_raster(tmp_path / "labels.tif", np.zeros((HEIGHT, WIDTH), np.uint8))
    with pytest.raises(InputError, match=r"^LABELS: the label layer 'empty' holds no labelled pixel"):
        labels_from_raster(scene, path, "empty")



def test_class_texts_written_apart_that_give_one_number_are_warned_of(tmp_path, scene):
    """Red team of 2026-12-04: '3', '03' and '+3' became one class without a word."""
    features = [(point_wkt(*pixel_centre(row, 2)), {"class": text}) for row, text in enumerate(["3", "03", "+3", "5"])]
    path = write_vector(tmp_path / "texts.gpkg", features, {"class": ogr.OFTString})
    warnings = _warned(lambda hooks: labels_from_vector(scene, path, None, "class", None, "texts", hooks))
    assert warnings == ["The class field 'class' of 'texts' writes one class in several ways ('+3', '03' and '3' are "
                        "class 3); write each class one way if they are meant apart."]


def test_whole_numbers_a_text_class_field_renumbers_are_warned_of(tmp_path, scene):
    """Red team of 2026-12-04: with '1,0' beside '1', every class became a name numbered in sorted
    order, and the class written '2' became value 3 of the map without a word."""
    texts = ["1", "1,0", "2", "2,0"]
    features = [(point_wkt(*pixel_centre(row, 2)), {"class": text}) for row, text in enumerate(texts)]
    path = write_vector(tmp_path / "texts.gpkg", features, {"class": ogr.OFTString})
    warnings = _warned(lambda hooks: labels_from_vector(scene, path, None, "class", None, "texts", hooks))
    assert warnings == ["The class field 'class' of 'texts' holds whole numbers and other texts ('1,0', '2,0'), so "
                        "every class is taken as a name and numbered in sorted order ('2' is 3 in the map); write every "
                        "class as a whole number to keep its value."]


@pytest.mark.parametrize("texts, said", [
    (["1", "2", "A1", "A2"], "'1', '2' are classes of their own beside the others (4 classes)"),
    (["1", "Water", "Soil"], "'1' is a class of its own beside the others (3 classes)"),
])
def test_whole_numbers_beside_names_that_keep_their_values_by_chance_are_warned_of(tmp_path, scene, texts, said):
    """A helper's desktop check of the ninth session of 2026-12-06: '1'-'7' beside 'A1'-'A7' (half the points
    coded, half named) trained 14 classes without a word, as the sorted order left each number its value."""
    features = [(point_wkt(*pixel_centre(row, 2)), {"class": text}) for row, text in enumerate(texts)]
    path = write_vector(tmp_path / "mixed.gpkg", features, {"class": ogr.OFTString})
    warnings = _warned(lambda hooks: labels_from_vector(scene, path, None, "class", None, "mixed", hooks))
    others = ", ".join(f"'{text}'" for text in sorted(texts) if not text.isdigit())
    assert warnings == [f"The class field 'class' of 'mixed' holds whole numbers and other texts ({others}), so every "
                        f"class is taken as a name: {said}. Where a number and a name mean one class, write it one "
                        "way."]


@pytest.mark.parametrize("texts, shared", [
    # Red team of 2026-12-04: 'Water' and 'Water' with a zero-width space were two classes of one
    # name in the map's legend without a word.
    (["Water", "Water\u200b", "Soil"], "'Water': classes 2, 3"),
    # Red team of 2026-12-05: 'Forest' and 'forest' too, and an assessment by name merged them.
    (["Forest", "forest", "Soil"], "'Forest' or 'forest': classes 1, 3"),
    # Session of 2026-12-05: 'Apple trees' typed once with two spaces, shown as one name.
    (["Apple trees", "Apple  trees", "Soil"], "'Apple trees': classes 1, 2"),
])
def test_class_names_that_look_alike_in_a_legend_are_warned_of(tmp_path, scene, texts, shared):
    features = [(point_wkt(*pixel_centre(row, 2)), {"class": text}) for row, text in enumerate(texts)]
    path = write_vector(tmp_path / "names.gpkg", features, {"class": ogr.OFTString})
    warnings = _warned(lambda hooks: labels_from_vector(scene, path, None, "class", None, "names", hooks))
    assert warnings == [f"Classes of 'names' share a name ({shared}): they are learnt as different classes, which "
                        "the map's legend will not tell apart; if they are one class, write its name alike in every "
                        "feature, else give each class a name of its own."]


def _windows_shapefile(tmp_path, names, declared: bool) -> str:
    """A point shapefile of class texts in Windows-1252, with a .cpg saying so or no word of it."""
    path = str(tmp_path / "legacy.shp")
    previous = gdal.GetConfigOption("SHAPE_ENCODING")
    gdal.SetConfigOption("SHAPE_ENCODING", None)  # OGR's own behaviour, whatever an earlier test set
    try:
        source = ogr.GetDriverByName("ESRI Shapefile").CreateDataSource(path)
        layer = source.CreateLayer("legacy", None, ogr.wkbPoint, options=["ENCODING=CP1252"])
        layer.CreateField(ogr.FieldDefn("class", ogr.OFTString))
        for row, name in enumerate(names):
            feature = ogr.Feature(layer.GetLayerDefn())
            feature.SetGeometry(ogr.CreateGeometryFromWkt(point_wkt(*pixel_centre(row, 2))))
            feature.SetField("class", name)
            layer.CreateFeature(feature)
        source = layer = feature = None
    finally:
        gdal.SetConfigOption("SHAPE_ENCODING", previous)
    if not declared:
        (tmp_path / "legacy.cpg").unlink()
        with open(tmp_path / "legacy.dbf", "r+b") as dbf:  # no language driver byte either
            dbf.seek(29)
            dbf.write(b"\0")
    assert "Forêt".encode("cp1252") in (tmp_path / "legacy.dbf").read_bytes()
    return path


@pytest.mark.parametrize("qgis_setting", [None, ""])
@pytest.mark.parametrize("declared", [True, False])
def test_texts_of_a_windows_shapefile_are_read_in_its_encoding_or_as_windows_1252(tmp_path, scene, declared,
                                                                                 qgis_setting):
    """'Forêt' and 'Prés' became 'For t' and 'Pr s' in the map's legend without a word (red team of
    2026-12-04): without a .cpg OGR passes the bytes on, and in QGIS (which sets SHAPE_ENCODING
    empty, to decode itself) even with one."""
    path = _windows_shapefile(tmp_path, ["Forêt", "Prés", "Forêt"], declared)
    previous = gdal.GetConfigOption("SHAPE_ENCODING")
    gdal.SetConfigOption("SHAPE_ENCODING", qgis_setting)
    try:
        warnings = []
        labels = labels_from_vector(scene, path, None, "class", None, "legacy", Hooks(warn=warnings.append))
    finally:
        gdal.SetConfigOption("SHAPE_ENCODING", previous)
    assert [info.name for info in labels.classes] == ["Forêt", "Prés"]
    assert warnings == ([] if declared else [
        "Texts of 'legacy' are not valid in the encoding its file gives (UTF-8 where it names none): they are read "
        "as Windows-1252 ('Forêt', 'Prés'). If that is wrong, save the layer in UTF-8 (as a GeoPackage, say), or "
        "give a shapefile a .cpg file naming its encoding."])
    assert gdal.GetConfigOption("SHAPE_ENCODING") == previous


def test_texts_a_layer_s_reader_could_not_decode_are_warned_of(tmp_path, scene):
    """A helper's red team of 2026-12-07: a CSV in Windows-1252 that QGIS read as UTF-8 trained 'Pr\ufffds' and
    'For\ufffdt' without a word, and an assessment by name scored 25 % where the map was right."""
    path = _points(tmp_path, [((0, 0), {"label": "Pr\ufffds"}), ((1, 1), {"label": "For\ufffdt"}),
                              ((2, 2), {"label": "Eau"})])
    warnings = []
    labels = labels_from_vector(scene, path, None, "label", None, "wrongenc", Hooks(warn=warnings.append))
    assert [info.name for info in labels.classes] == ["Eau", "For\ufffdt", "Pr\ufffds"]
    assert warnings == [
        "Texts of 'wrongenc' hold characters that could not be read (shown \ufffd: 'For\ufffdt', 'Pr\ufffds'): the "
        "layer was read in another encoding than its file's. Set the layer's encoding (Layer Properties > Source > "
        "Data source encoding) or save it in UTF-8, and run again."]


def test_a_shapefile_whose_cpg_names_an_unknown_encoding_is_said_so(tmp_path, scene):
    """A helper's red team of 2026-12-07: with a .cpg of 'klingon' the texts were said not to be valid in the encoding
    the file gives, not that it names none known."""
    path = _windows_shapefile(tmp_path, ["Forêt", "Prés"], True)
    (tmp_path / "legacy.cpg").write_text("klingon")
    warnings = []
    labels = labels_from_vector(scene, path, None, "class", None, "legacy", Hooks(warn=warnings.append))
    assert [info.name for info in labels.classes] == ["Forêt", "Prés"]
    assert warnings == [
        "Texts of 'legacy' are read as Windows-1252 ('Forêt', 'Prés'): its .cpg file names 'klingon', an encoding "
        "not known here. If that is wrong, save the layer in UTF-8 (as a GeoPackage, say), or give a shapefile a .cpg "
        "file naming its encoding."]


def test_a_table_without_geometries_is_said_to_be_one(tmp_path, scene):
    """A CSV of X and Y columns was refused as samples outside the rasters, with advice on their
    CRS (red team of 2026-12-04)."""
    x, y = pixel_centre(2, 3)
    (tmp_path / "points.csv").write_text(f"X,Y,class\n{x},{y},1\n{x + 1},{y},2\n")
    lines = []
    with pytest.raises(InputError, match=r"^The features of 'points' have no geometry \(a table's rows, such as a CSV "
                                         r"file's with coordinate columns\), so they lie nowhere on the rasters\."):
        labels_from_vector(scene, str(tmp_path / "points.csv"), None, "class", None, "points", Hooks(log=lines.append))
    # The session of 2026-12-07: the refusal came after "2 of the 2 features of 'points' have no geometry; they are
    # left out.", which it says itself.
    assert lines == ["'points' has no CRS; its coordinates are taken to be in the CRS of 'hsi'."]


def test_features_without_geometry_or_between_pixel_centres_are_not_said_to_lie_outside(tmp_path, scene):
    """A reference's polygon smaller than a pixel, and its rows without a geometry, were counted as
    lying outside the map (red team of 2026-12-04)."""
    x, y = pixel_centre(4, 4)
    features = [(point_wkt(*pixel_centre(1, 1)), {"class": 1}), (None, {"class": 2}),
                (box_wkt(x + 0.1, y + 0.1, x + 0.3, y + 0.3), {"class": 2}), (point_wkt(x + 100, y), {"class": 2})]
    path = write_vector(tmp_path / "mixed.gpkg", features, INT_FIELDS)
    lines, warnings = [], []
    labels = labels_from_vector(scene, path, None, "class", None, "mixed", Hooks(log=lines.append, warn=warnings.append))
    assert _pixels(labels) == [(1, 1, 1)] and (labels.outside, labels.outside_unit) == (1, "features")
    grid = "the hyperspectral layer 'hsi'"
    # A red team of 2026-12-05: a class whose every feature was left out went with these lines only.
    assert warnings == [f"1 class of 'mixed' ('2') selects no pixel of {grid}: its features lie outside it, between "
                        "pixel centres or nowhere (without a geometry), so it is left out."]
    assert [line for line in lines if line.startswith("1 of the 4 features")] == [
        "1 of the 4 features of 'mixed' has no geometry; it is left out.",
        f"1 of the 4 features of 'mixed' lies outside {grid}; it is left out.",
        f"1 of the 4 features of 'mixed' covers no pixel centre of {grid} (smaller than a pixel); it is left out."]
    ring = (f"POLYGON (({x - 100} {y - 100}, {x + 100} {y - 100}, {x + 100} {y + 100}, {x - 100} {y + 100}, "
            f"{x - 100} {y - 100}), ({x - 50} {y - 50}, {x + 50} {y - 50}, {x + 50} {y + 50}, {x - 50} {y + 50}, "
            f"{x - 50} {y - 50}))")
    # beside the grid's north-east corner, its bounding box over the grid's
    beside = f"POLYGON (({x + 9.5} {y + 9.5}, {x + 25.5} {y + 9.5}, {x + 25.5} {y - 15.5}, {x + 9.5} {y + 9.5}))"
    around = write_vector(tmp_path / "around.gpkg", [(ring, {"class": 1}), (beside, {"class": 2})], INT_FIELDS)
    with pytest.raises(InputError, match=r"^None of the samples of 'around' falls inside"):
        labels_from_vector(scene, around, None, "class", None, "around")
    tiny = write_vector(tmp_path / "tiny.gpkg", features[2:3], INT_FIELDS)
    with pytest.raises(InputError, match=rf"^No sample of 'tiny' covers a pixel centre of {grid}: 1 of them lies "):
        labels_from_vector(scene, tiny, None, "class", None, "tiny")


def _warned(call):
    warnings = []
    call(Hooks(warn=warnings.append))
    return warnings


def test_an_image_given_as_labels_warns_that_every_value_became_a_class(tmp_path, scene):
    intensities = (np.arange(HEIGHT * WIDTH) % 96 + 1).reshape(HEIGHT, WIDTH).astype(np.uint16)
    path = write_raster(tmp_path / "intensity.tif", intensities)
    warnings = _warned(lambda hooks: labels_from_raster(scene, path, "intensity", hooks))
    assert warnings == ["'intensity' holds 96 classes, more than a land-cover legend has: every value is taken "
                        "as a class. If the values are identifiers or image values, choose the layer or field "
                        "that holds the classes."]


def test_a_field_of_feature_ids_warns_that_most_classes_have_one_pixel(tmp_path, scene):
    path = _points(tmp_path, [((row, row), {"class": row + 1}) for row in range(10)])
    warnings = _warned(lambda hooks: labels_from_vector(scene, path, None, "class", None, "points", hooks))
    assert len(warnings) == 1 and warnings[0].startswith("'points' has a single labelled pixel in 10 of its 10 classes")


@pytest.mark.parametrize("classes, per_class", [(50, 3), (12, 2), (9, 1)])
def test_ordinary_labels_do_not_warn(tmp_path, scene, classes, per_class):
    values = np.zeros(HEIGHT * WIDTH, np.uint8)
    values[:classes * per_class] = np.repeat(np.arange(1, classes + 1), per_class)
    path = write_raster(tmp_path / "labels.tif", values.reshape(HEIGHT, WIDTH))
    assert _warned(lambda hooks: labels_from_raster(scene, path, "labels", hooks)) == []


def _labels(counts):
    values = np.concatenate([np.full(n, value) for value, n in counts.items()]).astype(np.int64)
    positions = np.arange(len(values), dtype=np.int64)
    classes = [ClassInfo(v, f"class {v}", c) for v, c in zip(counts, default_colors(len(counts)))]
    return LabelledPixels(positions // WIDTH, positions % WIDTH, values, classes)


def test_the_split_counts_the_pixels_of_many_classes_together_after_the_first_thirty():
    """Red team of 2026-12-04: an ID field taken for the classes logged 1,000 lines of class counts."""
    lines, hooks = _logger()
    stratified_split(_labels({value: 2 for value in range(1, 41)}), 0.0, seed=0, hooks=hooks)
    assert lines[29] == "Class 'class 30' (30): 2 training pixels."
    assert lines[30:] == ["... and 10 classes more: 80 training and 0 validation pixels in all 40 classes."]


def test_stratified_split_keeps_at_least_one_per_class_on_each_side():
    labels = _labels({1: 40, 2: 3, 3: 2, 4: 11})
    lines, hooks = _logger()
    train, val = stratified_split(labels, 0.25, seed=7, hooks=hooks)
    assert val.counts() == {1: 10, 2: 1, 3: 1, 4: 3}
    assert train.counts() == {1: 30, 2: 2, 3: 1, 4: 8}
    flat = lambda part: set((part.rows * WIDTH + part.cols).tolist())  # noqa: E731
    assert flat(train).isdisjoint(flat(val)) and flat(train) | flat(val) == set(range(56))
    assert np.all(np.diff(train.rows * WIDTH + train.cols) > 0)
    assert "Class 'class 4' (4): 8 training pixels, 3 validation pixels." in lines
    again_train, _ = stratified_split(labels, 0.25, seed=7)
    other_train, _ = stratified_split(labels, 0.25, seed=8)
    np.testing.assert_array_equal(train.cols, again_train.cols)
    assert not np.array_equal(train.cols, other_train.cols)


def test_stratified_split_keeps_at_least_one_training_pixel_per_class():
    train, val = stratified_split(_labels({1: 2, 2: 10}), 0.8, seed=0)
    assert train.counts() == {1: 1, 2: 2} and val.counts() == {1: 1, 2: 8}


def test_stratified_split_with_no_validation_keeps_everything_for_training():
    labels = _labels({1: 1, 2: 4})
    train, val = stratified_split(labels, 0.0, seed=0)
    assert train.counts() == {1: 1, 2: 4} and len(val.values) == 0


def test_a_class_with_too_few_samples_for_the_split_is_an_error_naming_it():
    with pytest.raises(InputError, match=r"The class 'class 2' \(value 2\) has 1 sample; the validation split needs at least 2"):
        stratified_split(_labels({1: 5, 2: 1}), 0.2, seed=0)


def test_random_valid_positions_are_distinct_valid_and_reproducible(scene):
    rows, cols = random_valid_positions(scene, 50, seed=1, tile_size=5)
    again = random_valid_positions(scene, 50, seed=1, tile_size=5)
    assert len(rows) == 50 and len(set(zip(rows.tolist(), cols.tolist()))) == 50
    assert (11, 15) not in set(zip(rows.tolist(), cols.tolist()))
    np.testing.assert_array_equal(rows, again[0])
    np.testing.assert_array_equal(cols, again[1])


def test_random_valid_positions_take_every_valid_pixel_when_too_few(scene):
    lines, hooks = _logger()
    rows, cols = random_valid_positions(scene, 1000, seed=0, hooks=hooks, window=Window(12, 8, 4, 4))
    assert sorted(zip(rows.tolist(), cols.tolist())) == [(r, c) for r in range(8, 12) for c in range(12, 16) if (r, c) != (11, 15)]
    assert any("Only 15 valid pixels" in line for line in lines)


def test_random_valid_positions_are_uniform_over_the_scene(scene):
    counts = np.zeros((HEIGHT, WIDTH))
    for seed in range(200):
        rows, cols = random_valid_positions(scene, 20, seed=seed, tile_size=5)
        np.add.at(counts, (rows, cols), 1)
    assert counts[11, 15] == 0
    others = np.delete(counts.ravel(), 11 * WIDTH + 15)
    assert others.sum() == 4000
    assert abs(counts[:6].sum() - counts[6:].sum()) < 0.1 * 4000
    assert abs(counts[:, :5].sum() / 5 - counts[:, 5:].sum() / 11) < 0.1 * 4000 / 16


def test_random_valid_positions_stay_inside_the_mask_polygons_reprojected(tmp_path, scene):
    corners = [(ORIGIN_X + 1, ORIGIN_Y - 3), (ORIGIN_X + 4, ORIGIN_Y - 3), (ORIGIN_X + 4, ORIGIN_Y - 1), (ORIGIN_X + 1, ORIGIN_Y - 1)]
    ring = transform_points(corners + corners[:1], UTM32, "EPSG:3857")
    polygon = "POLYGON ((" + ", ".join(f"{x!r} {y!r}" for x, y in ring) + "))"
    mask = write_vector(tmp_path / "mask.gpkg", [(polygon, {}), (None, {})], {}, crs="EPSG:3857")
    rows, cols = random_valid_positions(scene, 100, seed=0, mask_path=mask, mask_name="mask", tile_size=4)
    assert sorted(zip(rows.tolist(), cols.tolist())) == [(r, c) for r in (1, 2) for c in (1, 2, 3)]


def test_points_and_lines_in_a_mask_s_geometry_collection_hide_no_pixel(tmp_path, scene):
    """Red team of 2026-12-04: the point and the line of a collection beside its polygon counted as
    mask area (suggestions on them); a mask is its polygons' area only."""
    polygon = box_wkt(ORIGIN_X + 1, ORIGIN_Y - 3, ORIGIN_X + 3, ORIGIN_Y - 1)[len("POLYGON "):]
    x, y = pixel_centre(8, 8)
    collection = (f"GEOMETRYCOLLECTION (POLYGON {polygon}, POINT ({x} {y}), "
                  f"LINESTRING ({ORIGIN_X + 0.5} {ORIGIN_Y - 10.5}, {ORIGIN_X + 12.5} {ORIGIN_Y - 10.5}))")
    mask = write_vector(tmp_path / "mask.gpkg", [(collection, {})], {})
    rows, cols = random_valid_positions(scene, 100, seed=0, mask_path=mask, mask_name="mask", tile_size=4)
    assert sorted(zip(rows.tolist(), cols.tolist())) == [(r, c) for r in (1, 2) for c in (1, 2)]


@pytest.mark.parametrize("stored, up, mirrored_advice", [
    (None, -1, r"QGIS lays row r at y = -r: samples placed at y = \+r .* lie mirrored"),
    # A helper's red team of 2026-12-07: QGIS lays a file holding GDAL's pixel space at y = +row; the plugin
    # took it to lie at y = -row, and its map lay mirrored beside it.
    ((0.0, 1.0, 0.0, 0.0, 0.0, 1.0), 1,
     r"Its file places row r at y = \+r .*: samples placed at y = -r .* lie mirrored"),
])
def test_a_scene_without_georeferencing_lies_where_qgis_lays_it(tmp_path, stored, up, mirrored_advice):
    """Red team of 2026-12-05: QGIS lays a raster without georeferencing at x = column, y = -row;
    the plugin read it at y = +row, so points digitised on the scene in QGIS fell outside it, and
    its map lay mirrored beside it."""
    from mrs.mrs_qgis_plugin.raster.predict import predict_scene

    hsi = str(tmp_path / "hsi.tif")
    dataset = gdal.GetDriverByName("GTiff").Create(hsi, 8, 6, 4, gdal.GDT_Float32)
    dataset.WriteArray(np.random.default_rng(0).uniform(0.1, 0.5, (4, 6, 8)).astype(np.float32))
    if stored:
        dataset.SetGeoTransform(stored)
    dataset = None
    assert gdal.Open(hsi).GetGeoTransform(can_return_null=True) == stored
    placed = (0.0, 1.0, 0.0, 0.0, 0.0, float(up))
    points = write_vector(tmp_path / "points.gpkg", [(point_wkt(3.5, up * 2.5), {"class": 1}),
                                                     (point_wkt(6.5, up * 5.5), {"class": 2})],
                          {"class": ogr.OFTInteger}, crs=None)
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        assert scene.geotransform == placed and not scene.grid.georeferenced
        labels = labels_from_vector(scene, points, None, "class", None, "points", Hooks())
        assert sorted(zip(labels.rows.tolist(), labels.cols.tolist(), labels.values.tolist())) == [(2, 3, 1), (5, 6, 2)]
        # Points made for the other pixel space (this plugin's suggestions before then) are said to lie mirrored.
        mirrored = write_vector(tmp_path / "mirrored.gpkg", [(point_wkt(3.5, -up * 2.5), {"class": 1})],
                                {"class": ogr.OFTInteger}, crs=None)
        with pytest.raises(InputError, match=mirrored_advice):
            labels_from_vector(scene, mirrored, None, "class", None, "mirrored", Hooks())
        predict_scene(scene, lambda tile, valid, hooks=None: (np.zeros(valid.shape, np.int64)[1:-1, 1:-1],
                                                              np.ones(valid.shape, np.float32)[1:-1, 1:-1]),
                      1, [ClassInfo(1, "One", "#ff0000")], str(tmp_path / "map.tif"), None)
    assert gdal.Open(str(tmp_path / "map.tif")).GetGeoTransform() == placed


def test_features_that_reach_beyond_the_grid_are_said_to_be_counted_in_part(tmp_path, scene):
    """Review of 2026-12-05: a reference polygon two thirds outside the map was counted for the third
    inside it without a word, where a label raster's pixels outside are counted and said."""
    features = [(box_wkt(ORIGIN_X - 4, ORIGIN_Y - 3, ORIGIN_X + 2, ORIGIN_Y - 1), {"class": 1}),
                (box_wkt(ORIGIN_X + 4, ORIGIN_Y - 3, ORIGIN_X + 6, ORIGIN_Y - 1), {"class": 2}),
                (point_wkt(ORIGIN_X + 0.5, ORIGIN_Y - 0.5), {"class": 2})]
    path = write_vector(tmp_path / "zones.gpkg", features, {"class": ogr.OFTInteger})
    lines: list = []
    labels = labels_from_vector(scene, path, None, "class", None, "zones", Hooks(log=lines.append))
    assert len(labels.values) == 4 + 4 + 1
    assert "1 of the 3 features of 'zones' reaches beyond the hyperspectral layer 'hsi'; its parts outside it are " \
           "left out." in lines


def test_a_mask_whose_polygons_lie_outside_the_scene_is_said_to_be_so(tmp_path, scene):
    """Session of 2026-12-05: pretraining said no pixel inside the mask had valid values in every
    layer, which points at the layers' nodata, for polygons a kilometre away."""
    mask = write_vector(tmp_path / "mask.gpkg", [(box_wkt(ORIGIN_X + 1000, ORIGIN_Y - 12, ORIGIN_X + 1016, ORIGIN_Y), {})],
                        {})
    with pytest.raises(InputError) as refused:
        random_valid_positions(scene, 10, seed=0, mask_path=mask, mask_name="zone")
    assert str(refused.value) == ("MASK: the polygons of 'zone' cover no pixel of the hyperspectral layer 'hsi'. Choose "
                                  "polygons over the scene (and check their CRS).")
    # A red team of 2026-12-05: an extent beside the mask was said to hold no valid pixel (check the nodata).
    mask = write_vector(tmp_path / "left.gpkg", [(box_wkt(ORIGIN_X, ORIGIN_Y - 12, ORIGIN_X + 4, ORIGIN_Y), {})], {})
    with pytest.raises(InputError) as refused:
        random_valid_positions(scene, 10, seed=0, window=Window(8, 0, 8, 12), mask_path=mask, mask_name="zone")
    assert str(refused.value) == ("MASK: the polygons of 'zone' cover no pixel of the hyperspectral layer 'hsi' in the "
                                  "extent. Choose polygons over the scene (and check their CRS), or an extent that "
                                  "overlaps them.")


def test_a_mask_without_a_polygon_of_its_own_is_refused_naming_mask(tmp_path, scene):
    """A helper's audit of 2026-12-06: 'The mask layer ... has no polygons. Choose a polygon layer' of a polygon
    layer whose features have no geometry, with no MASK: as its neighbours have."""
    mask = write_vector(tmp_path / "mask.gpkg", [(None, {}), (None, {})], {})
    with pytest.raises(InputError) as refused:
        random_valid_positions(scene, 10, seed=0, mask_path=mask, mask_name="zone")
    assert str(refused.value) == ("MASK: the layer 'zone' holds no polygon (no feature with a polygon of its own). "
                                  "Choose a layer of polygons as the mask.")


def test_mask_polygons_that_cannot_be_reprojected_are_said_to_be_left_out(tmp_path, scene):
    """A helper's red team of 2026-12-05: UTM numbers labelled EPSG:4326 were said to be 'no polygons',
    and a world polygon beside a valid one counted for nothing without a word."""
    corners = transform_points([(ORIGIN_X + 1, ORIGIN_Y - 3), (ORIGIN_X + 3, ORIGIN_Y - 1)], UTM32, "EPSG:4326")
    (x0, y0), (x1, y1) = corners
    small = box_wkt(x0, y0, x1, y1)
    broken = box_wkt(ORIGIN_X, ORIGIN_Y - 3, ORIGIN_X + 3, ORIGIN_Y)  # UTM numbers: no longitude, no latitude
    mask = write_vector(tmp_path / "wrong.gpkg", [(broken, {})], {}, crs="EPSG:4326")
    with pytest.raises(InputError) as refused:
        random_valid_positions(scene, 10, seed=0, mask_path=mask, mask_name="zone")
    assert str(refused.value) == ("MASK: the 1 polygon of 'zone' cannot be taken from its CRS (EPSG:4326) onto the "
                                  "hyperspectral layer 'hsi'. Check the layer's CRS.")
    mask = write_vector(tmp_path / "mixed.gpkg", [(small, {}), (broken, {})], {}, crs="EPSG:4326")
    warnings = []
    rows, cols = random_valid_positions(scene, 100, seed=0, mask_path=mask, mask_name="zone",
                                        hooks=Hooks(warn=warnings.append))
    assert sorted(zip(rows.tolist(), cols.tolist())) == [(r, c) for r in (1, 2) for c in (1, 2)]
    assert warnings == ["MASK: 1 of the 2 polygons of 'zone' cannot be taken from its CRS (EPSG:4326) onto the "
                        "hyperspectral layer 'hsi', and is left out. Check the layer's CRS."]


def test_reading_a_mask_of_many_polygons_stops_on_cancel(tmp_path, scene):
    """A helper's red team of 2026-12-05: 500,000 polygons were read for 17 s, Cancel waiting for the end."""
    from mrs.model_core.errors import Canceled
    from mrs.mrs_qgis_plugin.raster.vector_labels import FEATURES_PER_CHECK

    boxes = [(box_wkt(ORIGIN_X + n % 10, ORIGIN_Y - 1 - n // 10 % 10, ORIGIN_X + n % 10 + 1, ORIGIN_Y - n // 10 % 10), {})
             for n in range(3 * FEATURES_PER_CHECK)]
    mask = write_vector(tmp_path / "many.gpkg", boxes, {})
    looks = []
    with pytest.raises(Canceled):
        random_valid_positions(scene, 10, seed=0, mask_path=mask, mask_name="zone",
                               hooks=Hooks(is_canceled=lambda: looks.append(1) or len(looks) > 2))
    assert len(looks) == 3


def test_no_valid_pixel_in_the_mask_is_an_error(tmp_path, scene):
    mask = write_vector(tmp_path / "mask.gpkg", [(box_wkt(ORIGIN_X + 15, ORIGIN_Y - 12, ORIGIN_X + 16, ORIGIN_Y - 11), {})], {})
    with pytest.raises(InputError, match=r"No pixel inside the mask 'zone' has valid values in every layer \('hsi'\)"):
        random_valid_positions(scene, 10, seed=0, mask_path=mask, mask_name="zone")


def _band0_patches(rows, cols, patch):
    """Odd patches of band 0 (the pixel index, 0 on the nodata pixel), reflection-padded."""
    index = np.arange(HEIGHT * WIDTH, dtype=np.float32).reshape(HEIGHT, WIDTH)
    index[11, 15] = 0
    padded = np.pad(index, patch // 2, mode="reflect")
    return np.stack([padded[r : r + patch, c : c + patch] for r, c in zip(rows, cols)])


@pytest.mark.parametrize("patch", [1, 5, 4])
def test_cut_patches_gives_reflection_padded_windows_in_input_order(scene, patch):
    rng = np.random.default_rng(0)
    rows = rng.integers(0, HEIGHT, 60)
    cols = rng.integers(0, WIDTH, 60)
    reads = []
    read = scene.read
    scene.read = lambda *window, **kw: reads.append(window) or read(*window, **kw)
    seen = []

    def transform(raw, valid):
        seen.append(raw.shape)
        return np.concatenate([raw[:, :1], valid[:, None].astype(np.float32)], axis=1).astype(np.float64)

    patches = cut_patches(scene, rows, cols, patch, transform, Hooks(), tile_size=5)
    assert patches.shape == (60, 2, patch, patch) and patches.dtype == np.float64
    if patch % 2:
        np.testing.assert_array_equal(patches[:, 0], _band0_patches(rows, cols, patch))
    half = patch // 2
    np.testing.assert_array_equal(patches[:, 0, half, half], np.where((rows == 11) & (cols == 15), 0, rows * WIDTH + cols))
    centre_valid = patches[:, 1, half, half] == 1
    np.testing.assert_array_equal(centre_valid, ~((rows == 11) & (cols == 15)))
    blocks = {(r // 5, c // 5) for r, c in zip(rows, cols)}
    assert len(reads) == len(blocks) == len(seen)
    assert all(shape[1:] == (3, patch, patch) for shape in seen)


def test_cut_patches_for_an_even_patch_starts_half_a_patch_up_and_left(scene):
    patches = cut_patches(scene, [5], [6], 4, lambda raw, valid: raw, tile_size=5)
    index = np.arange(HEIGHT * WIDTH).reshape(HEIGHT, WIDTH)
    np.testing.assert_array_equal(patches[0, 0], index[3:7, 4:8])


def test_patch_larger_than_the_raster_is_an_error(scene):
    with pytest.raises(InputError, match=r"The patch size 13 does not fit the hyperspectral layer 'hsi' \(16 x 12 pixels\)"):
        cut_patches(scene, [0], [0], 13, lambda raw, valid: raw)


def test_default_colours_are_distinct_and_stable():
    colours = default_colors(30)
    assert len(set(colours)) == 30
    assert colours[:5] == default_colors(5)
    assert all(len(c) == 7 and c[0] == "#" and int(c[1:], 16) >= 0 for c in colours)



def test_a_class_whose_every_sample_shares_its_pixel_with_another_class_is_warned_of(tmp_path, scene):
    """A polygon of class 2 inside one of class 1 left class 2 out with an info line only (red team of
    2026-12-04); here class 2's two points share their pixels with class 1's."""
    features = [(point_wkt(*pixel_centre(2, 2)), {"class": 1}), (point_wkt(*pixel_centre(3, 3)), {"class": 1}),
                (point_wkt(*pixel_centre(2, 2)), {"class": 2}), (point_wkt(*pixel_centre(3, 3)), {"class": 2}),
                (point_wkt(*pixel_centre(5, 5)), {"class": 1})]
    path = write_vector(tmp_path / "nested.gpkg", features, INT_FIELDS)
    found = []
    warnings = _warned(lambda hooks: found.append(labels_from_vector(scene, path, None, "class", None, "nested",
                                                                      hooks)))
    assert [info.value for info in found[0].classes] == [1]
    assert warnings == ["1 class of 'nested' ('2') lost every sample: each of its pixels holds a sample of another "
                        "class too (a polygon inside another, say), so it is left out. Place samples of different "
                        "classes on different pixels."]


def test_a_point_on_the_grid_s_far_edges_falls_in_the_pixel_it_bounds(tmp_path, scene):
    """Such points were said to cover no pixel centre, as a polygon smaller than a pixel (red team of
    2026-12-04)."""
    east, _y = pixel_centre(2, WIDTH - 1)
    _x, south = pixel_centre(HEIGHT - 1, 3)
    features = [(point_wkt(east + 0.5, pixel_centre(2, 0)[1]), {"class": 1}),
                (point_wkt(pixel_centre(0, 3)[0], south - 0.5), {"class": 2})]
    path = write_vector(tmp_path / "edge.gpkg", features, INT_FIELDS)
    lines, hooks = _logger()
    labels = labels_from_vector(scene, path, None, "class", None, "edge", hooks)
    assert _pixels(labels) == [(2, WIDTH - 1, 1), (HEIGHT - 1, 3, 2)]
    assert labels.outside == 0 and not any("pixel centre" in line for line in lines)


@pytest.mark.parametrize("shift", [0.0, 1e-7, -1e-7])
def test_a_point_within_a_millionth_of_a_pixel_of_any_edge_falls_in_the_pixel_there(tmp_path, scene, shift):
    """A helper's red team of 2026-12-05: points on the grid's edges, reprojected from EPSG:4326 or
    3857, moved by 1e-10 m and fell outside on the left and top edges (6 and 14 of 48 in 4326) but
    not on the right and bottom ones."""
    edges = {"west": (ORIGIN_X - shift, pixel_centre(2, 0)[1]), "north": (pixel_centre(0, 3)[0], ORIGIN_Y + shift),
             "east": (ORIGIN_X + WIDTH + shift, pixel_centre(4, 0)[1]),
             "south": (pixel_centre(0, 5)[0], ORIGIN_Y - HEIGHT - shift)}
    features = [(point_wkt(*xy), {"class": number}) for number, xy in enumerate(edges.values(), start=1)]
    path = write_vector(tmp_path / "edges.gpkg", features, INT_FIELDS)
    labels = labels_from_vector(scene, path, None, "class", None, "edges", Hooks())
    assert _pixels(labels) == [(0, 3, 2), (2, 0, 1), (4, WIDTH - 1, 3), (HEIGHT - 1, 5, 4)]
    assert labels.outside == 0


@pytest.mark.parametrize("field_type,value,kind", [(ogr.OFTDate, "2020/01/01", "a date field"),
                                                   (ogr.OFTDateTime, "2020/01/01 10:00:00", "a date and time field")])
def test_a_class_field_of_dates_is_refused(tmp_path, scene, field_type, value, kind):
    """Classes named '2020/01/01' trained without a word (red team of 2026-12-04)."""
    path = write_vector(tmp_path / "dates.gpkg", [(point_wkt(*pixel_centre(1, 1)), {"class": value})],
                        {"class": field_type})
    with pytest.raises(InputError, match=f"^The class field 'class' of 'dates' is {kind}, which holds no classes. "
                                         r"Choose the field that holds each feature's class \(a whole number from 1, "
                                         r"or a name\)\.$"):
        labels_from_vector(scene, path, None, "class", None, "dates", Hooks())


def test_a_yes_no_class_field_is_said_to_be_one(tmp_path, scene):
    """It was refused for holding the value 0, without saying it is a yes/no field."""
    path = str(tmp_path / "flags.gpkg")
    dataset = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    srs = osr.SpatialReference()
    srs.SetFromUserInput(UTM32)
    layer = dataset.CreateLayer("flags", srs, ogr.wkbPoint)
    definition = ogr.FieldDefn("flag", ogr.OFTInteger)
    definition.SetSubType(ogr.OFSTBoolean)
    layer.CreateField(definition)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetField("flag", 1)
    feature.SetGeometry(ogr.CreateGeometryFromWkt(point_wkt(*pixel_centre(1, 1))))
    layer.CreateFeature(feature)
    dataset = None
    with pytest.raises(InputError, match="^The class field 'flag' of 'flags' is a yes/no \\(boolean\\) field"):
        labels_from_vector(scene, path, None, "flag", None, "flags", Hooks())



def test_a_class_field_is_found_by_its_very_name_before_one_alike_in_letter_case(tmp_path, scene):
    """Red team of 2026-12-05: OGR's look-up gave 'kind' for 'KIND' beside it (and under a Turkish
    locale no 'class_id' for 'CLASS_ID'); a name in another case still finds the one field alike."""
    import json

    x, y = pixel_centre(1, 2)
    features = [{"type": "Feature", "properties": {"kind": 1, "KIND": 2}, "geometry": {
        "type": "Point", "coordinates": [x + 2 * dx, y]}} for dx in range(3)]
    path = tmp_path / "both.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {
        "name": "urn:ogc:def:crs:EPSG::32632"}}, "features": features}))
    picked = {field: {info.value for info in labels_from_vector(scene, str(path), None, field, None, "both",
                                                                  Hooks()).classes}
              for field in ("KIND", "kind")}
    assert picked == {"KIND": {2}, "kind": {1}}
    one = write_vector(tmp_path / "one.gpkg", [(point_wkt(x, y), {"class_id": 4})], {"class_id": ogr.OFTInteger})
    assert [info.value for info in labels_from_vector(scene, one, None, "CLASS_ID", None, "one", Hooks()).classes] == [4]


def test_positions_asked_for_as_many_as_or_more_than_the_valid_pixels_are_said_so(scene):
    """A helper's desktop check of 2026-12-06: 'Only 2,304 valid pixels are available for 2,304 requested
    positions' of exactly enough."""
    valid = HEIGHT * WIDTH - 1
    for asked, said in ((valid, f"The {valid:,} requested positions take every valid pixel there is."),
                        (valid + 5, f"Only {valid:,} valid pixels are available for {valid + 5:,} requested "
                                    "positions; all of them are used."),
                        (valid - 1, None)):
        lines = []
        positions = random_valid_positions(scene, asked, 3, Hooks(log=lines.append))
        assert len(positions[0]) == min(asked, valid)
        assert [line for line in lines if "positions" in line] == ([said] if said else [])


def test_placeholder_and_decimal_rules_hold_at_their_edges(tmp_path, scene):
    """Mutants of a helper's audit of 2026-12-06 that no test caught: a field of 'NA' alone is a class named
    'NA' (nothing else tells it a placeholder), '2.00' keeps 2, and '2.0' beside a name is renumbered and
    said so; the early check refuses one class with its placeholders left out, for training samples only."""
    from mrs.mrs_qgis_plugin.raster.vector_labels import class_values_problem

    warnings = []
    labels = labels_from_vector(scene, _points(tmp_path, [((0, 0), {"label": "NA"})], name="na.gpkg"), None, "label",
                                None, "na", Hooks(warn=warnings.append))
    assert [(c.value, c.name) for c in labels.classes] == [(1, "NA")] and warnings == []
    labels = labels_from_vector(scene, _points(tmp_path, [((0, 0), {"label": "2.00"}), ((1, 1), {"label": "3"})],
                                               name="two.gpkg"), None, "label", None, "two")
    assert [(c.value, c.name) for c in labels.classes] == [(2, "2.00"), (3, "3")]
    warnings = []
    labels_from_vector(scene, _points(tmp_path, [((0, 0), {"label": "2.0"}), ((1, 1), {"label": "Water"})],
                                      name="mixed.gpkg"), None, "label", None, "mixed", Hooks(warn=warnings.append))
    assert any("'2.0' is 1 in the map" in warning for warning in warnings), warnings
    assert class_values_problem(["1", "NA"], False, "label", "points", "SAMPLES").startswith(
        "SAMPLES: the samples of 'points' hold only one class ('1')")
    assert class_values_problem(["1", "NA"], False, "label", "points") is None  # a reference of one class


@pytest.mark.parametrize("fields, name_field, said", [
    ({"class": ogr.OFTInteger, "class_name": ogr.OFTString, "Name2": ogr.OFTString, "name_no": ogr.OFTInteger}, None,
     "The classes of 'named' are named by their values ('1', '3'), as no name field is given; its field 'class_name' "
     "or 'Name2' may hold their names: choose it as the name field."),
    ({"class": ogr.OFTInteger, "class_name": ogr.OFTString}, "CLASS",
     "The name field 'CLASS' of 'named' is its class field too, so the classes are named by their values ('1', '3'); "
     "its field 'class_name' may hold their names: choose it as the name field."),
    ({"class": ogr.OFTString, "label": ogr.OFTString}, "class",
     "The name field 'class' of 'named' is its class field too, so the classes are named by their values ('1', '3')."),
])
def test_classes_named_by_their_values_are_said_so_with_the_fields_that_may_name_them(tmp_path, scene, fields,
                                                                                       name_field, said):
    """The demo's points without NAME_FIELD made a classifier of classes '1' to '7' unsaid, its class_name
    field unused (the session of 2026-12-07); NAME_FIELD = CLASS_FIELD did the same."""
    features = [(point_wkt(*pixel_centre(1, 1)), {"class": 1, "class_name": "Crop", "Name2": "a", "label": "x"}),
                (point_wkt(*pixel_centre(2, 2)), {"class": 3, "class_name": "Water", "Name2": "b", "label": "y"})]
    path = write_vector(tmp_path / "named.gpkg", [(wkt, {key: value for key, value in values.items() if key in fields})
                                                  for wkt, values in features], fields)
    lines, warnings = [], []
    labels = labels_from_vector(scene, path, None, "class", name_field, "named",
                                Hooks(log=lines.append, warn=warnings.append))
    assert [info.name for info in labels.classes] == ["1", "3"]
    assert (warnings if name_field else lines[:1]) == [said]
    assert not any("named by their values" in line for line in (lines if name_field else warnings))


def test_classes_with_a_name_field_or_text_classes_or_a_reference_are_not_said_to_be_named_by_values(tmp_path, scene):
    """The hint of the test above is given only where the classes are numbers named by themselves."""
    fields = {"class": ogr.OFTInteger, "cls": ogr.OFTString, "class_name": ogr.OFTString}
    path = write_vector(tmp_path / "named.gpkg", [(point_wkt(*pixel_centre(1, 1)),
                                                   {"class": 1, "cls": "Crop", "class_name": "Crop"})], fields)
    for class_field, name_field, reference in (("class", "class_name", False), ("cls", None, False),
                                               ("class", None, True)):
        lines, warnings = [], []
        labels_from_vector(scene, path, None, class_field, name_field, "named",
                           Hooks(log=lines.append, warn=warnings.append), reference=reference)
        assert not any("named by their values" in line for line in lines + warnings)
