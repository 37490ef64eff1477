"""Train a land-cover classifier from labelled samples, starting from a pretrained model or from scratch."""

import dataclasses
from typing import Any, Dict

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
)

from ..model_core.hooks import Hooks
from .base import MrsAlgorithm


class FinetuneAlgorithm(MrsAlgorithm):
    ALGORITHM_ID = "finetune"
    DISPLAY_NAME = "Train classifier (fine-tune)"
    GROUP_ID = "training"
    DESCRIPTION = (
        "Trains an SS-MAE land-cover classifier from labelled samples: points, polygons or a label "
        "raster. Starting from a model made by 'Pretrain SS-MAE (MRS)' on the same kind of rasters "
        "needs far fewer samples than training from scratch.\n"
        "Part of the samples of each class is held out for validation; the epoch with the best "
        "validation accuracy is kept.\n"
        "The result is a classifier model file for 'Classify'."
    )

    SAMPLES = "SAMPLES"
    CLASS_FIELD = "CLASS_FIELD"
    NAME_FIELD = "NAME_FIELD"
    LABELS = "LABELS"
    LABELLED_PIXELS = (SAMPLES, CLASS_FIELD, LABELS)
    PRETRAINED = "PRETRAINED"
    VALIDATION_FRACTION = "VALIDATION_FRACTION"
    CLASS_WEIGHTING = "CLASS_WEIGHTING"
    ENCODER_LR_FACTOR = "ENCODER_LR_FACTOR"
    VALIDATION_ACCURACY = "VALIDATION_ACCURACY"
    VALIDATION_KAPPA = "VALIDATION_KAPPA"
    BEST_EPOCH = "BEST_EPOCH"

    def initAlgorithm(self, configuration=None) -> None:  # noqa: N802 - QGIS API name
        self.add_hsi_parameter()
        self.add_aux_parameter()
        self.add_labelled_pixels_parameters("Training samples", "the hyperspectral grid", self.NAME_FIELD)
        self.add_model_file_parameter(
            self.PRETRAINED,
            "Pretrained model",
            "Optional: a model file from 'Pretrain SS-MAE (MRS)', pretrained on the same kind of "
            "rasters. Without it, the classifier is trained from scratch.",
            optional=True,
        )
        self.add_preset_parameter("Used only without a pretrained model, which has its own size.")
        self.add_number_parameter(
            self.VALIDATION_FRACTION,
            "Validation fraction",
            "Fraction of the samples of each class held out to choose the best epoch and to report "
            "validation accuracy, between 0 and 0.9; with 0 all samples train and the last epoch is kept. "
            "With few samples per class (under about 20) choose 0: a validation set of one or two pixels per "
            "class picks epochs by chance, and the held-out samples are missed in training.",
            0.2,
            minimum=0.0,
            maximum=0.9,
            integer=False,
        )
        self.add_training_parameters(epochs=100, batch_size=64, learning_rate=5e-4)
        self.add_number_parameter(
            self.ENCODER_LR_FACTOR,
            "Encoder learning-rate factor",
            "The transformer encoder learns at this fraction of the learning rate, the CNN branch and the "
            "classifier head at the full rate, so that a few labels adjust pretrained features rather than "
            "overwrite them. 1 trains every part at the same rate.",
            0.2,
            minimum=0.01,
            maximum=1.0,
            integer=False,
            advanced=True,
        )
        self.add_with_help(
            QgsProcessingParameterBoolean(self.CLASS_WEIGHTING, "Weight classes by rarity", defaultValue=True),
            "Weights each class's samples by the inverse of its share of the samples, so that rare "
            "classes count as much as common ones.",
            advanced=True,
        )
        self.add_device_parameter()
        self.add_precision_parameter()
        self.add_seed_parameter("validation split, batch order, initial weights")
        self.add_resume_parameter()
        self.add_model_destination(
            "Classifier model",
            "The classifier model file (.safetensors): weights, classes with their names and colours, "
            "band list and normalisation statistics. Give it to 'Classify' as MODEL.",
        )
        self.addOutput(QgsProcessingOutputNumber(self.VALIDATION_ACCURACY, "Validation overall accuracy (0..1)"))
        self.addOutput(QgsProcessingOutputNumber(self.VALIDATION_KAPPA, "Validation kappa"))
        self.addOutput(QgsProcessingOutputNumber(self.BEST_EPOCH, "Epoch kept (best validation accuracy)"))

    def execute(self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback,
                hooks: Hooks) -> Dict[str, Any]:
        from ..mrs_qgis_plugin.jobs import finetune_job

        result = finetune_job(
            self.layers(parameters, context),
            self.label_source(parameters, context, feedback, self.NAME_FIELD),
            pretrained=self.optional_file(parameters, self.PRETRAINED, context),
            preset=self.parameterAsEnumString(parameters, self.PRESET, context),
            val_fraction=self.parameterAsDouble(parameters, self.VALIDATION_FRACTION, context),
            settings=dataclasses.replace(
                self.train_settings(parameters, context, hooks),
                encoder_lr_scale=self.parameterAsDouble(parameters, self.ENCODER_LR_FACTOR, context),
            ),
            class_weighting=self.parameterAsBool(parameters, self.CLASS_WEIGHTING, context),
            output=self.parameterAsFileOutput(parameters, self.OUTPUT, context),
            hooks=hooks,
            resume=self.optional_file(parameters, self.RESUME, context),
        )
        training = result["training"]
        return {
            self.OUTPUT: result["path"],
            self.VALIDATION_ACCURACY: training["val_accuracy"],
            self.VALIDATION_KAPPA: training["val_kappa"],
            self.BEST_EPOCH: training["best_epoch"],
        }
