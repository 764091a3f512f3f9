import pickle

from training.data.split import make_split
from training.data.tables import load_dataset
from training.tracking.datasets import split_datasets


def test_a_split_whose_datasets_were_made_still_goes_to_another_process():
    # A distributed search pickles the split for its workers after the candidates logged its MLflow datasets;
    # MLflow makes their source classes at run time, so the memo that holds them must stay behind.
    split = make_split(load_dataset("wine"), (0.6, 0.2, 0.2), seed=0)
    made = split_datasets(split)
    assert split.memo and set(made) == {"training", "validation", "test"}

    copy = pickle.loads(pickle.dumps(split))

    assert copy.memo == {} and copy.fingerprint == split.fingerprint
    assert split_datasets(copy)["training"].digest == made["training"].digest
