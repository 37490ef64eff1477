"""Score a land-cover map against reference samples: confusion matrix, OA, AA, kappa."""

from ..mrs_qgis_plugin.job_parameters import ACCURACY
from .base import MrsAlgorithm


class AccuracyAlgorithm(MrsAlgorithm):
    JOB = ACCURACY
