import subprocess
import sys

import pytest

SCRIPT = """
import training
from training.runtime import limit_tensorflow_threads
import tensorflow as tf
print(limit_tensorflow_threads({parallel}, cores=4), tf.config.threading.get_intra_op_parallelism_threads())
"""


def run(parallel: int) -> str:
    # A fresh process: TensorFlow takes thread settings only before its runtime starts.
    return subprocess.run([sys.executable, "-c", SCRIPT.format(parallel=parallel)], capture_output=True, text=True,
                          check=True).stdout.split()


@pytest.mark.slow
def test_parallel_candidates_share_the_cores():
    assert run(2) == ["2", "2"]
    assert run(4) == ["1", "1"]


def test_one_candidate_keeps_tensorflow_defaults():
    assert run(1) == ["None", "0"]
