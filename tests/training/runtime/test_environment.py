import json
import os
import subprocess
import sys

import pytest

from tests.support import run_side_by_side

SCRIPT = """
import training
from training.runtime.environment import limit_tensorflow_threads
import tensorflow as tf
print(limit_tensorflow_threads({parallel}, cores=4), tf.config.threading.get_intra_op_parallelism_threads())
"""


def run(*parallel: int) -> list[list[str]]:
    """One fresh process per value, side by side: TensorFlow takes thread settings only before its runtime
    starts."""
    done = run_side_by_side([[sys.executable, "-c", SCRIPT.format(parallel=n)] for n in parallel])
    assert [code for code, _ in done] == [0] * len(parallel)
    return [out.split() for _, out in done]


@pytest.mark.slow
def test_parallel_candidates_share_the_cores():
    assert run(2, 4) == [["2", "2"], ["1", "1"]]


def test_one_candidate_keeps_tensorflow_defaults():
    assert run(1) == [["None", "0"]]


def test_importing_training_sets_nothing_and_flows_sets_the_quiet_defaults():
    """A library that changes the process environment on import surprises whoever imports it; the entry points
    (flows, which a Prefect worker imports first) apply the defaults."""
    # TensorFlow's import sets variables of its own (TF2_BEHAVIOR, ...); none of ours may appear with training.
    script = ("import os, json; import training, training.config, training.method.fit; "
              "from training.runtime.environment import QUIET_DEFAULTS; "
              "ours = set(QUIET_DEFAULTS) | {'PREFECT_LOGGING_LEVEL'}; "
              "set_by_training = sorted(ours & set(os.environ)); import flows; "
              "print(json.dumps([set_by_training, os.environ.get('PREFECT_LOGGING_LEVEL'), "
              "os.environ.get('TF_CPP_MIN_LOG_LEVEL')]))")
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("PREFECT_", "TF_", "MLFLOW_", "DASK_", "MPLBACKEND", "KERAS_", "DO_NOT_TRACK"))}
    done = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [[], "WARNING", "3"]
