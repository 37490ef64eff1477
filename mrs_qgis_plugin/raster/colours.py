"""Class colours an analyst expects.

A class keeps the colour its samples carry (a label raster's colour table, a
colour field of the sample layer). Otherwise its name chooses the colour where
the choice is obvious, in several languages: water blue, trees dark green,
grass light green, crops yellow, bare soil brown, buildings red, roads grey.
The other classes get colours of a qualitative palette, each as far as possible
from the colours already taken, so that neighbouring classes are easy to tell
apart. Two classes that the names give the same colour (deciduous and
coniferous forest) get a lighter and a darker shade of it.
"""

import colorsys
import re
import unicodedata
from typing import List, Optional, Sequence, Tuple

import numpy as np

# A qualitative palette whose consecutive colours differ in hue and lightness.
PALETTE = (
    "#2e9e44", "#d8412f", "#3465c9", "#e8b321", "#8b45b8", "#2bb0b5",
    "#e57a2a", "#8a5a2e", "#dd5fa6", "#6e6e6e", "#9fd040", "#1d3c7a",
)  # fmt: skip

# (colour, words). A word of up to three letters must be a whole word of the name;
# a longer one may begin or end a word of the name, also with a plural ending
# ("Grassland", "Laubwald", "Laubwälder"), but not lie inside one ("street" is no tree).
NAMED_COLOURS: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ("#2b7bba", ("water", "wasser", "eau", "eaux", "agua", "acqua", "river", "lake", "fluss", "gewasser",
                 "riviere", "fleuve", "lac", "rio", "lago", "pond", "teich", "etang", "canal", "kanal")),
    ("#1e6b2a", ("tree", "forest", "wood", "wald", "baum", "baume", "geholz", "foret", "bois", "arbre",
                 "bosque", "arbol", "bosco", "albero", "alberi", "woodland", "canopy", "orchard")),
    ("#98d46b", ("grass", "meadow", "pasture", "lawn", "gras", "wiese", "weide", "rasen", "gruenland",
                 "grunland", "prairie", "herbe", "pelouse", "pre", "pradera", "pasto", "cesped", "prato",
                 "erba", "prado")),
    ("#e3c84b", ("crop", "field", "cropland", "arable", "acker", "feld", "getreide", "culture", "champ",
                 "cultivo", "cultura", "campo", "coltura", "coltivo", "cereal", "wheat", "maize", "corn")),
    ("#b07c4f", ("soil", "bare", "boden", "erde", "offenboden", "sol", "suelo", "terreno", "terra", "suolo",
                 "sand", "earth", "brache", "dirt")),
    ("#d62728", ("building", "roof", "house", "gebaude", "dach", "haus", "batiment", "bati", "toit", "maison",
                 "edificio", "tejado", "techo", "casa", "tetto", "urban", "built")),
    ("#6f6f6f", ("road", "asphalt", "street", "paved", "strasse", "weg", "route", "rue", "chaussee",
                 "carretera", "calle", "camino", "strada", "asfalto", "parking", "highway", "autobahn")),
)


def _words(name: str) -> List[str]:
    """The words of a name in lower case without accents: 'Forêt de conifères' -> ['foret', 'de', 'coniferes']."""
    plain = unicodedata.normalize("NFKD", name.replace("ß", "ss")).encode("ascii", "ignore").decode()
    return re.findall(r"[a-z]+", plain.casefold())


def _matches(word: str, key: str) -> bool:
    if len(key) <= 3:
        return word == key
    return word.startswith(key) or any(word.endswith(key + ending) for ending in ("", "s", "e", "n", "en", "er"))


def colour_from_name(name: str) -> Optional[str]:
    """The colour a class name asks for ('#rrggbb'), from its first word that names one; None if none does."""
    for word in _words(name):
        for colour, keys in NAMED_COLOURS:
            if any(_matches(word, key) for key in keys):
                return colour
    return None


def rgb(colour: str) -> Tuple[int, int, int]:
    """The red, green and blue of a '#rrggbb' colour, each 0 to 255."""
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _hex(red: float, green: float, blue: float) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(round(min(max(c, 0.0), 1.0) * 255) for c in (red, green, blue)))


def shade(colour: str, step: int) -> str:
    """The colour made lighter (odd steps) or darker (even steps), more with each pair of steps."""
    hue, lightness, saturation = colorsys.rgb_to_hls(*(c / 255 for c in rgb(colour)))
    change = 0.14 * ((step + 1) // 2) * (1 if step % 2 else -1)
    return _hex(*colorsys.hls_to_rgb(hue, min(max(lightness + change, 0.12), 0.88), saturation))


def default_colors(count: int) -> List[str]:
    """`count` distinct colours: the palette, then hues spaced by the golden angle."""
    colours = list(PALETTE[:count])
    for index in range(len(colours), count):
        hue = (index * 0.381966) % 1.0
        colours.append(_hex(*colorsys.hsv_to_rgb(hue, 0.75 if index % 2 else 0.55, 0.85 if index % 3 else 0.65)))
    return colours


MIN_SHADE_DISTANCE = 40.0
"""The least `_distances` between a named colour or its shade and the colours already taken: closer,
the next shade is tried, then a palette colour (past the lightest and darkest shades, a sixth grass
class had the fourth's colour, 'Arable field' one 5 apart from 'Cereal's: a helper's mutation audit
of 2026-12-06; 'Lake' had the colour given to 'Water': a review of 2026-12-06)."""
SHADE_STEPS = 8
"""The named colour and its shades tried for a class: the lightness steps of 0.14 run past both ends
after the sixth."""


def class_colours(names: Sequence[str], given: Sequence[Optional[str]]) -> List[str]:
    """A colour ('#rrggbb') for each class: the one given, else the name's or the first of its shades
    that stands apart from the colours taken, else the palette's."""
    chosen: List[Optional[str]] = [colour.lower() if colour else None for colour in given]
    next_step: dict = {}  # of each named colour, the shade its next class tries first
    for index, name in enumerate(names):
        if chosen[index] is None and (named := colour_from_name(name)) is not None:
            taken = np.array([rgb(other) for other in chosen if other], np.float64).reshape(-1, 3)
            for step in range(next_step.get(named, 0), SHADE_STEPS):
                colour = shade(named, step) if step else named
                if _distances(taken, rgb(colour)).min(initial=np.inf) >= MIN_SHADE_DISTANCE:
                    chosen[index], next_step[named] = colour, step + 1
                    break
    candidates = default_colors(len(names) + len(PALETTE))
    points = np.array([rgb(colour) for colour in candidates], np.float64)
    nearest = np.full(len(candidates), 1e9)  # each candidate's distance to the nearest colour taken
    for colour in filter(None, chosen):
        nearest = np.minimum(nearest, _distances(points, rgb(colour)))
    for index in range(len(names)):
        if chosen[index] is None:  # the candidate farthest from every colour taken; one update per class
            best = int(np.argmax(nearest))
            chosen[index] = candidates[best]
            nearest = np.minimum(nearest, _distances(points, points[best]))
            nearest[best] = -np.inf
    return [colour for colour in chosen if colour]


def _distances(points: np.ndarray, colour: Sequence[float]) -> np.ndarray:
    """`distance` from each of the colours `points` (n, 3: red, green, blue) to one colour: the
    choice of colours takes one class at a time over all candidates (one colour pair at a time,
    800 classes' colours took 76 s: red team of 2026-12-04)."""
    red, green, blue = colour
    mean_red = (points[:, 0] + red) / 2
    return np.sqrt((2 + mean_red / 256) * (points[:, 0] - red) ** 2 + 4 * (points[:, 1] - green) ** 2
                   + (2 + (255 - mean_red) / 256) * (points[:, 2] - blue) ** 2)
