"""Learning-curve figures from histories. Pure: returns matplotlib figures, the tracker saves them."""

from __future__ import annotations

import functools
import threading

from matplotlib.figure import Figure

# Figures are made directly, not through pyplot: no global figure registry and no GUI backend on workers or
# CI. Candidates may still be plotted from several threads at once, and matplotlib's text layout (its
# mathtext parser, used for log-scale tick labels) is shared and not thread-safe: drawing takes this lock.
RENDER_LOCK = threading.RLock()


def drawn_alone(make):
    @functools.wraps(make)
    def wrapper(*args, **kwargs):
        with RENDER_LOCK:
            return make(*args, **kwargs)

    return wrapper


@drawn_alone
def learning_curves(history: dict[str, list[float]], metric: str, title: str, best_epoch: int | None = None) -> Figure:
    """Loss, the task metric and the learning rate per epoch, train against validation."""
    epochs = list(range(1, len(history["loss"]) + 1))
    base = metric.removeprefix("val_")
    panels = [("loss", "loss")]
    if base != "loss" and base in history:
        panels.append((base, base))
    has_lr = "learning_rate" in history
    fig = Figure(figsize=(4.2 * (len(panels) + has_lr), 3.4))
    axes = fig.subplots(1, len(panels) + has_lr, squeeze=False)
    for ax, (key, label) in zip(axes[0], panels, strict=False):
        ax.plot(epochs, history[key], label=f"train {label}")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], label=f"val {label}")
        if best_epoch:
            ax.axvline(best_epoch, color="grey", linestyle=":", label=f"best epoch {best_epoch}")
        ax.set_xlabel("epoch")
        ax.set_title(label)
        ax.legend(fontsize=8)
    if has_lr:
        ax = axes[0][-1]
        ax.plot(epochs, history["learning_rate"], color="tab:green")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title("learning rate")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


@drawn_alone
def overlaid_validation_curves(histories: dict[str, dict[str, list[float]]], metric: str, title: str) -> Figure:
    """Every candidate's validation curve of the selection metric on one axis."""
    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.subplots()
    for name, history in histories.items():
        values = history.get(metric, [])
        ax.plot(range(1, len(values) + 1), values, label=name)
    return _finish(fig, ax, "epoch", metric, title)


@drawn_alone
def score_per_trial(scores: list[tuple[str, float]], metric: str, direction: str, title: str) -> Figure:
    """Each trial's score in the order the trials ran, with the best so far."""
    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.subplots()
    values = [score for _, score in scores]
    ax.plot(range(1, len(values) + 1), values, "o", label=f"trial {metric}")
    pick = max if direction == "max" else min
    best, running = [], None
    for value in values:
        running = value if running is None else pick(running, value)
        best.append(running)
    ax.step(range(1, len(best) + 1), best, where="post", label="best so far")
    return _finish(fig, ax, "trial (in the order run)", metric, title)


def _finish(fig: Figure, ax, xlabel: str, ylabel: str, title: str) -> Figure:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@drawn_alone
def sample_images(pixels, truth: list, predicted: list, count: int = 16) -> Figure:
    """The first `count` images with their predicted label over the true one; a wrong prediction in red."""
    count = min(count, len(pixels))
    columns = min(8, count)
    rows = -(-count // columns)
    fig = Figure(figsize=(1.4 * columns, 1.6 * rows))
    axes = fig.subplots(rows, columns, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= count:
            continue
        image = pixels[i]
        ax.imshow(image[:, :, 0] if image.shape[-1] == 1 else image, cmap="gray" if image.shape[-1] == 1 else None,
                  vmin=0, vmax=255)
        right = str(predicted[i]) == str(truth[i])
        ax.set_title(f"{predicted[i]} ({truth[i]})", fontsize=8, color="black" if right else "red")
    fig.suptitle("predicted (true) on test images", fontsize=9)
    fig.tight_layout()
    return fig
