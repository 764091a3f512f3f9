"""Every private name of Keras Tuner this project uses, in one place, with the versions it was read in.

Keras Tuner's public API offers no way to make the first trial of a search a given point (there is no
"enqueue"), and it forces two full garbage collections before every trial. Both are reached through private
methods below; nothing else of the project touches a private name of Keras Tuner (tests/test_private_names.py
greps for them). tests/tuning/test_compat.py fails when one of these names moves, or when the installed version
leaves CHECKED: then read the new version's source, mend this module, and widen the range.

The distributed roles (chief or worker) are read from the environment variables Keras Tuner documents
(KERASTUNER_ORACLE_IP, KERASTUNER_TUNER_ID), not from its private `distribute.utils`.
"""

from __future__ import annotations

import time

import keras
import keras_tuner as kt

LIBRARY = "keras-tuner"
CHECKED = ">=1.4.8,<1.5"  # read in 1.4.8's source (keras_tuner/src/engine/oracle.py, engine/tuner.py)
# (class, private name) pairs this module relies on; an instance attribute is checked on a fresh oracle.
PRIVATE_METHODS = ((kt.Oracle, "_random_values"), (kt.Oracle, "_duplicate"), (kt.Tuner, "_try_build"),
                   (kt.Tuner, "_build_hypermodel"), (kt.Hyperband, "_build_hypermodel"))
PRIVATE_ATTRIBUTES = ("_tried_so_far",)
# Keras Tuner's worker asks the chief for a trial again at once when the answer is IDLE; every oracle here is
# asked at most this often instead (patient).
IDLE_POLL_SECONDS = 0.5


class WinnerFirst:
    """Oracle mixin: the first values a search tries are the space's defaults, i.e. the incoming winner.

    `_random_values` is where every Keras Tuner oracle draws a new point (Hyperband's brackets too), so the
    first draw is replaced there; `_duplicate` records it, so that random draws never repeat it."""

    def _random_values(self):
        if not self._tried_so_far:
            hps = kt.HyperParameters()
            for hp in self.hyperparameters.space:
                hps.merge([hp])
                if hps.is_active(hp):
                    hps.values[hp.name] = hp.default
            self._duplicate(hps.values)
            return hps.values
        return super()._random_values()


class LightBuild:
    """Tuner mixin: Keras Tuner clears the session and forces two full garbage collections before every trial
    (`_try_build`); in a process holding TensorFlow, MLflow and Prefect each takes ~0.45 s, 40% of a standard
    search's wall time (bench/RESULTS.md, measurement 1). Clearing the session is what keeps the graph small;
    Python's own collector reclaims the dropped models as usual. (No `max_model_size` is ever set here, so its
    check is not repeated.)"""

    def _try_build(self, hp):
        keras.backend.clear_session(free_memory=False)
        model = self._build_hypermodel(hp)
        if not isinstance(model, keras.Model):
            raise kt.errors.FatalTypeError(f"build() returned {type(model)}, not a Keras model")
        return model


def patient(client):
    """A worker's oracle client that waits IDLE_POLL_SECONDS when the chief answers IDLE (Hyperband waiting for
    the other trials of a round), instead of Keras Tuner's busy loop that takes a core from the worker still
    training. Wraps its public `create_trial`; what relies on Keras Tuner's internals is the loop around it."""
    create_trial = client.create_trial

    def create_trial_patiently(tuner_id):
        trial = create_trial(tuner_id)
        if trial.status == "IDLE":
            time.sleep(IDLE_POLL_SECONDS)
        return trial

    client.create_trial = create_trial_patiently
    return client


def missing_names() -> list[str]:
    """The private names above that the installed Keras Tuner no longer has."""
    missing = [f"{owner.__name__}.{name}" for owner, name in PRIVATE_METHODS if not hasattr(owner, name)]
    oracle = kt.oracles.RandomSearchOracle(objective=kt.Objective("val_loss", "min"), max_trials=1)
    missing += [f"Oracle().{name}" for name in PRIVATE_ATTRIBUTES if not hasattr(oracle, name)]
    return missing
