"""SS-MAE with Mining Redundant Spectra masking, in pure torch and numpy.

Importing the package imports nothing heavy: modules that need torch import it
themselves, so that `model_core.errors` and `model_core.hooks` work without it.
"""

__version__ = "0.1.0"

MAX_CLASS_VALUE = 0xFFFFFFFF
"""The largest class value a class raster holds (UInt32); 0 means no data."""
