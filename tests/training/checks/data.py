"""Real tables for the checks' tests: scikit-learn's wine set with a category column, and nights made from it."""

import numpy as np
import pandas as pd


def wine() -> pd.DataFrame:
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
    rng = np.random.default_rng(0)
    frame["region"] = rng.choice(["north", "south", "east", "west"], size=len(frame), p=[0.4, 0.3, 0.2, 0.1])
    return frame


def doubled_share(frame: pd.DataFrame, column: str, category: str, seed: int = 1) -> pd.DataFrame:
    """`category` given about twice its share of the rows, taken from the others at random."""
    out = frame.copy()
    others = out.index[out[column] != category]
    share = (out[column] == category).mean()
    moved = np.random.default_rng(seed).choice(others, size=int(round(share * len(out))), replace=False)
    out.loc[moved, column] = category
    return out
