"""The GDAL raster pipeline (see ARCHITECTURE.md). Imports nothing, so that the parameter
declarations can read the pipeline's defaults without GDAL."""

TILE_SIZE = 256
"""Side in pixels of the blocks every streaming pass of the pipeline reads, and of the tiles
classified one at a time by default (TILE_SIZE of mrs:classify)."""
