"""Read a training history the way the course teaches: underfitting, overfitting or a good fit. Pure.

The course defines the regimes by levels as much as by shapes: underfitting is a training score and a validation
score that are both poor, or a validation curve still improving when training ends; overfitting is a good training
score that validation lags, or a validation curve that turns back up. "Poor" needs a reference the data gives:
the linear baseline's score on the same validation rows (training.method.baselines.validation_reference). "Lags" needs a
scale: the standard error of the validation score (training.method.noise), so that a 287-row validation set's chance
wobble is not read as a gap.

The curves read are the data's own loss: Keras' `loss` and `val_loss` include the weight penalties (L2), which
fall as the weights shrink and can make a flat validation curve look like a falling one; a model with penalties
records `data_loss` and `val_data_loss` beside them (training.model.build), and those are read.

Rules, applied in this order (epochs are 1-based in every message; scores are the selection metric's, train
score its training twin, both at the best epoch):
1. diverged         - a training or validation loss is NaN or infinite: the learning rate is too high.
2. underfitting     - (levels) with a reference: neither the train score nor the validation score beats it. A
                      network that cannot fit its own training rows better than a linear model predicts unseen
                      ones has too little capacity (or too little training) for the data.
3. overfitting      - (shape) validation loss, averaged over the last few epochs to ride out noise, ended at least
                      OVERFIT_RISE above its minimum; the minimum came at least 2 epochs before the end; and
                      training loss kept falling after it.
4. underfitting     - (shape) only one epoch to judge; or training loss barely fell (< NOT_LEARNING_DROP over the
                      run: the network is not learning).
5. still improving  - validation is still improving at the end, on the loss and on the selection metric alike:
                      the loss's last epoch within STILL_IMPROVING_TOL of its best and at least IMPROVING_DROP
                      lower than a third of the run earlier, and the metric not peaked before that last third
                      (a loss that keeps sharpening confident answers while the metric stopped moving is not
                      improving; a metric that never moved, a coarse one on a few rows, leaves it to the loss).
                      A run that early stopping ended never is: the callback saw `patience` epochs without a
                      better score. Two readings of it:
                      - the network already fits its training rows (training ahead of validation beyond noise, or
                        a perfect training accuracy): it is not too small, it needs more epochs - the regime
                        `still improving`, which never makes the capacity stage grow;
                      - otherwise `underfitting`: train longer or grow.
6. overfitting      - (levels) validation trails training by more than GAP_STANDARD_ERRORS standard errors of the
                      validation score and more than GAP_FLOOR of it: a real generalization gap (judged only when
                      the standard error is known: every fit gives it).
7. good fit         - otherwise: validation flattened out near its best, close to training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from training.config import Selection
from training.model.spec import DATA_LOSS, data_metric

OVERFIT_RISE = 0.10
NOT_LEARNING_DROP = 0.05
STILL_IMPROVING_TOL = 0.01
IMPROVING_DROP = 0.02
SMOOTHING_EPOCHS = 3
GAP_STANDARD_ERRORS = 2.0
GAP_FLOOR = 0.02
PERFECT_ACCURACY = 0.999  # a training accuracy this high leaves no training row to fit better
STILL_IMPROVING = "still improving"


@dataclass(frozen=True)
class Diagnosis:
    regime: str  # "underfitting", "overfitting", "good fit", "still improving" or "diverged"
    best_epoch: int  # 1-based epoch of the best selection score
    best_score: float
    gap: float  # val_loss - loss at the best epoch
    still_improving: bool
    advice: str
    train_score: float | None = None  # the selection metric's training twin at the best epoch
    lag: float | None = None  # how far validation trails training at the best epoch, in the metric's units
    reference: float | None = None  # the linear baseline's validation score, when one was given
    stopped_early: bool = False

    def tags(self) -> dict[str, str]:
        tags = {
            "diagnosis.regime": self.regime,
            "diagnosis.best_epoch": str(self.best_epoch),
            "diagnosis.still_improving": str(self.still_improving).lower(),
            "diagnosis.stopped_early": str(self.stopped_early).lower(),
            "diagnosis.advice": self.advice,
        }
        if self.reference is not None:
            tags["diagnosis.reference"] = f"{self.reference:.6g}"
        return tags


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


def diagnose(history: dict[str, list[float]], selection: Selection, *, reference: float | None = None,
             score_se: float = 0.0, stopped_early: bool = False) -> Diagnosis:
    """`reference`: the level "poor" is judged against (the linear baseline's validation score); `score_se`:
    the standard error of the validation score; `stopped_early`: early stopping ended the run."""
    # The data's own loss where the model has weight penalties; Keras' loss (the same thing) where it has none.
    loss = list(history.get(DATA_LOSS, history["loss"]))
    val_loss = list(history.get(f"val_{DATA_LOSS}", history["val_loss"]))
    if selection.metric not in history:
        raise ValueError(f"history has {sorted(history)}, not the selection metric {selection.metric!r}")
    # Selected on the loss, a penalized model's scores are its data loss too (fit scores it so).
    scored = data_metric(selection.metric, history)
    scores = list(history[scored])
    n = len(val_loss)
    if n == 0:
        raise ValueError("cannot diagnose an empty history")
    best = best_epoch(scores, selection.direction)
    best_score = scores[best - 1]
    gap = val_loss[best - 1] - loss[best - 1]
    train_scores = history.get(scored.removeprefix("val_"))
    train_score = float(train_scores[best - 1]) if train_scores else None
    lag = None
    if train_score is not None and math.isfinite(train_score) and math.isfinite(best_score):
        lag = train_score - best_score if selection.direction == "max" else best_score - train_score

    def made(regime: str, still_improving: bool, advice: str) -> Diagnosis:
        return Diagnosis(regime, best, best_score, gap, still_improving, advice, train_score=train_score, lag=lag,
                         reference=reference, stopped_early=stopped_early)

    name = selection.metric.removeprefix("val_")
    if not (_finite(loss) and _finite(val_loss)):
        first_bad = next(i for i, (a, b) in enumerate(zip(loss, val_loss, strict=True))
                         if not (math.isfinite(a) and math.isfinite(b))) + 1
        return made("diverged", False, f"diverged: loss became non-finite at epoch {first_bad}; lower the learning "
                                       "rate (try 10x smaller) or add batch normalization")

    min_epoch = best_epoch(val_loss, "min")
    val_min = val_loss[min_epoch - 1]
    tail = val_loss[-min(SMOOTHING_EPOCHS, max(1, n - min_epoch)):]
    val_end = sum(tail) / len(tail)
    rise = (val_end - val_min) / abs(val_min) if val_min else 0.0
    train_fall = (loss[min_epoch - 1] - loss[-1]) / abs(loss[min_epoch - 1]) if loss[min_epoch - 1] else 0.0
    third = max(1, n // 3)
    since = max(1, n - third)  # the epoch a third of the run before the end (1-based)
    earlier = val_loss[since - 1]
    loss_improving = (val_loss[-1] <= val_min * (1 + STILL_IMPROVING_TOL)) and (
        earlier - val_loss[-1] >= IMPROVING_DROP * abs(earlier))
    # The selection metric peaked: its best came before the last third. (A metric that never moved at all, as a
    # coarse one on a handful of rows, has no peak behind it: the loss decides.)
    metric_peaked = best <= since and any(v != scores[0] for v in scores)
    still_improving = not stopped_early and n > 1 and loss_improving and not metric_peaked
    beyond_noise = score_se > 0 and lag is not None and lag > max(GAP_STANDARD_ERRORS * score_se,
                                                                   GAP_FLOOR * abs(best_score))

    if reference is not None and train_score is not None and not (
            selection.better(train_score, reference) or selection.better(best_score, reference)):
        return made("underfitting", still_improving,
                    f"underfitting: training {name} {train_score:.4f} and validation {best_score:.4f} (epoch {best}) "
                    f"are no better than a linear model's {reference:.4f} on the validation rows; grow the network "
                    "or train longer")

    if n - min_epoch >= 2 and rise >= OVERFIT_RISE and train_fall > 0:
        return made("overfitting", still_improving,
                    f"overfitting from epoch {min_epoch}: validation loss rose {rise:.0%} from epoch {min_epoch} to "
                    f"the end while training loss fell {train_fall:.0%}; try dropout or a smaller network, or stop "
                    f"at epoch {min_epoch}")
    if n == 1:
        return made("underfitting", False, "only one epoch: too little to judge; train for more epochs")
    total_drop = (loss[0] - loss[-1]) / abs(loss[0]) if loss[0] else 0.0
    if total_drop < NOT_LEARNING_DROP:
        return made("underfitting", still_improving,
                    f"underfitting: training loss fell only {max(total_drop, 0):.0%} from epoch 1 to epoch {n}; the "
                    "network is not learning: raise the learning rate or grow the network")
    if still_improving:
        drop = (earlier - val_loss[-1]) / abs(earlier)
        falling = (f"validation loss fell {drop:.0%} from epoch {since} to epoch {n} and validation {name} was best "
                   f"at epoch {best}")
        perfect = name == "accuracy" and train_score is not None and train_score >= PERFECT_ACCURACY
        if beyond_noise or perfect:
            return made(STILL_IMPROVING, True,
                        f"still improving: {falling}, while training {name} {train_score:.4f} is "
                        f"{'perfect' if perfect else 'ahead of validation beyond noise'}: the network is big "
                        "enough; train longer")
        return made("underfitting", True, f"underfitting: {falling}, training close behind; train longer or grow "
                                          "the network")
    if beyond_noise:
        return made("overfitting", False,
                    f"overfitting: training {name} {train_score:.4f} but validation {best_score:.4f} at epoch "
                    f"{best}, a gap of {lag:.4f} beyond noise (standard error {score_se:.4f}); regularize "
                    "(dropout, weight decay) or shrink the network")
    stopped = f"early stopping ended it at epoch {n}; " if stopped_early else ""
    levels = (f"validation {name} {best_score:.4f} at epoch {best}, training {train_score:.4f} there (gap {lag:+.4f}"
              if lag is not None else f"validation loss {val_loss[best - 1]:.4f} at epoch {best} (gap {gap:+.4f}")
    return made("good fit", False,
                f"good fit: {stopped}{levels}, within noise); validation no longer improving from epoch {since} to "
                f"epoch {n}; nothing to cure")
