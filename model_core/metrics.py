"""Accuracy figures of a classification against reference labels."""

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import numpy as np


def confusion_matrix(reference: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts (n_classes, n_classes): rows are reference classes, columns predicted ones."""
    reference = np.asarray(reference, dtype=np.int64).ravel()
    predicted = np.asarray(predicted, dtype=np.int64).ravel()
    index = reference * n_classes + predicted
    return np.bincount(index, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Element-wise ratio, NaN where the denominator is 0 (the figure is undefined)."""
    numerator, denominator = np.asarray(numerator, dtype=np.float64), np.asarray(denominator, dtype=np.float64)
    return np.divide(numerator, denominator, out=np.full(numerator.shape, np.nan), where=denominator > 0)


@dataclass(frozen=True)
class Accuracy:
    confusion: np.ndarray

    @property
    def total(self) -> int:
        return int(self.confusion.sum())

    @property
    def overall(self) -> float:
        return float(np.trace(self.confusion) / self.total) if self.total else float("nan")

    @property
    def producers(self) -> np.ndarray:
        """Per reference class: the fraction of its pixels mapped to it (recall)."""
        return _ratio(np.diag(self.confusion), self.confusion.sum(axis=1))

    @property
    def users(self) -> np.ndarray:
        """Per mapped class: the fraction of its pixels that are right (precision)."""
        return _ratio(np.diag(self.confusion), self.confusion.sum(axis=0))

    @property
    def f1(self) -> np.ndarray:
        """Per class: the harmonic mean of producer's and user's accuracy, from the counts
        (2 x right / (reference + mapped pixels)), so 0 for a class never mapped or never right."""
        return _ratio(2 * np.diag(self.confusion), self.confusion.sum(axis=1) + self.confusion.sum(axis=0))

    @property
    def average(self) -> float:
        """Mean producer's accuracy over the classes present in the reference."""
        present = self.confusion.sum(axis=1) > 0
        return float(self.producers[present].mean()) if present.any() else float("nan")

    @property
    def kappa(self) -> float:
        """Cohen's kappa; NaN when undefined: no pixel, or chance agreement of 1 (map and
        reference of one class, 0 / 0), which was given as 1.0."""
        if not self.total:
            return float("nan")
        expected = float((self.confusion.sum(axis=0) * self.confusion.sum(axis=1)).sum()) / self.total ** 2
        return float((self.overall - expected) / (1.0 - expected)) if expected < 1.0 else float("nan")

    def to_dict(self, class_names: List[str]) -> Dict[str, Any]:
        """Undefined figures (a class without pixels, a matrix without any) are None: JSON has no NaN."""
        return {
            "pixels": self.total,
            "overall_accuracy": _figure(self.overall),
            "average_accuracy": _figure(self.average),
            "kappa": _figure(self.kappa),
            "classes": [
                {"name": name, "reference_pixels": int(ref), "producers_accuracy": p,
                 "users_accuracy": u, "f1": f}
                for name, ref, p, u, f in zip(class_names, self.confusion.sum(axis=1),
                                              map(_figure, self.producers), map(_figure, self.users),
                                              map(_figure, self.f1))
            ],
            "confusion_matrix": self.confusion.tolist(),
        }


def _figure(value: float) -> Optional[float]:
    return None if np.isnan(value) else float(value)


def accuracy(reference: np.ndarray, predicted: np.ndarray, n_classes: int) -> Accuracy:
    return Accuracy(confusion_matrix(reference, predicted, n_classes))
