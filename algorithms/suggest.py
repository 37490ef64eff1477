"""Where to label next: the pixels a classifier is least sure of, spread apart, as points to label."""

from ..mrs_qgis_plugin.parameters import SUGGEST
from .base import MrsAlgorithm


class SuggestAlgorithm(MrsAlgorithm):
    JOB = SUGGEST
