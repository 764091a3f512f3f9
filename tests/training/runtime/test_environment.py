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
