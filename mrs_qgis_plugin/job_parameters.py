"""Every job's parameters, declared once: what the Toolbox lists as algorithms and `bin/mrs` as commands."""

from typing import Dict

from ..model_core import choices
from .parameters import (BOOLEAN, FILE_IN, FOLDER_OUT, INTEGER, NUMBER, RASTER, RASTER_OUT, VECTOR, VECTOR_OUT, Job,
                         Output, Parameter)
from .shared_parameters import (_aux, _choice, _classifier_and_scene, _device, _extent, _file_out, _hsi,
                                _labelled_pixels, _model_file, _model_out, _precision, _prediction, _preset,
                                _ratio, _resume, _seed, _training)

PRETRAIN = Job(
    "pretrain", "Pretrain SS-MAE (MRS)", "training",
    "Teaches an SS-MAE spatial-spectral transformer the structure of a scene without any labels. "
    "Random pixel positions are drawn from the scene; in the small neighbourhood of each "
    "(7 x 7 pixels; 5 x 5 in the tiny model), part of the pixels and part of the bands are hidden, and the model "
    "learns to reconstruct them.\n"
    "With Mining Redundant Spectra (MRS) masking, the hidden bands are one random band and the "
    "bands most similar to it, so that the model cannot copy them from near-duplicate bands.\n"
    "The result is a model file for 'Train classifier (fine-tune)', which then needs far fewer "
    "labelled samples.\n"
    "The defaults (10,000 samples, 60 epochs, learning rate 0.001, normalised targets, the small model) "
    "are the recipe chosen by the project's accuracy benchmark; with the small model they take about "
    "20 minutes on one core of a 2-core CPU. The paper model needs about two hours on 2 cores for the "
    "same samples and is meant for a GPU (about 5 minutes on an NVIDIA H200). The log gives the time "
    "left after every epoch.\n"
    "On the project's benchmark scenes this pretraining raised the overall accuracy by about 1 to 3 "
    "points with 5 labelled pixels per class, by 1.2 to 3 points with 20 and by 1.5 to 1.7 points with "
    "every label (the paper model on a GPU: 2.3 to 5.7, 1.4 to 2.7 and 1 to 1.5). Half the epochs (30, "
    "about 10 minutes) scored 0.3 to 1 point lower in most of the benchmark's cases.",
    (
        _hsi(),
        _aux(),
        Parameter("MORE_SCENES", "More scenes (list file)", FILE_IN,
                  "Optional: a text file listing further scenes with the same bands, so that one model learns "
                  "from a whole archive. One scene per line: its hyperspectral raster, then its SAR or LiDAR "
                  "rasters in the order of INPUT_AUX, separated by commas (paths relative to the file's folder, "
                  "or absolute; empty lines and lines starting with # are skipped). Every scene must have the "
                  "band counts of INPUT_HSI and INPUT_AUX, and the same wavelengths where known. The samples and "
                  "the normalisation statistics are drawn from all the scenes, each in proportion to its valid "
                  "pixels; EXTENT limits INPUT_HSI's scene only, MASK its samples only.",
                  optional=True, file_filter="Scene lists (*.txt *.csv)"),
        _extent("Optional: draw samples and the normalisation statistics from this part of the scene only. "
                "Default: the whole hyperspectral raster."),
        Parameter("MASK", "Sample area (polygons)", VECTOR,
                  "Optional: polygons; samples are drawn only from pixels whose centre lies inside them (the "
                  "normalisation statistics from the whole scene, or EXTENT, which the classifier will map).",
                  optional=True, geometries=("polygon",)),
        _preset("The classifier fine-tuned from this model has the same size."),
        _choice("MASKING", "Spectral masking", choices.MASKING_STRATEGIES, "mrs",
                "How the hidden bands are chosen: mrs (Mining Redundant Spectra: a random band and the "
                "bands most similar to it, the method of the MRS paper) or random (random bands, as in "
                "the original SS-MAE)."),
        _ratio("SPECTRAL_RATIO", "Spectral mask ratio",
               "Fraction of the bands (the hyperspectral and SAR/LiDAR bands together) hidden in each sample, "
               "between 0.01 and 0.99; at least one is hidden and one left, and the log says how many.",
               choices.MASK_RATIO),
        _ratio("SPATIAL_RATIO", "Spatial mask ratio",
               "Fraction of the pixels of each sample's neighbourhood hidden, between 0.01 and 0.99; at least "
               "one is hidden and one left, and the log says how many.", choices.MASK_RATIO),
        Parameter("NORMALIZED_TARGETS", "Normalised reconstruction targets", BOOLEAN,
                  "Reconstruct each hidden pixel and band normalised over its own values (its shape, not its "
                  "level; MAE's norm_pix_loss), an option beyond the paper: on the benchmark scenes it gave the "
                  "pretrained features that classify best with few labels. No: the paper's raw values.",
                  default=True, advanced=True),
        Parameter("SAMPLES", "Number of samples", INTEGER,
                  "Number of random pixel positions (with their neighbourhoods) to learn from; only pixels "
                  "valid in every raster are drawn. The paper uses 200000. Each epoch takes them in whole "
                  "batches, in a new order: the few left over (fewer than a batch) wait for a later epoch.",
                  default=choices.PRETRAINING_SAMPLES, minimum=1,
                  meant="Pretraining needs no labels: SAMPLES is how many random pixels it learns from; labelled "
                        "samples go to 'Train classifier (fine-tune)' (mrs:finetune)."),
        *_training(epochs=60, batch_size=128, learning_rate=1e-3),
        _device(),
        _precision(),
        _seed("sample positions, masks, initial weights"),
        _resume(),
        _model_out("Pretrained model",
                   "The pretrained model file (.safetensors): weights, model size, band list and "
                   "normalisation statistics. Give it to 'Train classifier (fine-tune)' as PRETRAINED."),
    ),
    (Output("FINAL_LOSS", "Reconstruction loss of the last epoch"),),
    shares_processes=True,
    tags=("pretraining", "self-supervised", "masked autoencoder", "unlabelled"),
)

FINETUNE = Job(
    "finetune", "Train classifier (fine-tune)", "training",
    "Trains an SS-MAE land-cover classifier from labelled samples: points, polygons or a label "
    "raster. Starting from a model made by 'Pretrain SS-MAE (MRS)' on the same kind of rasters "
    "needs far fewer samples than training from scratch.\n"
    "By default every sample trains and the last epoch is kept; with a validation fraction, part of "
    "the samples of each class is held out and the epoch with the best validation accuracy is kept (the "
    "latest, where several are equally good).\n"
    "The result is a classifier model file for 'Classify'.",
    (
        _hsi(),
        _aux(),
        *_labelled_pixels(("SAMPLES", "CLASS_FIELD", "LABELS"), "Training samples", "the hyperspectral grid",
                          "NAME_FIELD", "COLOR_FIELD"),
        _model_file("PRETRAINED", "Pretrained model",
                    "Optional: a model file from 'Pretrain SS-MAE (MRS)', pretrained on the same kind of "
                    "rasters. Without it, the classifier is trained from scratch.",
                    optional=True),
        _preset("Used only without a pretrained model, which has its own size."),
        Parameter("VALIDATION_FRACTION", "Validation fraction", NUMBER,
                  "Fraction of the samples of each class held out to choose the best epoch and to report "
                  "validation accuracy, between 0 and 0.9 (of each class at least one sample and at most all but "
                  "one; a class of one sample is refused); with 0, the default, all samples train and the last "
                  "epoch is kept. On the project's benchmark scenes 0 beat a fraction of 0.2 in 17 of 18 "
                  "comparisons with 5, 20 and 80 samples per class (up to 6.5 points on held-out pixels): a "
                  "small validation set picks epochs by chance, and the held-out samples are missed in "
                  "training. Hold samples out when you have many per class and want a validation accuracy "
                  "in the log.",
                  default=0.0, minimum=0.0, maximum=0.9),
        *_training(epochs=100, batch_size=64, learning_rate=5e-4),
        Parameter("ENCODER_LR_FACTOR", "Encoder learning-rate factor", NUMBER,
                  "The transformer encoder learns at this fraction of the learning rate, the CNN branch and the "
                  "classifier head at the full rate. 1, the default, trains every part at the same rate; a lower "
                  "factor keeps a pretrained encoder closer to what pretraining learnt, which on the project's "
                  "benchmark scenes never paid: 0.2 cost 0.2 to 2.8 points of accuracy with 5 to 80 labelled pixels "
                  "per class.",
                  default=1.0, minimum=0.01, maximum=1.0, advanced=True),
        Parameter("CLASS_WEIGHTING", "Weight classes by rarity", BOOLEAN,
                  "Weights each class's samples by the inverse of its share of the samples, so that rare "
                  "classes count as much as common ones.",
                  default=True, advanced=True),
        _device(),
        _precision(),
        _seed("validation split, batch order, initial weights"),
        _resume(),
        _model_out("Classifier model",
                   "The classifier model file (.safetensors): weights, classes with their names and colours, "
                   "band list and normalisation statistics. Give it to 'Classify' as MODEL."),
    ),
    (
        Output("VALIDATION_ACCURACY", "Validation overall accuracy (0..1; empty without a validation fraction)"),
        Output("VALIDATION_KAPPA", "Validation kappa (empty without a validation fraction)"),
        Output("BEST_EPOCH", "Epoch kept (best validation accuracy; the last without a validation fraction)"),
    ),
    labelled_pixels=("SAMPLES", "CLASS_FIELD", "LABELS"),
    shares_processes=True,
    tags=("training", "fine-tuning", "supervised", "samples"),
)

CLASSIFY = Job(
    "classify", "Classify", "mapping",
    "Makes a land-cover map with a classifier model from 'Train classifier (fine-tune)'. "
    "The scene is read and classified tile by tile, so rasters of any size fit in memory.\n"
    "The map is a GeoTIFF on the grid of the hyperspectral raster, with the model's class names "
    "and colours; pixels that are nodata in any input are 0 (no data). Each pixel is classified with "
    "its neighbourhood (the model's patch): beyond the raster's edge the neighbourhood is mirrored, "
    "and its nodata pixels are filled with each band's median, as in training; so a pixel within half a "
    "patch of nodata may get another class than it would if the raster simply ended at the nodata.",
    (
        *_classifier_and_scene("classify only this part of the scene"),
        *_prediction(),
        Parameter("OUTPUT", "Land-cover map", RASTER_OUT,
                  "The land-cover GeoTIFF: class values (0 = no data) with the model's class names and "
                  "colours, and a .qml style beside it."),
        Parameter("OUTPUT_CONFIDENCE", "Confidence", RASTER_OUT,
                  "Optional: a GeoTIFF with, for each pixel, the model's probability (0 to 1) of the class it chose; "
                  "pixels without a class hold -1, its nodata value.",
                  optional=True),
    ),
    shares_processes=True,
    tags=("map", "prediction", "inference"),
)

SUGGEST = Job(
    "suggest", "Where to label next", "training",
    "Suggests the pixels worth labelling next: a classifier from 'Train classifier (fine-tune)' classifies "
    "the scene (tile by tile, as 'Classify' does), and the pixels it is least sure of, at least a minimum "
    "distance apart so that each point asks a new question, are written as points.\n"
    "Each point carries the predicted class, the classifier's confidence and its rank (1 = least confident), "
    "and an empty class field named and typed as in the classifier's training samples. Visit or inspect the "
    "points, fill in the class field, add them to the training samples and train again: labels placed where "
    "the classifier hesitates teach it more than labels placed at random.",
    (
        *_classifier_and_scene("suggest pixels in this part of the scene only"),
        Parameter("MASK", "Suggestion area (polygons)", VECTOR,
                  "Optional: polygons; only pixels whose centre lies inside them are suggested (for example the "
                  "places an analyst can visit or see in an aerial photograph).",
                  optional=True, geometries=("polygon",)),
        Parameter("POINTS", "Number of points", INTEGER, "How many pixels to suggest.",
                  default=20, minimum=1, maximum=100000),
        Parameter("MIN_DISTANCE", "Minimum distance (pixels)", NUMBER,
                  "Suggested pixels lie at least this many pixels apart (between pixel centres), so that they "
                  "are spread over the uncertain places rather than heaped on one. 0 gives the least confident "
                  "pixels wherever they are.",
                  default=10.0, minimum=0.0, maximum=100000.0),
        *_prediction(),
        _seed("order of pixels of equal confidence"),
        Parameter("OUTPUT", "Suggested points", VECTOR_OUT,
                  "A GeoPackage of points at the centres of the suggested pixels, least confident first. In "
                  "QGIS' dialogs it is saved by default as a new file next to the project (or, while the project "
                  "is not saved, in the output folder set in Processing's options, else in the home folder), never "
                  "to a temporary file, so that the classes "
                  "filled in are kept."),
    ),
    (Output("COUNT", "Number of points written"),),
    tags=("active learning", "sampling", "uncertainty", "labels", "field work"),
)

ACCURACY_REPORT = ("a web page of the summary figures, the confusion matrix and the per-class table, which QGIS "
                   "shows in its Results Viewer after the run")
"""What the assessment's report is, as its help and the workflow's say it."""

ACCURACY = Job(
    "accuracy", "Accuracy assessment", "analysis",
    "Compares a land-cover map with reference samples that were not used for training. "
    "Reports the confusion matrix, overall accuracy, average accuracy, kappa, and each class's "
    "producer's and user's accuracy and F1 score. Reference pixels where the map has no class "
    "(nodata, or 0) are left out of the figures, counted apart and warned of.",
    (
        Parameter("INPUT", "Land-cover map", RASTER,
                  "The map to assess, for example from 'Classify': class values of 1 or more, 0 = no data."),
        *_labelled_pixels(("REFERENCE", "REFERENCE_FIELD", "REFERENCE_LABELS"), "Reference samples",
                          "the map's grid"),
        _file_out("OUTPUT_HTML", "Accuracy report", "HTML files (*.html)",
                  f"Optional: the report as {ACCURACY_REPORT}; without it the figures are the algorithm's results "
                  "and the log's lines alone.", optional=True, created=True),
        _file_out("OUTPUT_JSON", "Accuracy figures (JSON)", "JSON files (*.json)",
                  "Optional: every figure of the report as JSON, for scripts; accuracies as fractions from 0 to 1, "
                  "null where undefined (a class the map never gives has no user's accuracy).", optional=True),
        _file_out("OUTPUT_CSV", "Accuracy figures (CSV)", "CSV files (*.csv)",
                  "Optional: the report's figures as CSV, in three tables one after the other, an empty line "
                  "between them: per class (producer's and user's accuracy, F1), the summary (overall and average "
                  "accuracy, kappa, warnings), then the confusion matrix (reference classes in rows, map classes in "
                  "columns). Accuracies are fractions from 0 to 1, empty where undefined; a name that starts like a "
                  "formula starts with an apostrophe, as spreadsheets show it.", optional=True),
    ),
    (
        Output("OVERALL_ACCURACY", "Overall accuracy (0..1)"),
        Output("AVERAGE_ACCURACY", "Average accuracy (0..1)"),
        Output("KAPPA", "Kappa"),
    ),
    labelled_pixels=("REFERENCE", "REFERENCE_FIELD", "REFERENCE_LABELS"),
    needs_torch=False,
    tags=("accuracy assessment", "confusion matrix", "kappa", "overall accuracy", "validation"),
)

REDUNDANCY_PICTURED = frozenset({"OUTPUT_PNG", "OUTPUT_HTML"})
"""The redundancy's outputs that hold its heat map, drawn with matplotlib."""

REDUNDANCY = Job(
    "redundancy", "Spectral band redundancy", "analysis",
    "Measures how similar the bands of a scene are to each other (the cosine similarity of the bands "
    "as the model sees them, each centred on its median and scaled by its 2-98 % range, over a random "
    "sample of pixels; signed, as MRS masking ranks the bands: a band that rises where another falls is unlike "
    "it) and groups the bands that are nearly copies of each other.\n"
    "Many such groups mean that random spectral masking leaks: a hidden band can be copied from "
    "its neighbours. This is what Mining Redundant Spectra (MRS) masking avoids.",
    (
        _hsi(),
        _aux(optional=True),
        Parameter("THRESHOLD", "Similarity threshold", NUMBER,
                  "Bands at least this similar to a group's first band are put in its group (in band order, as "
                  "an MRS anchor takes the bands most like it); a band left alone joins the group of its most "
                  "similar band when that is this similar, so a band stands alone only when no other band is. "
                  "Between 0.01 and 1.",
                  default=0.95, minimum=0.01, maximum=1.0),
        _ratio("MASK_RATIO", "Spectral mask ratio to assess",
               "A fraction of the bands, between 0.01 and 0.99, as pretraining would hide at random: the log "
               "and LEAKAGE say how many hidden bands keep a visible band at least THRESHOLD-similar, from "
               "which they could be copied. Try the ratio you mean to pretrain with.", choices.MASK_RATIO),
        Parameter("SAMPLE_SIZE", "Sample size", INTEGER,
                  f"Number of random valid pixels the similarities are computed on, from {choices.SIMILARITY_PIXELS}.",
                  default=20000, minimum=choices.SIMILARITY_PIXELS),
        _seed("pixel sample"),
        _file_out("OUTPUT_PNG", "Similarity heat map", "PNG files (*.png)",
                  "Optional: the band-by-band similarity matrix as a heat map image.", optional=True, created=True),
        _file_out("OUTPUT_CSV", "Similarity matrix (CSV)", "CSV files (*.csv)",
                  "Optional: the band-by-band similarity matrix as CSV, with the bands' labels as row and column "
                  "headers (their wavelengths where known, else their names).", optional=True, created=True),
        _file_out("OUTPUT_HTML", "Redundancy report", "HTML files (*.html)",
                  "Optional: the heat map, the groups of similar bands and the leak of random masking on one web "
                  "page, which QGIS shows in its Results Viewer after the run.", optional=True, created=True),
    ),
    (
        Output("GROUPS", "Groups of similar bands", "string"),
        Output("GROUP_COUNT", "Number of groups"),
        Output("LEAKAGE", "Share of randomly masked bands with a similar visible band (0..1)"),
    ),
    needs_torch=False,
    tags=("band correlation", "spectral similarity", "band selection", "heat map"),
)

# Output id -> (file of the demo scene, layer name in the project).
DEMO_SCENE_LAYERS = {
    "HSI": ("hsi.tif", "Demo hyperspectral"),
    "LIDAR": ("lidar.tif", "Demo LiDAR"),
    "SAR": ("sar.tif", "Demo SAR"),
    "TRAIN_POINTS": ("train_points.gpkg", "Demo training points"),
    "TRAIN_LABELS": ("train.tif", "Demo training labels"),
    "TEST_LABELS": ("test.tif", "Demo test labels"),
}

DEMO_SCENE = Job(
    "demoscene", "Create demo scene", "workflow",
    "Writes a small simulated landscape into a folder (and, in QGIS, adds it to the project), so that the "
    "algorithms can be tried without data of one's own: a hyperspectral raster (400-1000 nm, wavelengths in "
    "its metadata), a LiDAR raster (height above ground and intensity), optionally a SAR raster, training "
    "points with class_id and class_name fields, and training and test label rasters of seven classes "
    "(crop, grassland, bare soil, trees, buildings, roads, water).\n"
    "Trees and grassland, buildings and roads look alike in the hyperspectral bands; the LiDAR (or SAR) "
    "tells them apart, as on real data.\n"
    "Then run 'Workflow: pretrain, train, classify, assess' (in QGIS; with bin/mrs: pretrain, finetune, classify "
    "and accuracy in turn) with the hyperspectral raster, the LiDAR raster, "
    "the training points (class field class_id, name field class_name) and the test labels as reference.",
    (
        Parameter("SIZE", "Size (pixels)", INTEGER, "Width and height of the scene in pixels of 1 m, from 48 to 1024.",
                  default=192, minimum=48, maximum=1024),
        Parameter("BANDS", "Hyperspectral bands", INTEGER,
                  "Number of bands evenly spaced over 400-1000 nm, from 3 to 400.", default=100, minimum=3,
                  maximum=400),
        Parameter("WITH_SAR", "Also write a SAR raster", BOOLEAN,
                  "Also writes sar.tif: C-band-like backscatter with speckle in 4 bands (VV and VH in linear power, VV "
                  "in dB, the VH/VV ratio in dB), to try the method with "
                  "SAR in place of (or next to) the LiDAR.", default=False),
        _seed("layout and simulation"),
        Parameter("OUTPUT", "Scene folder", FOLDER_OUT,
                  "A folder for the scene's files: a new one, or one without an earlier scene (other files may "
                  "stay). In QGIS' "
                  "dialogs it is by default a new folder next to the project (or, while the project is not saved, "
                  "in the output folder set in Processing's options, else in the home folder), never a temporary "
                  "one, so that the project's layers keep their files."),
    ),
    tuple(Output(name, layer, "vector" if file.endswith(".gpkg") else "raster")
          for name, (file, layer) in DEMO_SCENE_LAYERS.items()),
    needs_torch=False,
    tags=("synthetic", "sample data", "demo", "tutorial"),
)

JOBS: Dict[str, Job] = {job.name: job for job in (PRETRAIN, FINETUNE, SUGGEST, CLASSIFY, ACCURACY, REDUNDANCY,
                                                   DEMO_SCENE)}
"""The jobs in Toolbox order, by id."""
