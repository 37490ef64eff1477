"""The classes of the synthetic scene: their values, names and colours (`classes.csv`)."""

from __future__ import annotations

from dataclasses import dataclass

CROP, GRASSLAND, BARE_SOIL, TREES, BUILDINGS, ROADS, WATER = range(1, 8)


@dataclass(frozen=True)
class SceneClass:
    value: int
    name: str
    color: str


CLASSES = (
    SceneClass(CROP, "Crop", "#e3c84b"),
    SceneClass(GRASSLAND, "Grassland", "#98d46b"),
    SceneClass(BARE_SOIL, "Bare soil", "#b07c4f"),
    SceneClass(TREES, "Trees", "#1e6b2a"),
    SceneClass(BUILDINGS, "Buildings", "#d62728"),
    SceneClass(ROADS, "Roads", "#6f6f6f"),
    SceneClass(WATER, "Water", "#2b7bba"),
)
