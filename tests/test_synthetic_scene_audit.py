"""Audit of the synthetic scene generator: behaviour of its layout, signals, files, split and command line that
no other test pinned (the command line's refusals are in test_setup_and_demo_audit.py)."""

import math
import re

import numpy as np
import pytest
from osgeo import gdal, ogr

from mrs.mrs_qgis_plugin import synthetic_scene as ss
from mrs.mrs_qgis_plugin.synthetic_scene import fields, signals
from mrs.mrs_qgis_plugin.synthetic_scene.layout import _Canvas, _Layout, _layout, _paint_crown
from test_synthetic_scene import read


def layout_of(seed: int, height: int, width: int) -> _Layout:
    """The layout `write_scene` paints for `seed`: its first random stream (layout, HSI, LiDAR, SAR, split)."""
    return _layout(np.random.default_rng(np.random.SeedSequence(seed).spawn(5)[0]), height, width)


def pure_pixels(classes: np.ndarray) -> np.ndarray:
    """Pixels whose 3 x 3 neighbourhood (edge values repeated) holds their class only."""
    rows, cols = classes.shape
    padded = np.pad(classes, 1, mode="edge")
    return np.all([padded[dr:dr + rows, dc:dc + cols] == classes for dr in range(3) for dc in range(3)], axis=0)


def block_layout(size: int = 40, block: tuple = (18, 22, 18, 22), height: float = 10.0, value: int = ss.BUILDINGS,
                 ground: int = ss.GRASSLAND) -> _Layout:
    """`ground` with one flat object of class `value`, `height` m high, on the rows and columns of `block`."""
    classes = np.full((size, size), ground, np.uint8)
    objects = np.ones((size, size), np.int32)
    heights = np.zeros((size, size))
    r0, r1, c0, c1 = block
    classes[r0:r1, c0:c1], objects[r0:r1, c0:c1], heights[r0:r1, c0:c1] = value, 2, height
    return _Layout(classes, objects, heights, 3)


def one_material(name: str, size: int) -> np.ndarray:
    """Abundances of the endmember `name` alone over a square of `size` pixels."""
    abundance = np.zeros((len(signals._ENDMEMBER_NAMES), size, size))
    abundance[signals._ENDMEMBER_NAMES.index(name)] = 1.0
    return abundance


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return ss.write_scene(tmp_path_factory.mktemp("scene"), width=64, height=48, n_bands=6, seed=4, sar=True,
                          train_per_class=5, sar_looks=1.0)  # one look: the fewest allowed


# ------------------------------------------------------------------------------------------ labels

def test_the_labelled_pixels_are_exactly_the_pure_pixels_of_the_layout(scene):
    classes = layout_of(4, 48, 64).classes
    expected = np.where(pure_pixels(classes), classes, 0)
    assert np.array_equal(read(scene.train) + read(scene.test), expected)
    assert expected[[0, -1]].any() and expected[:, [0, -1]].any()  # pixels on the scene's edge can be pure


def test_the_training_pixels_are_drawn_class_by_class_in_ascending_order_from_the_split_s_stream(scene):
    painted = layout_of(4, 48, 64).classes
    classes = np.where(pure_pixels(painted), painted, 0)
    rng = np.random.default_rng(np.random.SeedSequence(4).spawn(5)[4])
    train = np.zeros(classes.shape, np.uint8)
    for scene_class in ss.CLASSES:
        train.flat[rng.choice(np.flatnonzero(classes == scene_class.value), size=5, replace=False)] = scene_class.value
    assert np.array_equal(read(scene.train), train)


def test_every_class_gets_exactly_its_training_count_when_nearly_all_its_pure_pixels_are_drawn(tmp_path):
    classes = layout_of(0, 48, 48).classes
    pure = pure_pixels(classes)
    counts = {k.value: int((pure & (classes == k.value)).sum()) for k in ss.CLASSES}
    fewest = min(counts.values())
    paths = ss.write_scene(tmp_path, width=48, height=48, n_bands=2, seed=0, train_per_class=fewest - 1)
    train, test = read(paths.train), read(paths.test)
    for value, count in counts.items():
        assert ((train == value).sum(), (test == value).sum()) == (fewest - 1, count - fewest + 1), value


# ------------------------------------------------------------------------------------------ files

def test_every_raster_carries_the_generator_s_metadata_and_its_band_descriptions(scene):
    descriptions = {scene.lidar: ["nDSM height above ground (m)", "LiDAR return intensity (relative, 0-100)"],
                    scene.sar: ["VV sigma0 (linear)", "VH sigma0 (linear)", "VV sigma0 (dB)", "VH/VV ratio (dB)"],
                    scene.train: ["training labels (0 = unlabelled)"], scene.test: ["test labels (0 = unlabelled)"]}
    for path in (scene.hsi, *descriptions):
        ds = gdal.Open(str(path))
        assert {key: ds.GetMetadataItem(key) for key in ("generator", "seed", "nominal_georeference")} == {
            "generator": "mrs synthetic_scene", "seed": "4", "nominal_georeference": "yes"}, path.name
        if path in descriptions:
            assert [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)] == descriptions[path]
    sar = gdal.Open(str(scene.sar))
    assert (sar.GetMetadataItem("incidence_deg"), sar.GetMetadataItem("looks"), sar.GetMetadataItem("sensor_side")) \
        == ("35.0", "1.0", "west (looking east)")


def test_the_hsi_states_each_band_s_width_and_its_reflectance_scale(scene):
    ds = gdal.Open(str(scene.hsi))
    assert ds.GetMetadataItem("fwhm") == "{100.00, 100.00, 100.00, 100.00, 100.00, 100.00}"
    assert ds.GetMetadataItem("wavelength") == "{450.00, 550.00, 650.00, 750.00, 850.00, 950.00}"
    assert ds.GetMetadataItem("reflectance_scale_factor") == "10000"
    for i in range(6):
        band = ds.GetRasterBand(i + 1)
        assert (band.GetMetadataItem("fwhm"), band.GetMetadataItem("FWHM_UM", "IMAGERY")) == ("100.00", "0.10000")
        assert band.GetScale() == pytest.approx(1e-4)


def test_the_training_points_are_in_the_scene_s_crs(scene):
    ds = ogr.Open(str(scene.train_points))
    layer = ds.GetLayerByName("train_points")
    srs = layer.GetSpatialRef()
    assert (srs.GetAuthorityName(None), srs.GetAuthorityCode(None)) == ("EPSG", "32632")
    feature = layer.GetNextFeature()
    x, y = feature.GetGeometryRef().GetX(), feature.GetGeometryRef().GetY()
    assert 661000.0 < x < 661064.0 and 5100952.0 < y < 5101000.0  # east, north: not swapped


def test_a_scene_written_again_over_its_own_replaces_its_class_table_and_an_emptied_points_file(tmp_path):
    ss.write_scene(tmp_path, width=48, height=48, n_bands=2, seed=0, train_per_class=2)
    (tmp_path / "train_points.gpkg").write_bytes(b"")  # as a stopped run leaves it
    paths = ss.write_scene(tmp_path, width=48, height=48, n_bands=2, seed=1, train_per_class=2)
    ds = ogr.Open(str(paths.train_points))
    assert ds.GetLayerByName("train_points").GetFeatureCount() == 2 * len(ss.CLASSES)
    assert paths.classes_csv.read_text(encoding="utf-8").splitlines() == ["value,name,color"] + [
        f"{k.value},{k.name},{k.color}" for k in ss.CLASSES]


@pytest.mark.parametrize("options, words", [
    (dict(sar=True, sar_looks=math.nan), "sar_looks must be a finite number of at least 1; got nan."),
    (dict(sar=True, sar_looks=math.inf), "sar_looks must be a finite number of at least 1; got inf."),
    (dict(train_per_class=500), "not enough"),
])
def test_a_refused_scene_makes_no_folder_and_no_sar_of_nan(tmp_path, options, words):
    """The audit's findings: looks of NaN or infinity wrote a SAR all NaN; a refusal for too few pure
    pixels left the folders it had made."""
    with pytest.raises(ValueError, match=re.escape(words)):
        ss.write_scene(tmp_path / "a" / "b", **dict(dict(width=48, height=48, n_bands=2, train_per_class=2), **options))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ours", [True, False])
def test_a_scene_written_again_without_sar_removes_the_generator_s_earlier_sar_only(tmp_path, ours):
    """The audit's finding: a scene of 64 x 64 pixels of seed 1 beside the sar.tif of one of 48 x 48 of seed 0."""
    if ours:
        ss.write_scene(tmp_path, width=48, height=48, n_bands=2, seed=0, train_per_class=2, sar=True)
    else:
        (tmp_path / "sar.tif").write_bytes(b"someone's own")
    paths = ss.write_scene(tmp_path, width=64, height=64, n_bands=2, seed=1, train_per_class=2)
    assert paths.sar is None and read(paths.hsi).shape[-2:] == (64, 64)
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith("sar")] == ([] if ours else ["sar.tif"])


def test_the_command_line_refuses_sar_looks_without_sar(tmp_path, capsys):
    """The audit's finding: '--sar-looks 2' without '--sar' was left out without a word."""
    with pytest.raises(SystemExit):
        ss.main([str(tmp_path / "scene"), "--size", "48", "--bands", "2", "--sar-looks", "2"])
    assert "--sar-looks sets the speckle of sar.tif; give --sar too." in capsys.readouterr().err
    assert not (tmp_path / "scene").exists()


# ------------------------------------------------------------------------------------------ command line

@pytest.mark.parametrize("arguments, options", [
    (["--width", "64", "--height", "48", "--seed", "5", "--bands", "3", "--train-per-class", "3", "--sar",
      "--sar-looks", "9", "--nodata-corner"],
     dict(width=64, height=48, seed=5, n_bands=3, train_per_class=3, sar=True, sar_looks=9.0, nodata_corner=True)),
    (["--size", "48", "--bands", "2", "--train-per-class", "2", "--sar"],
     dict(width=48, height=48, n_bands=2, train_per_class=2, sar=True)),
    (["--width", "48", "--height", "56", "--bands", "2", "--train-per-class", "2"],
     dict(width=48, height=56, n_bands=2, train_per_class=2)),
])
def test_the_command_line_writes_the_scene_write_scene_writes_for_its_options(tmp_path, capsys, arguments, options):
    assert ss.main([str(tmp_path / "cli"), *arguments]) == 0
    printed = capsys.readouterr().out.splitlines()
    reference = ss.write_scene(tmp_path / "reference", **options)
    names = [name for name in ("hsi", "lidar", "sar", "train", "test") if getattr(reference, name) is not None]
    for name in names:
        written = tmp_path / "cli" / getattr(reference, name).name
        assert np.array_equal(read(written), read(getattr(reference, name))), name
        assert gdal.Open(str(written)).GetMetadata() == gdal.Open(str(getattr(reference, name))).GetMetadata(), name
    assert printed == [str(tmp_path / "cli" / name) for name in (
        "hsi.tif", "lidar.tif", *(["sar.tif"] if options.get("sar") else []), "train.tif", "test.tif",
        "train_points.gpkg", "classes.csv")]


# ------------------------------------------------------------------------------------------ layout

@pytest.mark.parametrize("rows, cols, street", [(64, 128, False), (128, 64, False), (96, 96, True), (200, 200, True)])
def test_the_village_street_is_laid_only_in_a_scene_of_at_least_96_pixels_both_ways(rows, cols, street):
    classes = _layout(np.random.default_rng(1), rows, cols).classes
    road_rows = np.flatnonzero((classes[:, int(0.65 * cols):] == ss.ROADS).mean(axis=1) > 0.9) + 0.5
    assert np.all(np.abs(road_rows - 0.6 * rows) < 0.04 * rows + 5) != street  # the main road, and the street
    assert np.any(np.abs(road_rows - 0.28 * rows) < 4) == street


@pytest.mark.parametrize("size, width", [(48, 5.0), (200, 10.0), (320, 14.0)])
def test_the_river_in_the_west_is_5_percent_of_the_scene_wide_between_5_and_14_pixels(size, width):
    water = _layout(np.random.default_rng(2), size, size).classes == ss.WATER
    assert abs(np.median(water.sum(axis=1)) - width) <= 0.2 * width
    assert np.nonzero(water)[1].mean() < 0.25 * size


# ------------------------------------------------------------------------------------------ fields

@pytest.mark.parametrize("drow, dcol", [(1, -2), (-2, 3), (0, 5), (4, 0)])
def test_a_shifted_array_holds_the_value_drow_dcol_further_and_zero_beyond_the_edge(drow, dcol):
    a = np.arange(1.0, 31.0).reshape(5, 6)
    expected = [[a[r + drow, c + dcol] if 0 <= r + drow < 5 and 0 <= c + dcol < 6 else 0.0 for c in range(6)]
                for r in range(5)]
    assert fields._shifted(a, drow, dcol).tolist() == expected


@pytest.mark.parametrize("azimuth, elevation, vector", [
    (0.0, 0.0, (0.0, 1.0, 0.0)), (90.0, 0.0, (1.0, 0.0, 0.0)), (180.0, 30.0, (0.0, -math.sqrt(0.75), 0.5)),
    (270.0, 90.0, (0.0, 0.0, 1.0))])
def test_the_direction_of_a_source_is_east_north_up(azimuth, elevation, vector):
    assert fields._direction(azimuth, elevation) == pytest.approx(vector, abs=1e-12)


@pytest.mark.parametrize("rising, azimuth, cosine", [
    ("north", 180.0, 0.9486833), ("north", 0.0, 0.3162278),  # a slope of 0.5 facing south: sun in the south
    ("east", 270.0, 0.9486833), ("east", 90.0, 0.3162278),  # facing west
])
def test_the_local_incidence_on_a_plane_slope_is_that_of_its_normal(rising, azimuth, cosine):
    ramp = 0.5 * np.arange(40.0)
    height = np.tile(ramp[::-1, None], (1, 40)) if rising == "north" else np.tile(ramp[None, :], (40, 1))
    assert fields._cos_incidence(height, azimuth, 45.0)[20, 20] == pytest.approx(cosine, abs=1e-6)


def test_a_building_casts_its_shadow_away_from_the_sun_as_long_as_the_sun_s_elevation_makes_it():
    shadow = fields._cast_shadow(block_layout().height, ss.SUN_AZIMUTH, ss.SUN_ELEVATION)
    # sun at azimuth 150, elevation 55: 10 m cast 7 m north-north-west (6.1 m north, 3.5 m west), less 0.5 m
    assert shadow[13:17, 15:19].all()
    assert not shadow[:13].any() and not shadow[20:].any() and not shadow[:, 22:].any() and not shadow[:, :15].any()
    assert not shadow[18:22, 18:22].any()  # not on the roof itself


def test_a_random_field_has_unit_variance_and_the_correlation_of_its_length():
    field = fields._random_field(np.random.default_rng(0), (200, 300), 3.0)
    assert abs(field.mean()) < 0.1 and field.std() == pytest.approx(1.0, abs=0.05)
    lagged = np.corrcoef(field[:, :-3].ravel(), field[:, 3:].ravel())[0, 1]
    assert lagged == pytest.approx(math.exp(-0.25), abs=0.05)  # a Gaussian of sigma 3 px, twice: exp(-d^2 / 4 sigma^2)


def test_blurring_keeps_a_constant_and_the_total_of_an_edge():
    assert np.allclose(fields._blur(np.full((6, 9), 7.0), 1.5), 7.0)
    step = np.zeros((3, 20))
    step[:, 10:] = 1.0
    blurred = fields._blur(step, 0.6)
    assert np.allclose(blurred[:, :10] + blurred[:, 10:][:, ::-1], 1.0)  # symmetric about the edge
    assert 0.1 < blurred[0, 9] < 0.3 and blurred[0, 7] < 1e-3


@pytest.fixture(scope="module")
def layouts():
    """Layouts of 200 x 200 pixels, large enough for the village street, the wood and the tree rows."""
    return [_layout(np.random.default_rng(seed), 200, 200) for seed in range(3)]


def test_the_heights_of_the_layout_keep_to_each_class_s_range(layouts):
    for layout in layouts:
        height = {k.value: layout.height[layout.classes == k.value] for k in ss.CLASSES}
        for value in (ss.GRASSLAND, ss.BARE_SOIL, ss.ROADS, ss.WATER):
            assert not height[value].any(), value
        assert 0.3 <= height[ss.CROP].min() and height[ss.CROP].max() <= 1.2
        assert 2.75 <= height[ss.TREES].min() and 20.0 <= height[ss.TREES].max() <= 25.0  # crown edges: 0.55 top
        assert 3.5 <= height[ss.BUILDINGS].min() and height[ss.BUILDINGS].max() <= 20.0


def test_trees_line_the_river_s_east_bank_and_the_south_side_of_the_main_road(layouts):
    for layout in layouts:
        classes = layout.classes
        water = classes == ss.WATER
        bank = [int(np.flatnonzero(row).max()) for row in water if row.any()]
        riparian = np.mean([(classes[i, end + 1:end + 10] == ss.TREES).any() for i, end in enumerate(bank)])
        assert riparian > 0.25  # 0.4 to 0.7 as the seed goes; none without the row
        south_edge = roads_of(classes)[0].max()
        between = classes[:, max(bank) + 6:90]  # from the river to the side road
        assert (between[south_edge + 1:south_edge + 8] == ss.TREES).mean() > 0.15
        assert not (between[south_edge - 12:south_edge - 5] == ss.TREES).any()


def roads_of(classes: np.ndarray) -> tuple:
    """Rows of the main road (south) and of the village street (north), columns of the side road, of a 200 px
    layout, and the easternmost column of the river."""
    roads = classes == ss.ROADS
    east_west = np.flatnonzero(roads[:, 150:].mean(axis=1) > 0.9)
    bank = max(int(np.flatnonzero(row).max()) for row in classes == ss.WATER if row.any())
    return (east_west[east_west > 100], east_west[east_west < 100], np.flatnonzero(roads[:40].mean(axis=0) > 0.9),
            bank)


def test_the_wood_lies_south_of_the_main_road_and_east_of_the_side_road(layouts):
    for layout in layouts:
        main, _, side, bank = roads_of(layout.classes)
        assert (layout.classes[main.max() + 3:, side.max() + 3:] == ss.TREES).mean() > 0.5
        assert not (layout.classes[main.max() + 9:, bank + 12:side.min()] == ss.TREES).any()  # south of the avenue


def test_buildings_line_both_sides_of_the_village_street(layouts):
    for layout in layouts:
        _, street, _, _ = roads_of(layout.classes)
        for rows in (slice(street.min() - 20, street.min()), slice(street.max() + 1, street.max() + 21)):
            assert (layout.classes[rows, 150:] == ss.BUILDINGS).mean() > 0.1, rows


def test_no_crown_covers_a_road(layouts):
    for layout in layouts:
        roads = layout.classes == ss.ROADS
        main, street, side, _ = roads_of(layout.classes)
        assert main.size >= 3 and street.size >= 3 and side.size >= 3
        assert roads[main].all() and roads[street, side.min():].all() and roads[:, side].all()


def test_where_crowns_overlap_the_higher_one_shows():
    canvas = _Canvas.empty(20, 20)
    everywhere = np.ones((20, 20), bool)
    _paint_crown(canvas, 10.0, 8.0, 4.0, 20.0, everywhere)
    _paint_crown(canvas, 10.0, 12.0, 4.0, 6.0, everywhere)  # lower, overlapping the first on its west side
    assert canvas.height[10, 8] == pytest.approx(20.0, rel=0.01)
    assert canvas.height[10, 12] == pytest.approx(6.0, rel=0.01)
    assert canvas.height[10, 10] > 15.0 and canvas.objects[10, 10] == 1 and canvas.objects[10, 13] == 2
    assert set(np.unique(canvas.classes)) == {0, ss.TREES}


def neighbourhood(mask: np.ndarray, reach: int) -> np.ndarray:
    """Pixels within `reach` pixels (a square) of a pixel of `mask`."""
    near = np.zeros_like(mask)
    for dr in range(-reach, reach + 1):
        for dc in range(-reach, reach + 1):
            near |= fields._shifted(mask, dr, dc)
    return near


def test_buildings_stand_2_pixels_clear_of_roads_and_of_each_other(layouts):
    for layout in layouts:
        buildings = layout.classes == ss.BUILDINGS
        assert not (neighbourhood(buildings, 2) & (layout.classes == ss.ROADS)).any()
        for building in np.unique(layout.objects[buildings]):
            own = layout.objects == building
            assert not (neighbourhood(own, 2) & buildings & ~own).any(), building


def test_garden_trees_stand_on_lawn_with_a_pixel_of_lawn_around_them(layouts):
    for layout in layouts:
        classes = layout.classes
        village = np.zeros(classes.shape, bool)
        village[:roads_of(classes)[0].min(), 75:] = True
        gardens = village & (classes == ss.TREES)
        assert gardens.any()
        assert np.isin(classes[neighbourhood(gardens, 1)], (ss.TREES, ss.GRASSLAND)).all()


# ------------------------------------------------------------------------------------------ signals

def test_the_abundances_of_every_pixel_sum_to_1_and_mix_across_a_class_boundary():
    abundance = signals._abundances(np.random.default_rng(0), block_layout(block=(10, 20, 10, 20)))
    assert np.allclose(abundance.sum(axis=0), 1.0)
    roof = abundance[[signals._ENDMEMBER_NAMES.index(name) for name in ("roof_bitumen", "roof_gravel", "concrete")]]
    assert roof[:, 15, 15].sum() == pytest.approx(1.0)
    assert 0.1 < roof[:, 15, 9].sum() < 0.3 and roof[:, 15, 7].sum() < 1e-3  # blurred by 0.6 px


def test_sunlit_slopes_are_brighter_than_flat_ground_and_cast_shadows_get_no_sun():
    ramp = np.tile(np.arange(40.0)[::-1, None], (1, 40))  # rising to the north by 1 m a pixel: facing the sun
    sloped = _Layout(np.full((40, 40), ss.GRASSLAND, np.uint8), np.ones((40, 40), np.int32), ramp, 2)
    sun = math.radians(ss.SUN_AZIMUTH)
    cosine = (-math.cos(sun) * math.cos(math.radians(ss.SUN_ELEVATION)) + math.sin(math.radians(ss.SUN_ELEVATION)))
    assert signals._illumination(sloped)[20, 20] == pytest.approx(
        cosine / math.sqrt(2.0) / math.sin(math.radians(ss.SUN_ELEVATION)), abs=1e-6)
    light = signals._illumination(block_layout())
    assert light[5, 5] == pytest.approx(1.0) and light[14, 16] == 0.0


def test_shadows_get_the_bluish_sky_light_only():
    cube = signals._hsi_cube(np.random.default_rng(0), block_layout(64, (30, 34, 30, 34), value=ss.GRASSLAND),
                             one_material("concrete", 64), 6).astype(np.float64)
    centres = ss.band_centres(6)[0]
    shaded, sunlit = cube[:, 25:29, 27:31].mean(axis=(1, 2)), cube[:, 25:29, 36:40].mean(axis=(1, 2))
    assert shaded / sunlit == pytest.approx(0.06 + 0.12 * (centres / 550.0) ** -2, abs=0.005)


def test_the_sensor_noise_has_the_snr_of_each_band():
    cube = signals._hsi_cube(np.random.default_rng(0), block_layout(64, (0, 0, 0, 0)), one_material("concrete", 64),
                             6).astype(np.float64)
    centres = ss.band_centres(6)[0]
    noise = np.diff(cube, axis=2).std(axis=(1, 2)) / math.sqrt(2.0)
    snr = 80.0 + 170.0 * np.exp(-((centres - 650.0) / 200.0) ** 2)  # 250 at 650 nm, 80 far from it
    assert noise == pytest.approx(cube.mean(axis=(1, 2)) / snr, rel=0.08)


def test_the_ndsm_is_rough_on_crowns_only_and_never_below_ground_and_the_intensity_follows_the_nir():
    layout = block_layout(40, (5, 15, 5, 15), value=ss.TREES)
    layout.classes[25:35, 25:35], layout.height[25:35, 25:35] = ss.BUILDINGS, 10.0
    ndsm, intensity = signals._lidar(np.random.default_rng(0), layout, one_material("concrete", 40), True)
    assert 0.6 < ndsm[5:15, 5:15].std() < 1.0 and ndsm[25:35, 25:35].std() < 0.07
    assert ndsm.min() == 0.0 and (ndsm[20:25] == 0.0).mean() > 0.4  # ground noise clipped at 0
    assert intensity.mean() == pytest.approx(200.0 * 0.3103, rel=0.02)  # concrete reflects 0.31 at 1000 nm
    assert intensity.std() / intensity.mean() == pytest.approx(0.05, rel=0.1)
    _, bright = signals._lidar(np.random.default_rng(0), layout, one_material("crop_vigorous", 40), True)
    assert bright.max() == 100.0


def test_sar_double_bounce_layover_and_radar_shadow_fall_where_the_sensor_in_the_west_puts_them():
    layout = block_layout(60, (24, 36, 30, 42))  # a building of 10 m: layover 14 px west, radar shadow 7 m east
    sar = signals._sar(np.random.default_rng(0), layout, 1e4)  # nearly no speckle
    vv, vh = sar[:2]
    assert np.isfinite(sar).all()
    assert vv[24:36, 29].min() > 1.0  # the foot of the wall facing the sensor
    assert vv[24:36, 16:29].mean() - vv[2:10, 16:29].mean() == pytest.approx(0.05, abs=0.015)
    assert vv[24:36, 42:48] == pytest.approx(10 ** -2.5, rel=0.05)  # shadow: the noise floor only
    assert vv[24:36, 41].mean() < 0.1 * vv[26:34, 33:39].mean()  # the roof's edge facing away
    ground = np.zeros(vv.shape, bool)
    ground[2:20], ground[40:] = True, True
    assert np.corrcoef(sar[2][ground], np.log10(vh[ground]))[0, 1] == pytest.approx(0.6, abs=0.12)


def test_calm_water_has_its_backscatter_plus_the_noise_floor_under_unit_mean_speckle():
    water = block_layout(60, (0, 0, 0, 0), ground=ss.WATER)
    vv, vh = signals._sar(np.random.default_rng(1), water, 4.0)[:2]
    assert vv.mean() == pytest.approx(10 ** -2.2 + 10 ** -2.5, rel=0.04)
    assert vh.mean() == pytest.approx(10 ** -3.0 + 10 ** -2.5, rel=0.04)


def test_progress_advances_through_each_endmember_and_each_band_of_the_cube(tmp_path):
    progress = []
    ss.write_scene(tmp_path, width=48, height=48, n_bands=4, seed=0, train_per_class=2, step=progress.append)
    materials = len(signals._ENDMEMBER_NAMES)
    cube = [0.2 + 0.2 * (e + 1) / materials for e in range(materials)] + [0.4 + 0.2 * (b + 1) / 4 for b in range(4)]
    assert progress == pytest.approx([0.1, 0.2, *cube, 0.8, 0.9])


def test_the_illumination_varies_smoothly_by_about_5_percent():
    flat = block_layout(128, (0, 0, 0, 0))
    band = signals._hsi_cube(np.random.default_rng(0), flat, one_material("concrete", 128), 2)[0].astype(np.float64)
    assert 0.015 < band.std() / band.mean() < 0.06


@pytest.mark.parametrize("rows, cols", [(48, 96), (96, 48)])
def test_the_nodata_corner_s_legs_are_30_percent_of_their_sides(rows, cols):
    blank = signals._nodata_corner(rows, cols)
    assert blank[0].sum() == pytest.approx(0.3 * cols, abs=1.5)
    assert blank[:, -1].sum() == pytest.approx(0.3 * rows, abs=1.5)
    assert not blank[:, :cols // 2].any() and not blank[rows // 2:].any()
