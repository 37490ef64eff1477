"""Pretrain SS-MAE on an unlabelled scene with MRS (or random spectral) masking."""

from typing import Any, Dict

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFeatureSource,
)

from ..model_core.hooks import Hooks
from .base import MrsAlgorithm, is_given


class PretrainAlgorithm(MrsAlgorithm):
    ALGORITHM_ID = "pretrain"
    DISPLAY_NAME = "Pretrain SS-MAE (MRS)"
    GROUP_ID = "training"
    DESCRIPTION = (
        "Teaches an SS-MAE spatial-spectral transformer the structure of a scene without any labels. "
        "Random pixel positions are drawn from the scene; in the small neighbourhood of each "
        "(7 x 7 pixels), part of the pixels and part of the bands are hidden, and the model "
        "learns to reconstruct them.\n"
        "With Mining Redundant Spectra (MRS) masking, the hidden bands are one random band and the "
        "bands most similar to it, so that the model cannot copy them from near-duplicate bands.\n"
        "The result is a model file for 'Train classifier (fine-tune)', which then needs far fewer "
        "labelled samples."
    )

    MASK = "MASK"
    MASKING = "MASKING"
    SPECTRAL_RATIO = "SPECTRAL_RATIO"
    SPATIAL_RATIO = "SPATIAL_RATIO"
    SAMPLES = "SAMPLES"
    FINAL_LOSS = "FINAL_LOSS"

    def initAlgorithm(self, configuration=None) -> None:  # noqa: N802 - QGIS API name
        self.add_hsi_parameter()
        self.add_aux_parameter()
        self.add_extent_parameter(
            "Optional: draw samples from this part of the scene only. Default: the whole hyperspectral raster."
        )
        self.add_with_help(
            QgsProcessingParameterFeatureSource(
                self.MASK, "Sample area", [QgsProcessing.TypeVectorPolygon], optional=True
            ),
            "Optional: polygons; samples are drawn only from pixels whose centre lies inside them.",
        )
        self.add_preset_parameter("The classifier fine-tuned from this model has the same size.")
        self.add_choice_parameter(
            self.MASKING,
            "Spectral masking",
            ("mrs", "random"),
            "mrs",
            "How the hidden bands are chosen: mrs (Mining Redundant Spectra: a random band and the "
            "bands most similar to it, the method of the MRS paper) or random (random bands, as in "
            "the original SS-MAE).",
        )
        self.add_number_parameter(
            self.SPECTRAL_RATIO,
            "Spectral mask ratio",
            "Fraction of the bands hidden in each sample, between 0.01 and 0.99.",
            0.3,
            minimum=0.01,
            maximum=0.99,
            integer=False,
        )
        self.add_number_parameter(
            self.SPATIAL_RATIO,
            "Spatial mask ratio",
            "Fraction of the pixels of each sample's neighbourhood hidden, between 0.01 and 0.99.",
            0.3,
            minimum=0.01,
            maximum=0.99,
            integer=False,
        )
        self.add_number_parameter(
            self.SAMPLES,
            "Number of samples",
            "Number of random pixel positions (with their neighbourhoods) to learn from; only pixels "
            "valid in every raster are drawn. The paper uses 200000.",
            20000,
            minimum=1,
        )
        self.add_training_parameters(epochs=10, batch_size=128, learning_rate=1e-4)
        self.add_device_parameter()
        self.add_precision_parameter()
        self.add_seed_parameter("sample positions, masks, initial weights")
        self.add_resume_parameter()
        self.add_model_destination(
            "Pretrained model",
            "The pretrained model file (.safetensors): weights, model size, band list and "
            "normalisation statistics. Give it to 'Train classifier (fine-tune)' as PRETRAINED.",
        )
        self.addOutput(QgsProcessingOutputNumber(self.FINAL_LOSS, "Reconstruction loss of the last epoch"))

    def execute(self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback,
                hooks: Hooks) -> Dict[str, Any]:
        from ..model_core.training import MaskingSettings
        from ..mrs_qgis_plugin.jobs import pretrain_job

        mask_path, mask_name = None, ""
        if is_given(parameters, self.MASK):
            mask_path, mask_name = self.vector_source(parameters, self.MASK, context, feedback)
        result = pretrain_job(
            self.layers(parameters, context),
            preset=self.parameterAsEnumString(parameters, self.PRESET, context),
            masking=MaskingSettings(
                strategy=self.parameterAsEnumString(parameters, self.MASKING, context),
                spectral_ratio=self.parameterAsDouble(parameters, self.SPECTRAL_RATIO, context),
                spatial_ratio=self.parameterAsDouble(parameters, self.SPATIAL_RATIO, context),
            ),
            samples=self.parameterAsInt(parameters, self.SAMPLES, context),
            settings=self.train_settings(parameters, context, hooks),
            output=self.parameterAsFileOutput(parameters, self.OUTPUT, context),
            hooks=hooks,
            extent=self.extent(parameters, context),
            mask_path=mask_path,
            mask_name=mask_name,
            resume=self.optional_file(parameters, self.RESUME, context),
        )
        return {self.OUTPUT: result["path"], self.FINAL_LOSS: result["training"]["final_loss"]}
