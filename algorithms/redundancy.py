"""How similar the bands of a scene are: the redundancy that MRS masking works around."""

from ..mrs_qgis_plugin.job_parameters import REDUNDANCY
from .base import MrsAlgorithm


class RedundancyAlgorithm(MrsAlgorithm):
    JOB = REDUNDANCY
