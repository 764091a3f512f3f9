"""A remembered stop is raised again once, at a safe point: between two batches of a fit."""

import keras
import numpy as np
import pytest

from training.runtime import interruption


class Stop(BaseException):
    pass


def raise_stop():
    raise Stop


@pytest.fixture(autouse=True)
def nothing_pending():
    interruption.forget()
    yield
    interruption.forget()


def test_a_remembered_stop_is_raised_at_every_check_until_forgotten():
    interruption.check()  # nothing pending: nothing happens
    interruption.remember(raise_stop)
    assert interruption.pending()
    for _ in range(2):  # every thread that trains stops, not only the first to look
        with pytest.raises(Stop):
            interruption.check()
    interruption.forget()
    assert not interruption.pending()
    interruption.check()


def test_a_fit_stops_at_the_next_batch():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    batches = []

    class AsksOnce(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            batches.append(batch)
            if batch == 1:
                interruption.remember(raise_stop)  # as the SIGTERM bridge does before its exception is lost

    with pytest.raises(Stop):
        model.fit(np.zeros((64, 3)), np.zeros(64), batch_size=8, epochs=5, verbose=0,
                  callbacks=[AsksOnce(), interruption.StopWhenAsked()])
    assert batches == [0, 1]


def test_forget_drops_a_stop_of_an_earlier_run():
    interruption.remember(raise_stop)
    interruption.forget()
    interruption.check()


def test_an_error_while_a_stop_is_pending_ends_the_run_killed(tracking_uri):
    from training.tracking.runs import Tracker

    tracker = Tracker(tracking_uri, "interruption")
    with pytest.raises(RuntimeError):
        with tracker.run("stage") as run_id:
            interruption.remember(raise_stop)
            raise RuntimeError("what pybind11 makes of an exception raised inside TensorFlow's C++")
    assert tracker.get_run(run_id).info.status == "KILLED"
    with pytest.raises(Stop):  # nor does a run start while a stop is pending
        with tracker.run("refused"):
            pass
    (refused,) = tracker.search("attributes.run_name = 'refused'")
    assert refused.info.status == "KILLED"
    interruption.forget()
    with pytest.raises(ValueError), tracker.run("stage") as failed_id:
        raise ValueError("a plain failure")
    assert tracker.get_run(failed_id).info.status == "FAILED"


def test_a_stop_that_tensorflow_turned_into_a_runtime_error_is_raised_as_itself(tracking_uri, monkeypatch):
    from training.config import Selection
    from training.data.split import make_split
    from training.data.tables import load_dataset
    from training.model.spec import ModelSpec
    from training.tracking import candidates
    from training.tracking.runs import Tracker

    def fit_hit_by_a_signal(*args, **kwargs):
        interruption.remember(raise_stop)
        raise RuntimeError("TerminationSignal")

    monkeypatch.setattr(candidates, "fit", fit_hit_by_a_signal)
    tracker = Tracker(tracking_uri, "interruption")
    with tracker.run("stage") as stage_run_id:
        with pytest.raises(Stop):
            candidates.train_and_record(tracker, stage_run_id, "base", {"kind": "candidate"}, ModelSpec(),
                                        make_split(load_dataset("iris"), (0.6, 0.2, 0.2), 0),
                                        Selection("val_accuracy", "max"), seed=0)
        interruption.forget()  # else the stage run ends KILLED too, as it should in a real stop
    (run,) = tracker.child_runs(stage_run_id)
    assert run.info.status == "KILLED"
