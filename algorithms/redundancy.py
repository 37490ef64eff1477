"""How similar the bands of a scene are: the redundancy that MRS masking works around."""

from typing import Any, Dict

from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProcessingOutputNumber, QgsProcessingOutputString

from ..model_core.hooks import Hooks
from .base import MrsAlgorithm


class RedundancyAlgorithm(MrsAlgorithm):
    ALGORITHM_ID = "redundancy"
    DISPLAY_NAME = "Spectral band redundancy"
    GROUP_ID = "analysis"
    DESCRIPTION = (
        "Measures how similar the bands of a scene are to each other (cosine similarity over a "
        "random sample of pixels) and groups the bands that are nearly copies of each other.\n"
        "Many such groups mean that random spectral masking leaks: a hidden band can be copied from "
        "its neighbours. This is what Mining Redundant Spectra (MRS) masking avoids."
    )

    THRESHOLD = "THRESHOLD"
    MASK_RATIO = "MASK_RATIO"
    SAMPLE_SIZE = "SAMPLE_SIZE"
    OUTPUT_PNG = "OUTPUT_PNG"
    GROUPS = "GROUPS"
    GROUP_COUNT = "GROUP_COUNT"
    LEAKAGE = "LEAKAGE"

    def initAlgorithm(self, configuration=None) -> None:  # noqa: N802 - QGIS API name
        self.add_hsi_parameter()
        self.add_aux_parameter(optional=True)
        self.add_number_parameter(
            self.THRESHOLD,
            "Similarity threshold",
            "Bands whose cosine similarity is at least this value are put in the same group, between 0 and 1.",
            0.95,
            minimum=0.0,
            maximum=1.0,
            integer=False,
        )
        self.add_number_parameter(
            self.MASK_RATIO,
            "Spectral mask ratio to assess",
            "A fraction of the bands, between 0.01 and 0.99, as pretraining would hide at random: the log "
            "and LEAKAGE say how many hidden bands keep a visible band at least THRESHOLD-similar, from "
            "which they could be copied. Try the ratio you mean to pretrain with.",
            0.3,
            minimum=0.01,
            maximum=0.99,
            integer=False,
        )
        self.add_number_parameter(
            self.SAMPLE_SIZE,
            "Sample size",
            "Number of random valid pixels the similarities are computed on.",
            20000,
            minimum=100,
        )
        self.add_seed_parameter("pixel sample")
        self.add_file_destination(
            self.OUTPUT_PNG,
            "Similarity heat map",
            "PNG files (*.png)",
            "The band-by-band similarity matrix as a heat map image.",
        )
        self.add_file_destination(
            self.OUTPUT_CSV,
            "Similarity matrix (CSV)",
            "CSV files (*.csv)",
            "The band-by-band similarity matrix as CSV, with band names as row and column headers.",
        )
        self.addOutput(QgsProcessingOutputString(self.GROUPS, "Groups of similar bands"))
        self.addOutput(QgsProcessingOutputNumber(self.GROUP_COUNT, "Number of groups"))
        self.addOutput(
            QgsProcessingOutputNumber(
                self.LEAKAGE, "Share of randomly masked bands with a similar visible band (0..1)"
            )
        )

    def execute(self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback,
                hooks: Hooks) -> Dict[str, Any]:
        from ..mrs_qgis_plugin.jobs import redundancy_job

        result = redundancy_job(
            self.layers(parameters, context),
            threshold=self.parameterAsDouble(parameters, self.THRESHOLD, context),
            sample_size=self.parameterAsInt(parameters, self.SAMPLE_SIZE, context),
            seed=self.parameterAsInt(parameters, self.SEED, context),
            out_png=self.parameterAsFileOutput(parameters, self.OUTPUT_PNG, context),
            out_csv=self.parameterAsFileOutput(parameters, self.OUTPUT_CSV, context),
            hooks=hooks,
            mask_ratio=self.parameterAsDouble(parameters, self.MASK_RATIO, context),
        )
        return {
            self.OUTPUT_PNG: result["png"],
            self.OUTPUT_CSV: result["csv"],
            self.GROUPS: "; ".join(result["groups"]),
            self.GROUP_COUNT: result["group_count"],
            self.LEAKAGE: result["leakage"],
        }
