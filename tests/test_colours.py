"""Class colours an analyst expects: given colours kept, names in several languages, distinct others."""

import itertools

import numpy as np
import pytest
from osgeo import ogr
from test_raster_samples import _points, scene  # noqa: F401 - the fixture

from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin.raster.colours import (NAMED_COLOURS, _distances, class_colours, colour_from_name,
                                                default_colors, rgb, shade)
from mrs.mrs_qgis_plugin.raster.vector_labels import labels_from_vector
from mrs.mrs_qgis_plugin.synthetic_scene import CLASSES

BLUE, DARK_GREEN, LIGHT_GREEN, YELLOW, BROWN, RED, GREY = (colour for colour, _ in NAMED_COLOURS)


def distance(first: str, second: str) -> float:
    """How different two colours look, as the palette measures it (the 'redmean' RGB distance)."""
    return float(_distances(np.array([rgb(first)], np.float64), rgb(second))[0])


@pytest.mark.parametrize("names, colour", [
    (["Water", "Wasserfläche", "eau", "Eaux de surface", "Lago", "River"], BLUE),
    (["Trees", "Forest", "Wood", "Laubwald", "Laubwälder", "Forêt de conifères", "Bosque", "Arbres"], DARK_GREEN),
    (["Grassland", "Meadow", "Wiese", "Prairie", "Pré", "Grünland", "Rasen"], LIGHT_GREEN),
    (["Crop", "Field", "Ackerland", "Cultures", "Champ de blé", "Cultivos"], YELLOW),
    (["Bare soil", "Soil", "Offener Boden", "Sol nu", "Suelo desnudo"], BROWN),
    (["Buildings", "Roof", "Gebäude", "Dächer", "Bâtiments", "Bâti", "Toits", "Edificios"], RED),  # Bâti: 12-07
    (["Roads", "Asphalt", "Straße", "Route", "Carretera", "Street"], GREY),
])
def test_the_name_says_the_colour_in_several_languages(names, colour):
    assert {name: colour_from_name(name) for name in names} == {name: colour for name in names}


@pytest.mark.parametrize("name", ["Shadow", "Class 7", "Clouds", "Solar panels", "Seasonal", "Unknown"])
def test_names_that_say_no_colour_choose_none(name):
    assert colour_from_name(name) is None


def test_the_demo_classes_get_the_colours_an_analyst_expects():
    assert class_colours([c.name for c in CLASSES], [None] * len(CLASSES)) == [
        YELLOW, LIGHT_GREEN, BROWN, DARK_GREEN, RED, GREY, BLUE]


def test_given_colours_win_and_classes_named_alike_get_shades_of_their_colour():
    colours = class_colours(["Water", "Deciduous forest", "Coniferous forest", "Mixed forest"],
                            ["#FF0000", None, None, None])
    assert colours[:2] == ["#ff0000", DARK_GREEN]
    assert len(set(colours)) == 4
    assert all(distance(colours[1], other) > 60 for other in colours[2:])


@pytest.mark.parametrize("names", [[f"Grass {number}" for number in range(1, 7)],
                                   ["Crop", "Cereal", "Wheat", "Maize", "Arable field", "Field 2", "Corn"]])
def test_classes_named_alike_beyond_their_shades_get_colours_apart(names):
    """A helper's mutation audit of 2026-12-06: the shades stop at the lightest and darkest, so a sixth
    grass class had the fourth's colour, and 'Arable field' one 5 apart from 'Cereal''s."""
    colours = class_colours(names, [None] * len(names))
    assert colours[:4] == [class_colours([names[0]], [None])[0], *(shade(colours[0], step) for step in (1, 2, 3))]
    assert min(distance(a, b) for a, b in itertools.combinations(colours, 2)) >= 40


def test_a_named_class_beside_a_given_colour_of_its_kind_gets_a_shade_apart():
    """A review of 2026-12-06: 'Lake' had the blue given to 'Water'; beside a given lighter blue, the
    darker shade was free but the palette's yellow came."""
    assert class_colours(["Water", "Lake"], [BLUE, None]) == [BLUE, shade(BLUE, 1)]
    assert class_colours(["Water", "Lake", "River"], [None, None, shade(BLUE, 1)]) == [
        BLUE, shade(BLUE, 2), shade(BLUE, 1)]


def test_other_classes_get_colours_far_from_each_other_and_from_the_named():
    names = ["Water", "Trees", "A", "B", "C", "D", "E", "F", "G", "H"]
    colours = class_colours(names, [None] * len(names))
    assert colours[:2] == [BLUE, DARK_GREEN] and len(set(colours)) == len(names)
    nearest = min(distance(a, b) for a, b in itertools.combinations(colours, 2))
    # The palette in its order after the two named colours would leave two only 52 apart (blue and
    # #3465c9); chosen far from the colours taken, the closest pair is 141 apart.
    in_order = [BLUE, DARK_GREEN] + default_colors(8)
    assert min(distance(a, b) for a, b in itertools.combinations(in_order, 2)) < 60
    assert nearest > 130, nearest


def test_the_colour_field_of_the_samples_gives_the_class_colours(tmp_path, scene):  # noqa: F811
    fields = {"class": ogr.OFTInteger, "label": ogr.OFTString, "colour": ogr.OFTString}
    path = _points(tmp_path, [((0, 0), {"class": 4, "label": "Woods", "colour": "#00AA00"}),
                              ((1, 0), {"class": 7, "label": "Water", "colour": ""}),
                              ((2, 0), {"class": 9, "label": "Other"})], fields=fields)
    labels = labels_from_vector(scene, path, None, "class", "label", "points", color_field="colour")
    assert [(c.name, c.color) for c in labels.classes][:2] == [("Woods", "#00aa00"), ("Water", BLUE)]


def test_a_colour_that_is_not_rrggbb_is_refused_naming_the_field_and_layer(tmp_path, scene):  # noqa: F811
    fields = {"class": ogr.OFTInteger, "colour": ogr.OFTString}
    path = _points(tmp_path, [((0, 0), {"class": 4, "colour": "green"}), ((1, 0), {"class": 7})], fields=fields)
    with pytest.raises(InputError) as raised:
        labels_from_vector(scene, path, None, "class", None, "points", color_field="colour")
    assert str(raised.value) == ("The colour field 'colour' of 'points' holds 'green', which is not a colour written "
                                 "#rrggbb (such as #2b7bba). Correct it, or choose no colour field.")


def test_classes_given_several_names_or_colours_or_sharing_a_name_are_named_in_the_log(tmp_path, scene):  # noqa: F811
    fields = {"class": ogr.OFTInteger, "label": ogr.OFTString, "colour": ogr.OFTString}
    path = _points(tmp_path, [((0, 0), {"class": 4, "label": "Woods", "colour": "#00aa00"}),
                              ((1, 0), {"class": 4, "label": "Water", "colour": "#0000ff"}),
                              ((2, 0), {"class": 7, "label": "Water", "colour": "#0000ff"}),
                              ((3, 0), {"class": 7, "label": "Water", "colour": "#0000FF"}),
                              ((4, 0), {"class": 9, "label": "Water"})], fields=fields)
    lines = []
    labels = labels_from_vector(scene, path, None, "class", "label", "points", Hooks(log=lines.append),
                                color_field="colour")
    assert [(c.value, c.name, c.color) for c in labels.classes][:2] == [(4, "Woods", "#00aa00"), (7, "Water", "#0000ff")]
    assert lines[:3] == [
        "Classes of 'points' given more than one name by the field 'label' (class 4: 'Woods' or 'Water'): the first of each "
        "class is kept.",
        "Classes of 'points' given more than one colour by the field 'colour' (class 4: '#00aa00' or '#0000ff'): the first "
        "of each class is kept.",
        "Classes of 'points' share a name ('Water': classes 7, 9): the map's legend will not tell them apart; give "
        "each class a name of its own.",
    ]


def test_a_blank_name_or_colour_is_none_and_outweighs_no_other_feature_s(tmp_path, scene):  # noqa: F811
    """A helper's audit of 2026-12-06: a class's first feature with a name or colour '' (a GeoPackage keeps it,
    where a shapefile reads NULL) outweighed its 29 others' 'Water' and '#123456': class 7 was named '7', and
    "'None' or '#123456'" were said to be its colours."""
    fields = {"class": ogr.OFTInteger, "label": ogr.OFTString, "colour": ogr.OFTString}
    path = _points(tmp_path, [((0, 0), {"class": 7, "label": " ", "colour": ""}),
                              ((1, 0), {"class": 7, "label": "Water", "colour": "#123456"}),
                              ((2, 0), {"class": 9, "label": "Woods", "colour": "#00aa00"})], fields=fields)
    lines = []
    labels = labels_from_vector(scene, path, None, "class", "label", "points", Hooks(log=lines.append),
                                color_field="colour")
    assert [(c.value, c.name, c.color) for c in labels.classes] == [(7, "Water", "#123456"), (9, "Woods", "#00aa00")]
    assert not [line for line in lines if "more than one" in line]


def test_classes_given_one_colour_are_warned_of_whatever_its_case(tmp_path, scene):  # noqa: F811
    fields = {"class": ogr.OFTInteger, "colour": ogr.OFTString}
    path = _points(tmp_path, [((0, 0), {"class": 4, "colour": "#00AA00"}), ((1, 0), {"class": 7, "colour": "#00aa00"}),
                              ((2, 0), {"class": 9, "colour": "#0000ff"}), ((3, 0), {"class": 5})], fields=fields)
    warnings = []
    labels_from_vector(scene, path, None, "class", None, "points", Hooks(warn=warnings.append), color_field="colour")
    assert warnings == ["Classes of 'points' share a colour ('#00aa00': classes 4, 7): the map will show them alike; "
                        "give each class a colour of its own."]


def test_one_name_and_colour_per_class_says_nothing_of_them(tmp_path, scene):  # noqa: F811
    fields = {"class": ogr.OFTInteger, "label": ogr.OFTString}
    path = _points(tmp_path, [((0, 0), {"class": 4, "label": "Woods"}), ((1, 0), {"class": 4, "label": "Woods"}),
                              ((2, 0), {"class": 7, "label": "Water"})], fields=fields)
    lines = []
    labels_from_vector(scene, path, None, "class", "label", "points", Hooks(log=lines.append))
    assert not any("name" in line or "colour" in line for line in lines)
