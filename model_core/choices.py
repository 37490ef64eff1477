"""The choices a run offers and their defaults, each listed once.

model_core checks its settings against these; the Processing options and bin/mrs are
built from them (`mrs_qgis_plugin/shared_parameters.py`, `job_parameters.py`). Nothing here imports torch, so the
parameter declarations can import it when the plugin loads.
"""

MASKING_STRATEGIES = ("mrs", "random")
"""How pretraining picks the hidden bands: MRS (a random band and the bands most similar to it)
or random bands (the original SS-MAE); `masking.SPECTRAL_MASKS` holds their functions."""
SIMILARITIES = ("cosine", "correlation")
"""How MRS ranks bands against the anchor (see `masking.mrs_mask`)."""
MASK_RATIO = 0.3
"""The paper's spectral and spatial mask ratio."""
PRETRAINING_SAMPLES = 10_000
"""The pixel positions a pretraining draws unless told (the paper draws 200,000, on a GPU)."""
SIMILARITY_PIXELS = 100
"""The fewest pixels the band similarities are computed on (the redundancy sample's minimum):
fewer tell little of how alike the bands are."""
PRECISIONS = ("auto", "fp32", "bf16")
"""Numeric precision of training and prediction: bf16 autocast where the hardware runs it natively
('auto'), always float32, or always bf16."""

PRETRAINING, FINE_TUNING = "pretraining", "fine-tuning"
PHASES = (PRETRAINING, FINE_TUNING)
"""The trainings (the names of `phases.PretrainPhase` and `FinetunePhase`), which a checkpoint
belongs to."""
