import errno
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from osgeo import gdal, ogr
from rasters import write_raster
from qgis.core import QgsRasterLayer

from mrs.model_core.atomic import make_temporary
from mrs.model_core.paths import checkpoint_path_for
from mrs.model_core.errors import InputError, WriteError
from mrs.mrs_qgis_plugin.raster.classes import ClassInfo
from mrs.mrs_qgis_plugin.raster.outputs import (TEMPORARY_NAME_MARGIN, check_output_path, claim_outputs, qml_path,
                                                refuse_virtual)
from mrs.mrs_qgis_plugin.raster.writers import (
    CLASS_MAP,
    CLASS_NODATA,
    CONFIDENCE,
    CONFIDENCE_NODATA,
    class_data_type,
    class_qml,
    check_replaceable,
    class_raster,
    confidence_qml,
    confidence_raster,
    names_beside,
    publish_rasters,
    read_classes,
)

CLASSES = [ClassInfo(1, "Water & <river>", "#1f78b4"), ClassInfo(3, "Forêt", "#33A02C"), ClassInfo(4, "Urban", "#e31a1c")]
GEOTRANSFORM = (600000.0, 10.0, 0.0, 5100000.0, 0.0, -10.0)


def _crs_wkt() -> str:
    srs = gdal.osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    return srs.ExportToWkt()


def _as_tuples(classes):
    return [(info.value, info.name, info.color.lower()) for info in classes]


def read_raster(path) -> SimpleNamespace:
    """What the tests check of a single-band raster, as plain values: no GDAL object
    may outlive the call, or a failing test's traceback would keep it alive past
    QGIS's exit (which unloads GDAL) and crash the session."""
    ds = gdal.Open(str(path))
    band = ds.GetRasterBand(1)
    table = band.GetRasterColorTable()
    srs = ds.GetSpatialRef()
    return SimpleNamespace(
        values=band.ReadAsArray(),
        data_type=band.DataType,
        nodata=band.GetNoDataValue(),
        geotransform=ds.GetGeoTransform(),
        epsg=srs.GetAuthorityCode(None) if srs else None,
        names=band.GetCategoryNames(),
        colors=[table.GetColorEntry(value) for value in range(min(table.GetCount(), 512))] if table else None,
        interpretation=band.GetRasterColorInterpretation(),
        compression=ds.GetMetadata("IMAGE_STRUCTURE").get("COMPRESSION"),
        block=band.GetBlockSize(),
    )


def qgis_style(path) -> SimpleNamespace:
    """The renderer QGIS gives the raster when it loads it, as plain values."""
    layer = QgsRasterLayer(str(path), "layer")
    renderer = layer.renderer()
    style = SimpleNamespace(valid=layer.isValid(), type=renderer.type())
    if style.type == "paletted":
        style.classes = [(c.value, c.label, c.color.name()) for c in renderer.classes()]
    elif style.type == "singlebandpseudocolor":
        style.range = (renderer.classificationMin(), renderer.classificationMax())
        style.ramp = [item.value for item in renderer.shader().rasterShaderFunction().colorRampItemList()]
    return style


def _write_map(path, classes, values):
    """Publish a class map of `values` (rows x cols) through the writer."""
    with class_raster(str(path), "OUTPUT", values.shape[::-1], GEOTRANSFORM, _crs_wkt(), classes) as out:
        out.write(values, 0, 0)
        out.close()
        publish_rasters([out])


@pytest.mark.parametrize(
    "largest, expected",
    [(1, gdal.GDT_Byte), (255, gdal.GDT_Byte), (256, gdal.GDT_UInt16), (65535, gdal.GDT_UInt16), (65536, gdal.GDT_UInt32)],
)
def test_class_type_is_the_smallest_that_holds_the_largest_value(largest, expected):
    assert class_data_type([ClassInfo(1, "a", "#000000"), ClassInfo(largest, "b", "#ffffff")]) == expected


def test_a_tag_that_is_no_valid_text_is_written_with_its_faults_replaced(tmp_path):
    """Red team of 2026-12-04: a model file's trained_on holding a lone surrogate (valid JSON) made
    classify end in a TypeError traceback."""
    path = tmp_path / "map.tif"
    with class_raster(str(path), "OUTPUT", (2, 1), GEOTRANSFORM, _crs_wkt(), CLASSES,
                      tags={"MRS_TRAINED_ON": "/data/\udcffx.tif"}) as out:
        out.write(np.ones((1, 2), np.uint8), 0, 0)
        out.close()
        publish_rasters([out])
    assert gdal.Open(str(path)).GetMetadataItem("MRS_TRAINED_ON") == "/data/\ufffdx.tif"


def test_class_map_carries_colours_names_nodata_and_georeference(tmp_path):
    path = tmp_path / "map.tif"
    values = np.array([[0, 1, 3], [4, 4, 1]], dtype=np.uint8)
    _write_map(path, CLASSES, values)

    raster = read_raster(path)
    assert raster.data_type == gdal.GDT_Byte
    assert raster.nodata == CLASS_NODATA
    assert raster.geotransform == GEOTRANSFORM
    assert raster.epsg == "32632"
    np.testing.assert_array_equal(raster.values, values)
    assert raster.names == ["", "Water & <river>", "", "Forêt", "Urban"]
    assert raster.colors[0] == (0, 0, 0, 0)
    assert raster.colors[2][:3] == (0, 0, 0)
    assert raster.colors[1] == (0x1F, 0x78, 0xB4, 255)
    assert raster.colors[3] == (0x33, 0xA0, 0x2C, 255)
    assert raster.interpretation == gdal.GCI_PaletteIndex
    assert raster.compression == "DEFLATE"
    assert raster.block == [256, 256]
    assert _as_tuples(read_classes(str(path), "MAP")) == _as_tuples(CLASSES)
    assert sorted(os.listdir(tmp_path)) == ["map.qml", "map.tif", "map.tif.aux.xml"]


def test_qgis_loads_the_class_style_with_names_and_colours(tmp_path):
    path = tmp_path / "map.tif"
    _write_map(path, CLASSES, np.array([[1, 3], [4, 0]], dtype=np.uint8))

    style = qgis_style(path)
    assert (style.valid, style.type) == (True, "paletted")
    assert style.classes == _as_tuples(CLASSES)


def test_class_qml_lists_every_class_value_name_and_colour():
    root = ET.fromstring(class_qml(CLASSES).split("\n", 1)[1])
    renderer = root.find("pipe/rasterrenderer")
    assert renderer.get("type") == "paletted"
    entries = [(int(e.get("value")), e.get("label"), e.get("color")) for e in renderer.iter("paletteEntry")]
    assert entries == _as_tuples(CLASSES)


def test_the_class_style_alone_styles_a_map_without_colour_table(tmp_path):
    path = tmp_path / "plain.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(path), 2, 2, 1, gdal.GDT_Byte)
    ds.GetRasterBand(1).WriteArray(np.array([[1, 3], [4, 1]], dtype=np.uint8))
    ds = None
    Path(qml_path(str(path))).write_text(class_qml(CLASSES), encoding="utf-8")

    assert sorted(os.listdir(tmp_path)) == ["plain.qml", "plain.tif"]
    assert qgis_style(path).classes == _as_tuples(CLASSES)


def test_class_values_beyond_uint16_are_named_by_the_style(tmp_path):
    classes = [ClassInfo(2, "Low", "#000080"), ClassInfo(70000, "High", "#ff8000")]
    path = tmp_path / "wide.tif"
    _write_map(path, classes, np.array([[2, 70000]], dtype=np.uint32))

    raster = read_raster(path)
    assert (raster.data_type, raster.colors, raster.names) == (gdal.GDT_UInt32, None, None)
    np.testing.assert_array_equal(raster.values, [[2, 70000]])
    assert _as_tuples(read_classes(str(path), "MAP")) == _as_tuples(classes)


def test_read_classes_names_the_parameter_for_a_raster_without_classes(tmp_path):
    path = tmp_path / "plain.tif"
    gdal.GetDriverByName("GTiff").Create(str(path), 2, 2, 1, gdal.GDT_Byte).FlushCache()
    with pytest.raises(InputError, match=r"^MAP: .*plain\.tif carries no class names"):
        read_classes(str(path), "MAP")


def test_confidence_raster_is_float32_with_nodata_and_a_ramp_style(tmp_path):
    path = tmp_path / "conf.tif"
    values = np.array([[0.25, CONFIDENCE_NODATA], [1.0, 0.5]], dtype=np.float32)
    with confidence_raster(str(path), "CONF", (2, 2), GEOTRANSFORM, _crs_wkt(), "map.tif") as out:
        out.write(values, 0, 0)
        out.close()
        publish_rasters([out])

    raster = read_raster(path)
    assert (raster.data_type, raster.nodata, raster.compression) == (gdal.GDT_Float32, CONFIDENCE_NODATA, "DEFLATE")
    np.testing.assert_array_equal(raster.values, values)
    style = qgis_style(path)
    assert style.type == "singlebandpseudocolor"
    assert style.range == (0.0, 1.0)
    assert style.ramp == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert ET.fromstring(confidence_qml().split("\n", 1)[1]).find("pipe/rasterrenderer").get("classificationMax") == "1"


def test_publishing_replaces_the_old_map_and_drops_its_stale_side_files(tmp_path):
    path = tmp_path / "map.tif"
    _write_map(path, CLASSES, np.array([[1, 1]], dtype=np.uint8))
    (tmp_path / "map.tif.ovr").write_bytes(b"old overviews")

    new_classes = [ClassInfo(1, "Grass", "#00ff00")]
    with confidence_raster(str(path), "OUTPUT", (2, 1), GEOTRANSFORM, "", "map.tif") as out:
        out.write(np.array([[0.5, 0.75]], dtype=np.float32), 0, 0)
        out.close()
        publish_rasters([out])

    assert sorted(os.listdir(tmp_path)) == ["map.qml", "map.tif"]
    assert read_raster(path).data_type == gdal.GDT_Float32
    _write_map(path, new_classes, np.array([[1, 0]], dtype=np.uint8))
    assert _as_tuples(read_classes(str(path), "MAP")) == _as_tuples(new_classes)


@pytest.mark.parametrize("number, said", [
    (errno.ENOSPC, r"^OUTPUT: Could not write .*/map\.qml: the disk is full\. Nothing was replaced \(an earlier "
                   r"map\.qml is unchanged\); free some space or choose another folder, and run again\.$"),
    (errno.EACCES, r"^OUTPUT: could not replace .*/map\.qml \(Permission denied\); close it in other programs and "
                   r"run again\. Nothing was replaced\.$"),
    # a helper's red team of 2026-12-07: an immutable or append-only file or folder was only to be closed
    (errno.EPERM, r"^OUTPUT: could not replace .*/map\.qml \(Operation not permitted\); close it in other programs, "
                  r"and check that neither it nor its folder is immutable or append-only \(lsattr; chattr -i -a\) and "
                  r"run again\. Nothing was replaced\.$")])
def test_a_map_that_cannot_be_put_in_place_says_why(tmp_path, monkeypatch, number, said):
    """A full file system (of inodes) was told to close the map in other programs (a helper's red
    team of 2026-12-05); that advice is for a file another program holds."""
    from mrs.model_core import atomic

    path = tmp_path / "map.tif"
    _write_map(path, CLASSES, np.array([[1, 1]], dtype=np.uint8))
    before = {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}
    real = os.replace

    def failing(source, target):  # the new style's move into place; the old one's way back succeeds
        if str(target).endswith("map.qml") and not str(source).endswith(".old"):
            raise OSError(number, os.strerror(number))
        real(source, target)

    monkeypatch.setattr(atomic.os, "replace", failing)
    with pytest.raises(InputError, match=said):
        _write_map(path, CLASSES, np.array([[2, 2]], dtype=np.uint8))
    monkeypatch.setattr(atomic.os, "replace", real)
    assert {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)} == before


@pytest.mark.parametrize("data_type", ["Byte", "UInt32"])
def test_a_map_keeps_its_class_names_whatever_an_earlier_maps_layer_writes_beside_it(tmp_path, data_type):
    """Red team of 2026-12-05: an earlier map at that name, open in QGIS with its histogram
    computed, wrote its .aux.xml (its class names) over the new map's when its layer closed, and
    the new map was read with the earlier model's names. The names are kept in the map's file too."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import class_names

    path = tmp_path / "map.tif"
    classes = [ClassInfo(1, "Grass", "#00ff00"), ClassInfo(70000 if data_type == "UInt32" else 3, "Wat,er", "#0000ff")]
    _write_map(path, classes, np.array([[1, 0]], dtype=np.uint32 if data_type == "UInt32" else np.uint8))
    (tmp_path / "map.tif.aux.xml").write_text(
        '<PAMDataset><PAMRasterBand band="1"><CategoryNames><Category></Category><Category>Crop</Category>'
        '<Category></Category><Category>Road</Category></CategoryNames></PAMRasterBand></PAMDataset>')
    (tmp_path / "map.qml").unlink()
    assert _as_tuples(read_classes(str(path), "MAP"))[:2] == _as_tuples(classes)[:2]
    dataset = gdal.Open(str(path))
    assert class_names(dataset.GetRasterBand(1)) == {1: "Grass", classes[1].value: "Wat,er"}
    assert names_beside(str(path), "map") == [
        "The class names of 'map' in its .aux.xml side file differ from those the map holds itself, which are used "
        f"('Crop' for 'Grass'{', ' + repr('Road') + ' for ' + repr('Wat,er') if data_type == 'Byte' else ''}): delete "
        f"{path}.aux.xml, after removing any layer of an earlier map of that name from QGIS, which writes its names "
        "there when it closes."]
    _write_map(path, classes, np.array([[1, 0]], dtype=np.uint32 if data_type == "UInt32" else np.uint8))
    assert names_beside(str(path), "map") == []


def test_a_style_beside_a_map_that_names_its_classes_otherwise_is_warned_of(tmp_path):
    """Review of 2026-12-05: a style whose labels of classes 1 and 7 were swapped, saved as the
    layer's default, showed a legend the accuracy report (the map's own names) contradicted unsaid."""
    path = tmp_path / "map.tif"
    classes = [ClassInfo(1, "Crop", "#ffff00"), ClassInfo(7, "Water", "#0000ff")]
    _write_map(path, classes, np.array([[1, 7]], dtype=np.uint8))
    assert names_beside(str(path), "map") == []
    style = tmp_path / "map.qml"
    style.write_text(style.read_text().replace('label="Crop"', 'label="@"').replace('label="Water"', 'label="Crop"')
                     .replace('label="@"', 'label="Water"'))
    assert names_beside(str(path), "map") == [
        f"The class names of 'map' in its style {style} differ from those the map holds itself, which are used ('Water' "
        "for 'Crop', 'Crop' for 'Water'): QGIS's legend names those classes otherwise. Delete the style and load the "
        "map again to see the names it holds."]


def test_a_discarded_map_leaves_nothing_behind(tmp_path):
    with class_raster(str(tmp_path / "map.tif"), "OUTPUT", (300, 300), GEOTRANSFORM, "", CLASSES) as out:
        out.write(np.ones((300, 300), dtype=np.uint8), 0, 0)
        assert len(os.listdir(tmp_path)) == 2  # the map's temporary file, and the hold on its style's name
    assert os.listdir(tmp_path) == []


def test_a_map_beside_another_geotiff_of_its_name_is_refused_as_both_would_share_one_style(tmp_path):
    """'map.tiff' beside 'map.tif': both take 'map.qml', so the new map's style relabelled the
    older map's classes (red team of 2026-12-04). The map itself, or another name, is fine."""
    write_raster(tmp_path / "map.tif", np.ones((4, 4), np.uint8))
    gdal.BuildVRT(str(tmp_path / "lidar.vrt"), [str(tmp_path / "map.tif")])
    for name, other in (("map.tiff", "map.tif"), ("map.TIF", "map.tif"), ("lidar.tif", "lidar.vrt")):
        with pytest.raises(InputError) as refused:
            claim_outputs({"OUTPUT": check_output_path(str(tmp_path / name), "OUTPUT")}, {})
        assert str(refused.value) == (
            f"OUTPUT: {tmp_path / name} would share its style file {qml_path(str(tmp_path / name))} with "
            f"{tmp_path / other}, which QGIS styles with it too; choose another name, or delete that file first.")
    (tmp_path / "map.txt").write_text("notes")  # not a raster
    points = ogr.GetDriverByName("GPKG").CreateDataSource(str(tmp_path / "site.gpkg"))
    points.CreateLayer("points", None, ogr.wkbPoint)
    points = None  # a GeoPackage of points is no raster (taken for one by its name and first bytes)
    claim_outputs({"OUTPUT": str(tmp_path / "map.tif"), "OTHER": str(tmp_path / "map2.tiff"),
                   "SITE": str(tmp_path / "site.tif")}, {})


def test_an_output_that_is_the_file_of_an_input_given_with_its_driver_s_prefix_is_refused(tmp_path):
    """Red team of 2026-12-05: 'GPKG:/path/data.gpkg:height' was taken for no file, so suggestions
    written to data.gpkg deleted the LiDAR it had just read."""
    data, cube = tmp_path / "data.gpkg", tmp_path / "cube.nc"
    data.write_bytes(b"")
    cube.write_bytes(b"")
    for source, output in ((f"GPKG:{data}:height", data), (f'NETCDF:"{cube}":reflectance', cube)):
        with pytest.raises(InputError, match=rf"^OUTPUT: {output} is the input INPUT_AUX \({output}\); writing it "
                                             r"would destroy that input\."):
            claim_outputs({"OUTPUT": str(output)}, {"INPUT_AUX": [source]})


@pytest.mark.parametrize("side, exists, said", [
    ("hsi.qml", True, "is the style of the input INPUT_HSI ({hsi}); writing it would destroy that file."),
    ("hsi.tif.aux.xml", True, "is the metadata (statistics, nodata, class names) of the input INPUT_HSI ({hsi}); "
                              "writing it would destroy that file."),
    ("hsi.tif.aux.xml", False, "would be read by QGIS and GDAL as the metadata (statistics, nodata, class names) of "
                               "the input INPUT_HSI ({hsi})."),
    ("hsi.tif", True, "is the input INPUT_HSI ({hsi}); writing it would destroy that input."),
    # a map whose style would replace the input's (the review of the mend)
    ("hsi.tiff", False, "would write {folder}/hsi.qml, which QGIS and GDAL would then read as the style of the input "
                        "INPUT_HSI ({hsi})."),
    ("hsi.tiff", "hsi.qml", "would replace {folder}/hsi.qml, the style of the input INPUT_HSI ({hsi}); writing it "
                            "would destroy that file.")])
def test_an_output_named_as_an_input_s_side_file_is_said_to_be_that_side_file(tmp_path, side, exists, said):
    """A helper's red team of 2026-12-05, left then: an OUTPUT_HTML named as an input's style or metadata
    file was said to be the input itself, whether or not that side file existed."""
    hsi = tmp_path / "hsi.tif"
    hsi.write_bytes(b"")
    existing = exists if isinstance(exists, str) else side if exists else None
    if existing:
        (tmp_path / existing).write_bytes(b"")
    with pytest.raises(InputError) as refused:
        claim_outputs({"OUTPUT_HTML": str(tmp_path / side)}, {"INPUT_HSI": [str(hsi)]})
    assert str(refused.value) == (f"OUTPUT_HTML: {tmp_path / side} {said.format(hsi=hsi, folder=tmp_path)} Choose "
                                  "another output file name.")
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted({"hsi.tif", existing} - {None})


def test_two_tables_or_variables_of_one_file_are_two_layers_and_one_twice_is_refused(tmp_path):
    """A helper's red team of 2026-12-05: a GeoPackage's height and intensity tables as INPUT_AUX, and a
    NetCDF file's reflectance and lidar variables as INPUT_HSI and INPUT_AUX, were refused as one layer."""
    data, cube = tmp_path / "data.gpkg", tmp_path / "cube.nc"
    data.write_bytes(b"")
    cube.write_bytes(b"")
    claim_outputs({}, {"INPUT_AUX": [f"GPKG:{data}:height", f"GPKG:{data}:intensity"]})
    claim_outputs({}, {"INPUT_HSI": [f'NETCDF:"{cube}":reflectance'], "INPUT_AUX": [f'NETCDF:"{cube}":lidar']})
    with pytest.raises(InputError, match=r"^INPUT_AUX: GPKG:.*data\.gpkg:height is given twice; "):
        claim_outputs({}, {"INPUT_AUX": [f"GPKG:{data}:height", f"GPKG:{tmp_path}/./data.gpkg:height"]})
    with pytest.raises(InputError, match=r"^INPUT_AUX: .*data\.gpkg is given twice; "):  # the file alone: any table
        claim_outputs({}, {"INPUT_AUX": [f"GPKG:{data}:height", str(data)]})  # (a review of 2026-12-05)


def test_a_dot_dot_after_a_linked_folder_leads_where_the_system_takes_it(tmp_path):
    """'link/..' was dropped by spelling: an output went to another folder than the system's, and an
    input spelled so was not found to be the output (a helper's red team of 2026-12-05)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "real" / "sub").mkdir(parents=True)
    os.symlink("../real/sub", tmp_path / "a" / "link")
    spelled = str(tmp_path / "a" / "link" / ".." / "x.tif")
    assert check_output_path(spelled, "OUTPUT") == str(tmp_path / "real" / "x.tif")
    write_raster(tmp_path / "real" / "hsi.tif", np.ones((3, 5, 5), np.float32))
    with pytest.raises(InputError, match=r"^OUTPUT: .*/real/hsi\.tif is the input INPUT_HSI \(.*/real/hsi\.tif\)"):
        claim_outputs({"OUTPUT": str(tmp_path / "real" / "hsi.tif")},
                      {"INPUT_HSI": [str(tmp_path / "a" / "link" / ".." / "hsi.tif")]})
    linked = str(tmp_path / "a" / "link" / "y.tif")  # a link without '..' after it is kept as written
    assert check_output_path(linked, "OUTPUT") == linked


def test_an_output_in_qgis_s_deleted_temporary_folder_is_said_to_be_so(tmp_path):
    """A helper's red team of 2026-12-05: with QGIS's temporary folder deleted mid-session (a clean-up
    of /tmp), a temporary output was refused as in 'a folder that does not exist' the analyst never chose."""
    gone = tmp_path / "processing_QzdfjQ" / "669d0c5ab2f44c1b8f8e0d6a3c1e2f47"
    with pytest.raises(InputError) as refused:
        check_output_path(str(gone / "OUTPUT.tif"), "OUTPUT")
    assert str(refused.value) == (f"OUTPUT: {gone / 'OUTPUT.tif'} lies in a temporary folder of QGIS, {gone.parent}, "
                                  f"which no longer exists (QGIS deletes it when it closes, and a clean-up of "
                                  f"{tmp_path} may delete it before); give a file of your own, or restart QGIS for a "
                                  "new one.")
    gone.parent.mkdir()  # the folder there, its output's subfolder not: no such claim (a review of 2026-12-05)
    with pytest.raises(InputError, match=r"^OUTPUT: the folder .* does not exist; choose an existing folder\.$"):
        check_output_path(str(gone / "OUTPUT.tif"), "OUTPUT")


def test_a_tilde_is_a_folder_s_name_for_outputs_as_for_inputs(tmp_path, monkeypatch):
    """QGIS reads '~/data/hsi.tif' as a folder named '~' of the working folder, and the plugin wrote
    '~/out/map.tif' in the home folder: one run, two meanings (a helper's red team of 2026-12-05).
    bin/mrs expands it for every file (`cli.parse_arguments`), as a shell would."""
    (tmp_path / "~" / "out").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert check_output_path("~/out/map.tif", "OUTPUT") == str(tmp_path / "~" / "out" / "map.tif")


def test_output_path_checks_name_the_parameter(tmp_path):
    for spaced in (f"{tmp_path}/map.tif ", f"{tmp_path}/ map.tif"):  # red team of 2026-12-05
        with pytest.raises(InputError) as refused:
            check_output_path(spaced, "OUTPUT")
        assert str(refused.value) == f"OUTPUT: '{spaced}' begins or ends with a space; remove it (spaces inside a name " \
                                     "are fine)."
    assert check_output_path(f"{tmp_path}/land cover.tif", "OUTPUT") == f"{tmp_path}/land cover.tif"
    # Red team of 2026-12-05: qgis_process's "--OUTPUT='o7/q.tif'" and a GeoPackage layer option were
    # said not to end in .tif and .gpkg.
    for quoted in ("'o7/q.tif'", '"map.tif"'):
        with pytest.raises(InputError) as refused:
            check_output_path(quoted, "OUTPUT")
        assert str(refused.value) == (f"OUTPUT: {quoted} is written within quotes, which would be part of the file "
                                      "name; remove them (on a command line, quote the whole argument).")
    with pytest.raises(InputError) as refused:
        check_output_path(f"{tmp_path}/next.gpkg|layername=second", "OUTPUT", (".gpkg",))
    assert str(refused.value) == (f"OUTPUT: {tmp_path}/next.gpkg|layername=second names a layer of a file "
                                  "(|layername=), which an output cannot take: it is a file of its own. Give the file "
                                  "name alone, ending in .gpkg.")
    with pytest.raises(InputError) as refused:  # a creation option named a layer (a helper's red team of 2026-12-07)
        check_output_path(f"{tmp_path}/co.tif|COMPRESS=LZW", "OUTPUT")
    assert str(refused.value) == (f"OUTPUT: {tmp_path}/co.tif|COMPRESS=LZW holds an option after the file name "
                                  "(|COMPRESS=), which an output cannot take: the plugin chooses its files' format "
                                  "options (a map is a tiled, compressed GeoTIFF). Give the file name alone, ending in "
                                  ".tif.")
    assert check_output_path(f"{tmp_path}/it's.tif", "OUTPUT") == f"{tmp_path}/it's.tif"
    with pytest.raises(InputError, match=r"holds a control or reordering character \(such as a line break, shown "):
        check_output_path(f"{tmp_path}/map.tif\n", "OUTPUT")  # a line break is no space (review of 2026-12-05)
    for odd in ("\u0085", "\u2028", "\u009b", "\u202e"):  # split or reversed a log line (red team of 2026-12-05)
        with pytest.raises(InputError, match=r"holds a control or reordering character"):
            check_output_path(f"{tmp_path}/ma{odd}p.tif", "OUTPUT")
    refuse_virtual("C://data/map.tif", "OUTPUT", "file")  # a drive letter is no URL scheme
    deep = f"{tmp_path}/{'/'.join(['x' * 200] * 25)}/map.tif"
    with pytest.raises(InputError, match=r"^OUTPUT: the path /.{59}\.\.\. is longer than the 4,096 bytes a path "
                                        r"may have here; choose a shorter one\.$"):
        check_output_path(deep, "OUTPUT")
    missing = tmp_path / "missing" / "map.tif"
    with pytest.raises(InputError, match=rf"^OUTPUT: the folder {missing.parent} does not exist; choose an existing folder"):
        check_output_path(str(missing), "OUTPUT")
    with pytest.raises(InputError, match=r"^OUTPUT: .*map\.img does not end in \.tif or \.tiff; give a name ending in \.tif"):
        check_output_path(str(tmp_path / "map.img"), "OUTPUT")
    with pytest.raises(InputError, match=r"^REPORT: .*map\.tif does not end in \.html"):
        check_output_path(str(tmp_path / "map.tif"), "REPORT", (".html",))
    for folder in ("dir.tif", "results"):  # 'results' was said not to end in .tif
        (tmp_path / folder).mkdir()
        with pytest.raises(InputError, match=rf"^OUTPUT: {tmp_path / folder} is a folder; give a file name ending"):
            check_output_path(str(tmp_path / folder), "OUTPUT")
    for side in ("map.qml", "map.tif.aux.xml"):  # found before the work, not when the map is put in place
        (tmp_path / side).mkdir()
        with pytest.raises(InputError, match=re.escape(f"OUTPUT: {tmp_path / side}, which belongs to the output "
                                                       f"{tmp_path / 'map.tif'}, is a folder; move it away")):
            check_output_path(str(tmp_path / "map.tif"), "OUTPUT")
        (tmp_path / side).rmdir()
    with pytest.raises(InputError, match=r"^OUTPUT: no output file"):
        check_output_path("", "OUTPUT")
    with pytest.raises(InputError, match=r"^OUTPUT: .*ma\\np\.tif holds a control or reordering character \(such as"):
        check_output_path(str(tmp_path / "ma\np.tif"), "OUTPUT")
    longest = os.pathconf(tmp_path, "PC_NAME_MAX") - TEMPORARY_NAME_MARGIN
    with pytest.raises(InputError, match=rf"^OUTPUT: the file name a{{40}}\.\.\. is longer than the {longest} bytes"):
        check_output_path(str(tmp_path / ("a" * (longest - 3) + ".tif")), "OUTPUT")
    assert check_output_path(str(tmp_path / ("a" * (longest - 4) + ".tif")), "OUTPUT")
    assert check_output_path(str(tmp_path / "a" / ".." / "map.TIF"), "OUTPUT") == str(tmp_path / "map.TIF")
    assert check_output_path(str(tmp_path / "report.html"), "REPORT", (".html",)) == str(tmp_path / "report.html")


def test_the_longest_model_name_accepted_leaves_room_for_its_checkpoints_temporary_file(tmp_path):
    """Red team of 2026-12-04: names 9 bytes short of the limit passed, then every checkpoint failed
    ('File name too long') after minutes of training."""
    longest = os.pathconf(tmp_path, "PC_NAME_MAX") - TEMPORARY_NAME_MARGIN
    output = check_output_path(str(tmp_path / ("m" * (longest - 12) + ".safetensors")), "OUTPUT", (".safetensors",))
    handle, temporary = make_temporary(checkpoint_path_for(output), ".safetensors")
    os.close(handle)
    assert len(os.path.basename(temporary)) == os.pathconf(tmp_path, "PC_NAME_MAX")


def test_a_file_size_limit_is_said_as_such_and_gdal_adds_no_lines_of_its_own(tmp_path, capfd):
    """Red team of 2026-12-04: under `ulimit -f` the sentence blamed free space, after nine raw
    'ERROR 1: ... File too large' lines GDAL printed when the failed file closed."""
    import resource

    noise = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, hard))  # Python ignores SIGXFSZ: writes fail with EFBIG
    try:
        with pytest.raises(WriteError, match=r"the file would be larger than this process may write"):
            with confidence_raster(str(tmp_path / "c.tif"), "CONF", (1024, 1024), GEOTRANSFORM, _crs_wkt(),
                                   "map.tif") as out:
                out.write(noise, 0, 0)
                out.close()
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert "ERROR" not in capfd.readouterr().err
    assert os.listdir(tmp_path) == []


def test_output_in_a_folder_that_cannot_be_written_is_refused(tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):
        # Permissions do not bind this user (root): use a folder the kernel refuses.
        folder = "/sys"
    with pytest.raises(InputError, match=rf"^CONFIDENCE: the folder {folder} cannot be written .*choose a folder you can write to"):
        check_output_path(os.path.join(folder, "conf.tif"), "CONFIDENCE")


def test_an_output_replaces_only_a_raster_the_plugin_wrote(tmp_path):
    check_replaceable(str(tmp_path / "new.tif"), "OUTPUT", CLASS_MAP)
    (tmp_path / "empty.tif").write_bytes(b"")
    check_replaceable(str(tmp_path / "empty.tif"), "OUTPUT", CLASS_MAP)
    _write_map(tmp_path / "ours.tif", CLASSES, np.ones((4, 5), np.uint8))
    check_replaceable(str(tmp_path / "ours.tif"), "OUTPUT", CLASS_MAP)
    foreign = gdal.GetDriverByName("GTiff").Create(str(tmp_path / "labels.tif"), 5, 4, 1, gdal.GDT_Byte)
    foreign = None
    (tmp_path / "notes.tif").write_text("not a raster")
    for name in ("labels.tif", "notes.tif"):
        with pytest.raises(InputError) as refused:
            check_replaceable(str(tmp_path / name), "OUTPUT", CLASS_MAP)
        assert str(refused.value) == (f"OUTPUT: {tmp_path / name} exists and is not a raster this plugin wrote (it may "
                                      "be labels or an image that another step reads); choose a new file name, or "
                                      "delete that file first.")
    assert sorted(os.listdir(tmp_path)) == ["empty.tif", "labels.tif", "notes.tif", "ours.qml",
                                            "ours.tif", "ours.tif.aux.xml"]


def test_a_class_map_and_a_confidence_raster_replace_only_their_own_kind(tmp_path):
    """Red team of 2026-12-05: in a batch, a confidence raster was written over an earlier
    land-cover map (its class names deleted), and a map over a confidence raster, without a word."""
    _write_map(tmp_path / "map.tif", CLASSES, np.ones((2, 2), np.uint8))
    with confidence_raster(str(tmp_path / "conf.tif"), "CONF", (2, 2), GEOTRANSFORM, _crs_wkt(), "map.tif") as out:
        out.write(np.ones((2, 2), np.float32), 0, 0)
        out.close()
        publish_rasters([out])
    check_replaceable(str(tmp_path / "map.tif"), "OUTPUT", CLASS_MAP)
    check_replaceable(str(tmp_path / "conf.tif"), "OUTPUT_CONFIDENCE", CONFIDENCE)
    with pytest.raises(InputError) as refused:
        check_replaceable(str(tmp_path / "map.tif"), "OUTPUT_CONFIDENCE", CONFIDENCE)
    assert str(refused.value) == (f"OUTPUT_CONFIDENCE: {tmp_path / 'map.tif'} is a land-cover map this plugin wrote, "
                                  "not a confidence raster; choose a new file name, or delete that file first.")
    with pytest.raises(InputError) as refused:
        check_replaceable(str(tmp_path / "conf.tif"), "OUTPUT", CLASS_MAP)
    assert str(refused.value) == (f"OUTPUT: {tmp_path / 'conf.tif'} is a confidence raster this plugin wrote, not a "
                                  "land-cover map; choose a new file name, or delete that file first.")


def test_read_classes_takes_the_names_of_a_raster_attribute_table(tmp_path):
    """NLCD and CORINE products name their classes in an attribute table, not in category names:
    a map named so was matched to a reference by value, and scored 25 % for a map 81 % right
    (red team of 2026-12-04)."""
    path = tmp_path / "nlcd.tif"
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), 2, 2, 1, gdal.GDT_Byte)
    band = dataset.GetRasterBand(1)
    band.WriteArray(np.array([[11, 42], [90, 11]], dtype=np.uint8))
    table = gdal.RasterAttributeTable()
    table.CreateColumn("Value", gdal.GFT_Integer, gdal.GFU_MinMax)
    table.CreateColumn("Class", gdal.GFT_String, gdal.GFU_Name)
    for row, (value, name) in enumerate([(0, "Unclassified"), (11, "Water"), (42, "Forest"), (90, "Wetland")]):
        table.SetValueAsInt(row, 0, value)
        table.SetValueAsString(row, 1, name)
    band.SetDefaultRAT(table)
    colours = gdal.ColorTable()
    colours.SetColorEntry(42, (0, 128, 0, 255))
    band.SetRasterColorTable(colours)
    band = dataset = None

    assert _as_tuples(read_classes(str(path), "MAP")) == [
        (11, "Water", "#000000"), (42, "Forest", "#008000"), (90, "Wetland", "#000000")]


@pytest.mark.parametrize("given", ["memory:", "memory:next", "ogr:dbname='/tmp/x.gpkg' table=\"t\"", "postgis:dbname=x"])
def test_a_layer_that_is_not_a_file_is_refused_as_an_output(given):
    with pytest.raises(InputError, match=r"^OUTPUT: .* is a layer of QGIS' .* provider, not a file; the MRS "
                                         r"algorithms write files: give a file name ending in \.gpkg\.$"):
        check_output_path(given, "OUTPUT", (".gpkg",))


def test_an_output_that_is_a_pipe_or_device_is_refused(tmp_path):
    """GDAL waited on a FIFO for ever (suggest even through two SIGTERMs), and reports replaced one
    (red team of 2026-12-04)."""
    fifo = tmp_path / "map.tif"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"^OUTPUT: .*map\.tif is not a regular file \(a pipe, device or socket\); "
                                         r"choose a new file name\.$"):
        check_output_path(str(fifo), "OUTPUT")


def test_a_style_file_of_another_layer_is_not_written_over(tmp_path):
    """roads.shp with its hand-made roads.qml: a map written as roads.tif replaced that style with
    its own (red team of 2026-12-04). A raster style, as the plugin writes, is replaced."""
    (tmp_path / "roads.qml").write_text("<qgis><renderer-v2 type='singleSymbol'/></qgis>")
    with pytest.raises(InputError, match=r"^OUTPUT: .*roads\.qml, the style file of .*roads\.tif, exists and is not "
                                         r"a raster style \(it may style another layer of that name\); choose "
                                         r"another name, or delete that file first\.$"):
        claim_outputs({"OUTPUT": check_output_path(str(tmp_path / "roads.tif"), "OUTPUT")}, {})
    assert "renderer-v2" in (tmp_path / "roads.qml").read_text()
    (tmp_path / "map.qml").write_text(class_qml(CLASSES))
    (tmp_path / "empty.qml").write_text(" \n")
    claim_outputs({"OUTPUT": check_output_path(str(tmp_path / "map.tif"), "OUTPUT"),
                   "OTHER": check_output_path(str(tmp_path / "empty.tif"), "OTHER")}, {})


def test_a_style_made_for_a_map_not_written_yet_is_not_written_over(tmp_path):
    """Red team of 2026-12-05: new.qml, a paletted style of the analyst's own beside no new.tif,
    was replaced by the map's; a style the plugin wrote, left by a map since deleted, is not theirs."""
    from mrs.mrs_qgis_plugin.raster.outputs import PLUGIN_STYLE_START

    own = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n<qgis version=\"3.22.16-Bia\u0142owie\u017ca\">" \
          "<pipe><rasterrenderer type='paletted'/></pipe></qgis>"
    (tmp_path / "new.qml").write_text(own)
    with pytest.raises(InputError, match=r"^OUTPUT: .*new\.qml, the style file of .*new\.tif, exists without that map "
                                         r"and was not written by this plugin \(a style made for the map\?\); writing "
                                         r"the map would replace it\. Choose another name, or delete that file first\.$"):
        claim_outputs({"OUTPUT": check_output_path(str(tmp_path / "new.tif"), "OUTPUT")}, {})
    assert (tmp_path / "new.qml").read_text() == own
    assert class_qml(CLASSES).startswith(PLUGIN_STYLE_START)
    (tmp_path / "windows.qml").write_bytes(class_qml(CLASSES).replace("\n", "\r\n").encode())  # as Windows writes it
    claim_outputs({"OUTPUT": check_output_path(str(tmp_path / "windows.tif"), "OUTPUT")}, {})
    write_raster(tmp_path / "old.tif", np.ones((1, 4, 4), np.uint8))
    (tmp_path / "old.qml").write_text(own)  # the style of a map that exists goes with the map
    claim_outputs({"OUTPUT": check_output_path(str(tmp_path / "old.tif"), "OUTPUT")}, {})


def test_a_map_being_written_holds_its_style_name_against_another_run(tmp_path):
    """Two runs started together on k.tif and k.tiff both passed the shared-style check and shared
    k.qml (red team of 2026-12-04): a map being written holds its style's name too."""
    with class_raster(str(tmp_path / "k.tif"), "OUTPUT", (4, 4), GEOTRANSFORM, "", CLASSES):
        with pytest.raises(InputError, match=r"^OUTPUT: .*k\.tiff is being written by another run now"):
            claim_outputs({"OUTPUT": check_output_path(str(tmp_path / "k.tiff"), "OUTPUT")}, {})
    claim_outputs({"OUTPUT": check_output_path(str(tmp_path / "k.tiff"), "OUTPUT")}, {})
    assert os.listdir(tmp_path) == []


def test_an_output_ending_in_a_slash_is_refused_not_written_as_a_file(tmp_path):
    """Red team of 2026-12-05: --OUTPUT=out/newmap.tif/ wrote the file out/newmap.tif."""
    with pytest.raises(InputError, match=r"^OUTPUT: .*newmap\.tif/ ends in '/', as a folder's name may; give a file "
                                         r"name ending in \.tif\.$"):
        check_output_path(str(tmp_path / "newmap.tif") + "/", "OUTPUT")
    assert list(tmp_path.iterdir()) == []


def test_a_write_protected_output_is_refused_not_replaced(tmp_path):
    """Red team of 2026-12-05: a map and a model made read-only (chmod 444) were replaced without a
    word, the rename in a writable folder going around the protection, as neither GDAL nor cp does."""
    (tmp_path / "kept.tif").write_bytes(b"a map")
    (tmp_path / "kept.tif").chmod(0o444)
    with pytest.raises(InputError, match=r"^OUTPUT: .*kept\.tif is write-protected \(read-only\); make it writable "
                                         r"or choose another file name\.$"):
        check_output_path(str(tmp_path / "kept.tif"), "OUTPUT")
    (tmp_path / "new.qml").write_text("<qgis><rasterrenderer/></qgis>")  # its side files too
    (tmp_path / "new.qml").chmod(0o444)
    with pytest.raises(InputError, match=r"^OUTPUT: .*new\.qml is write-protected"):
        check_output_path(str(tmp_path / "new.tif"), "OUTPUT")
    (tmp_path / "kept.tif").chmod(0o644)
    check_output_path(str(tmp_path / "kept.tif"), "OUTPUT")


def test_another_users_file_in_a_sticky_folder_is_refused_before_the_work(tmp_path, monkeypatch):
    """Replacing it failed after the work with 'Operation not permitted' (red team of 2026-12-04)."""
    import stat as modes

    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o1777)
    (folder / "map.tif").write_bytes(b"someone's map")
    user = os.stat(folder / "map.tif").st_uid
    monkeypatch.setattr(os, "geteuid", lambda: user + 4242)  # neither root nor the owner of the file or folder
    with pytest.raises(InputError, match=r"^OUTPUT: .*map\.tif belongs to another user, in a folder where only a "
                                         r"file's owner may replace it \(sticky, as /tmp is\); choose another file name\.$"):
        check_output_path(str(folder / "map.tif"), "OUTPUT")
    check_output_path(str(folder / "new.tif"), "OUTPUT")
    (folder / "new.qml").write_text("<qgis><rasterrenderer/></qgis>")  # its side files too
    with pytest.raises(InputError, match=r"^OUTPUT: .*new\.qml belongs to another user"):
        check_output_path(str(folder / "new.tif"), "OUTPUT")
    folder.chmod(modes.S_IRWXU)
    check_output_path(str(folder / "map.tif"), "OUTPUT")


def test_a_style_s_entry_for_0_is_no_class(tmp_path):
    """A paletted style's entry of value 0, a map's no data, is left out of its classes (a mutation audit
    of 2026-12-06)."""
    from mrs.mrs_qgis_plugin.raster.writers import style_classes

    entries = "".join(f'<paletteEntry value="{value}" color="#112233" alpha="255" label="{name}"/>'
                      for value, name in ((0, "No data"), (1, "Water"), (2, "Forest")))
    style = tmp_path / "map.qml"
    style.write_text(f'<qgis><pipe><rasterrenderer type="paletted" band="1"><colorPalette>{entries}'
                     "</colorPalette></rasterrenderer></pipe></qgis>", encoding="utf-8")
    assert [(info.value, info.name) for info in style_classes(str(style))] == [(1, "Water"), (2, "Forest")]
