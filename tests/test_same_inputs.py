"""What torchrun's processes compare of their inputs (`same_inputs`): files by what they hold."""

from mrs.mrs_qgis_plugin import parameters as spec
from mrs.mrs_qgis_plugin.same_inputs import _fingerprint, file_fingerprint


def test_a_file_is_known_by_its_bytes_and_side_files_not_by_its_path(tmp_path):
    """Review of 2026-12-05: a stale .dbf beside the same .shp (where a shapefile's classes are)
    passed the comparison."""
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        for ending in (".shp", ".dbf", ".shx"):
            (tmp_path / folder / f"points{ending}").write_bytes(b"x" * 10)
    one, two = (str(tmp_path / folder / "points.shp") for folder in ("one", "two"))
    assert file_fingerprint(one) == file_fingerprint(two)
    (tmp_path / "two" / "points.dbf").write_bytes(b"y" * 10)
    assert file_fingerprint(one) != file_fingerprint(two)
    assert file_fingerprint(f"{one}|layername=a") != file_fingerprint(one)
    assert file_fingerprint("GPKG:x.gpkg:t") == "GPKG:x.gpkg:t"


def test_an_extent_is_compared_to_nine_digits():
    extent = spec.Parameter("EXTENT", "Extent", spec.EXTENT, "")
    assert _fingerprint(extent, (661010.0000000001, 5100960.0, 661030.0, 5100990.0)) == \
        _fingerprint(extent, (661010.0, 5100960.0, 661030.0, 5100990.0))
    assert _fingerprint(extent, (661010.5, 5100960.0, 661030.0, 5100990.0)) != \
        _fingerprint(extent, (661010.0, 5100960.0, 661030.0, 5100990.0))
