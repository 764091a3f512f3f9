"""Read a training history the way the course teaches: underfitting, overfitting or a good fit. Pure.

Rules, applied in this order (epochs are 1-based in every message):
1. diverged      - a training or validation loss is NaN or infinite: the learning rate is too high.
2. overfitting   - validation loss, averaged over the last few epochs to ride out noise, ended at least
                   OVERFIT_RISE above its minimum; the minimum came at least 2 epochs before the end; and
                   training loss kept falling after it.
3. underfitting  - training loss barely fell (< NOT_LEARNING_DROP over the run: the network is not learning),
                   or validation loss was still improving at the end (the last epoch within STILL_IMPROVING_TOL
                   of the best and at least IMPROVING_DROP lower than a third of the run earlier), or there was
                   only one epoch to judge.
4. good fit      - otherwise: validation loss flattened out near its minimum without rising.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from training.config import Selection

OVERFIT_RISE = 0.10
NOT_LEARNING_DROP = 0.05
STILL_IMPROVING_TOL = 0.01
IMPROVING_DROP = 0.02
SMOOTHING_EPOCHS = 3


@dataclass(frozen=True)
class Diagnosis:
    regime: str  # "underfitting", "overfitting", "good fit" or "diverged"
    best_epoch: int  # 1-based epoch of the best selection score
    best_score: float
    gap: float  # val_loss - loss at the best epoch
    still_improving: bool
    advice: str

    def tags(self) -> dict[str, str]:
        return {
            "diagnosis.regime": self.regime,
            "diagnosis.best_epoch": str(self.best_epoch),
            "diagnosis.still_improving": str(self.still_improving).lower(),
            "diagnosis.advice": self.advice,
        }


def _finite(values: list[float]) -> bool:
    return all(math.isfinite(v) for v in values)


def best_epoch(values: list[float], direction: str) -> int:
    """1-based epoch of the best finite value; ties go to the earlier epoch."""
    candidates = [(v, i) for i, v in enumerate(values) if math.isfinite(v)]
    if not candidates:
        return len(values)
    pick = max if direction == "max" else min
    value = pick(v for v, _ in candidates)
    return next(i for v, i in candidates if v == value) + 1


def diagnose(history: dict[str, list[float]], selection: Selection) -> Diagnosis:
    loss, val_loss = list(history["loss"]), list(history["val_loss"])
    if selection.metric not in history:
        raise ValueError(f"history has {sorted(history)}, not the selection metric {selection.metric!r}")
    scores = list(history[selection.metric])
    n = len(val_loss)
    if n == 0:
        raise ValueError("cannot diagnose an empty history")
    best = best_epoch(scores, selection.direction)
    best_score = scores[best - 1]
    gap = val_loss[best - 1] - loss[best - 1]

    if not (_finite(loss) and _finite(val_loss)):
        first_bad = next(i for i, (a, b) in enumerate(zip(loss, val_loss, strict=True))
                         if not (math.isfinite(a) and math.isfinite(b))) + 1
        return Diagnosis("diverged", best, best_score, gap, False,
                         f"diverged: loss became non-finite at epoch {first_bad}; lower the learning rate "
                         "(try 10x smaller) or add batch normalization")

    min_epoch = best_epoch(val_loss, "min")
    val_min = val_loss[min_epoch - 1]
    tail = val_loss[-min(SMOOTHING_EPOCHS, max(1, n - min_epoch)):]
    val_end = sum(tail) / len(tail)
    rise = (val_end - val_min) / abs(val_min) if val_min else 0.0
    train_fall = (loss[min_epoch - 1] - loss[-1]) / abs(loss[min_epoch - 1]) if loss[min_epoch - 1] else 0.0
    third = max(1, n // 3)
    earlier = val_loss[-1 - third] if n > third else val_loss[0]
    still_improving = n > 1 and (val_loss[-1] <= val_min * (1 + STILL_IMPROVING_TOL)) and (
        earlier - val_loss[-1] >= IMPROVING_DROP * abs(earlier))

    if n - min_epoch >= 2 and rise >= OVERFIT_RISE and train_fall > 0:
        return Diagnosis("overfitting", best, best_score, gap, still_improving,
                         f"overfitting from epoch {min_epoch}: validation loss rose {rise:.0%} while training "
                         f"loss fell {train_fall:.0%}; try dropout or a smaller network, or stop at epoch "
                         f"{min_epoch}")
    if n == 1:
        return Diagnosis("underfitting", best, best_score, gap, False,
                         "only one epoch: too little to judge; train for more epochs")
    total_drop = (loss[0] - loss[-1]) / abs(loss[0]) if loss[0] else 0.0
    if total_drop < NOT_LEARNING_DROP:
        return Diagnosis("underfitting", best, best_score, gap, still_improving,
                         f"underfitting: training loss fell only {max(total_drop, 0):.0%} in {n} epochs; the "
                         "network is not learning: raise the learning rate or grow the network")
    if still_improving:
        drop = (earlier - val_loss[-1]) / abs(earlier)
        return Diagnosis("underfitting", best, best_score, gap, True,
                         f"underfitting: validation loss still falling at epoch {n} ({drop:.0%} over the last "
                         f"{third} epochs); train longer or grow the network")
    return Diagnosis("good fit", best, best_score, gap, False,
                     f"good fit: validation loss flattened from epoch {min_epoch} without rising "
                     f"(gap {gap:+.3f} at epoch {best}); regularize only if the gap matters")
