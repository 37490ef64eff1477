"""Band descriptions as model files and layers give them: which are descriptions at all, and
which auxiliary bands two band lists describe otherwise. Free of torch, for the raster engine."""

import re
from typing import List, Sequence, Tuple

_DRIVER_NAMES = re.compile(r"(band|layer)[ _]?\d+", re.IGNORECASE)
"""Band descriptions drivers give bands of their own accord, describing nothing: ENVI's and
netCDF's 'Band 1'/'Band1', ERDAS IMAGINE's 'Layer_1' (the GeoPackage driver's 'Height' is left out
where it is read)."""


def _named(name: str, layers: Sequence[str]) -> bool:
    """Whether a band name is a description, not the '<layer> band <n>' a band without one is
    called nor a name a driver gives (`_DRIVER_NAMES`)."""
    return not (_DRIVER_NAMES.fullmatch(name.strip())
                or any(re.fullmatch(re.escape(layer) + r" band \d+", name) for layer in layers))


def plain(text: str) -> str:
    """A name or unit as compared: case and runs of spaces aside."""
    return " ".join(text.casefold().split())


def described_otherwise(had: Sequence[str], had_layers: Sequence[str], given: Sequence[str],
                        given_layers: Sequence[str]) -> List[Tuple[int, str, str]]:
    """(number from 1, had, given) of the bands that both lists describe, otherwise but for case
    and spaces; a band either side leaves without a description is not compared."""
    return [(number, before, now) for number, (before, now) in enumerate(zip(had, given), start=1)
            if _named(before, had_layers) and _named(now, given_layers) and plain(before) != plain(now)]


def reordered(pairs: Sequence[Tuple[int, str, str]]) -> bool:
    """Whether bands described otherwise (`described_otherwise`) are the same bands in another order."""
    return sorted(plain(had) for _number, had, _given in pairs) == sorted(plain(given) for *_rest, given in pairs)
