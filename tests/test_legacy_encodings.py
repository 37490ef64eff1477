"""Texts of raster files written in a legacy encoding (Windows-1252, as ENVI headers and old .aux.xml files
often are) are read as such: a helper's red team of 2026-12-07 found an ENVI label raster's class 'Prés' named
"b'Pr\\xe9s'" in the model, legend and reports, and its hyperspectral header's 'µm' refused as a unit."""
import numpy as np
import pytest
from osgeo import gdal

from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin.raster.classes import plain_text, recoded_text
from mrs.mrs_qgis_plugin.raster.gdal_io import class_names
from mrs.mrs_qgis_plugin.raster.sources import read_wavelengths


@pytest.mark.parametrize("given, read", [
    (b"Pr\xe9s", "Prés"), ("Pr\udce9s", "Prés"), ("Prés".encode(), "Prés"), ("Prés", "Prés"), ("\udcb5m", "µm"),
    ("\ud800x", "\ud800x")])  # a lone surrogate that is no escaped byte stays as it is
def test_bytes_and_escaped_bytes_are_read_as_utf_8_else_windows_1252(given, read):
    assert recoded_text(given) == read


def test_a_band_name_of_a_latin_1_file_keeps_its_letters():
    assert plain_text("B\udce4nd 1") == "Bänd 1"


def _envi(path, header: str, bands: int = 1) -> str:
    dataset = gdal.GetDriverByName("ENVI").Create(str(path), 4, 3, bands, gdal.GDT_Byte)
    dataset.GetRasterBand(1).WriteArray(np.arange(12, dtype=np.uint8).reshape(3, 4) % 3)
    dataset = None
    header_path = str(path) + ".hdr" if not str(path).endswith(".bin") else str(path)[:-4] + ".hdr"
    with open(header_path, "ab") as handle:
        handle.write(header.encode("cp1252"))
    return str(path)


def test_an_envi_label_raster_s_latin_1_class_names(tmp_path):
    path = _envi(tmp_path / "labels.bin", "file type = ENVI Classification\nclasses = 3\n"
                                          "class names = {Unclassified, Prés, Forêt}\n")
    dataset = gdal.Open(path)
    assert class_names(dataset.GetRasterBand(1)) == {0: "Unclassified", 1: "Prés", 2: "Forêt"}


def test_an_envi_header_s_latin_1_micrometres_are_a_unit(tmp_path):
    path = _envi(tmp_path / "hsi.bin", "wavelength units = µm\nwavelength = {0.45, 0.55}\n", bands=2)
    said = []
    wavelengths = read_wavelengths(gdal.Open(path), [1, 2], "hsi", Hooks(log=said.append))
    assert wavelengths == pytest.approx([450.0, 550.0]) and said == []
