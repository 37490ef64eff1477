"""The GDAL raster pipeline (see ARCHITECTURE.md). Imports nothing but `os` and `re`, so that the parameter
declarations can read the pipeline's defaults without GDAL."""

import os
import re

TILE_SIZE = 256
"""Side in pixels of the blocks every streaming pass of the pipeline reads, and of the tiles
classified one at a time by default (TILE_SIZE of mrs:classify)."""

DRIVER_PREFIXED = re.compile(r'^[A-Za-z][A-Za-z0-9_]+:"?(?P<path>[^"]+?)"?:[^:/\\]*$')
"""A GDAL source that names its driver, its file, then a table or variable: GPKG:/data.gpkg:height,
NETCDF:"/cube.nc":reflectance (a Windows drive letter is no driver)."""


def absolute_path(path: str) -> str:
    """`path` made absolute, and its '..' taken as the system takes them: after a link
    to a folder, '..' is the parent of the folder linked to, where `os.path.abspath` dropped 'link/..'
    by its spelling (an output went to another folder than the system's, and an input spelled so
    escaped the check that an output is not an input: a helper's red team of 2026-12-05). The links
    of a path without '..' are kept as written. A '~' is a folder's name, as QGIS reads an input's
    (it stood for the home folder in outputs alone: a helper's red team of 2026-12-05); bin/mrs
    expands it before, as a shell would."""
    joined = os.path.join(os.getcwd(), path)
    parts = joined.split(os.sep)
    if ".." not in parts:
        return os.path.normpath(joined)
    last = len(parts) - parts[::-1].index("..")
    return os.path.normpath(os.path.join(os.path.realpath(os.sep.join(parts[:last])), *parts[last:]))


def absolute(path: str) -> str:
    """A file's path made absolute; a GDAL name that is no file's path ('GPKG:f.gpkg:table', a web
    address, '/vsizip/...') as it is (review of 2026-12-05: '/cwd/GPKG:/data/m.gpkg:map')."""
    if DRIVER_PREFIXED.match(path) or "://" in path or path.startswith("/vsi"):
        return path
    return absolute_path(path)


def split_source(source: str) -> "tuple[str, list[str]]":
    """A QGIS layer source's file and options ('file.gpkg|layername=x|subset=...'): as QGIS reads
    it, the subset is the rest of the source, '|' in its condition included. A '|' in a folder's
    or file's name is part of the path when the file there exists (a helper's red team of
    2026-12-05: 'a|b.d/pts.gpkg' was read as the file 'a')."""
    head, marked, subset = source.partition("|subset=")
    pieces, tail = head.split("|"), [f"subset={subset}"] if marked else []
    for count in range(len(pieces), 1, -1):  # the longest start that names a file there
        if os.path.lexists("|".join(pieces[:count])):
            return "|".join(pieces[:count]), pieces[count:] + tail
    return pieces[0], pieces[1:] + tail
