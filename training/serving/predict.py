"""Raw rows in, predictions out, through the preprocessing the model was trained with. Pure."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import DataError
from .preprocessing import Preprocessor

# A classifier's answer: `prediction` (the label) and one `proba_<class>` column per class.
PROBA_PREFIX = "proba_"


def as_numbers(frame: pd.DataFrame, numeric: list[str]) -> pd.DataFrame:
    """`frame` with its `numeric` columns as float64, the type the served model declares for them: a column of
    whole numbers in a file (int64) meets it too. A row that cannot be scored (text in a numeric column, an
    infinite value) is named, not dropped."""
    numbers, problems = {}, []
    for column in [c for c in numeric if c in frame.columns]:
        values = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        bad = frame.index[(values.isna() & frame[column].notna()) | np.isinf(values.fillna(0.0))]
        if len(bad):
            rows = ", ".join(str(i + 1) for i in bad[:10]) + (" ..." if len(bad) > 10 else "")
            problems.append(f"column {column!r} is not a finite number in row(s) {rows} "
                            f"(e.g. {frame[column].iloc[bad[0]]!r})")
        numbers[column] = values
    if problems:
        raise DataError("cannot score these rows: " + "; ".join(problems) + " (rows count from 1, after the header)")
    return frame.assign(**numbers)


def predict_frame(model, preprocessor: Preprocessor, frame: pd.DataFrame) -> pd.DataFrame:
    """One output row per input row: `prediction` (original labels) and `proba_<class>` for classification."""
    frame = frame.drop(columns=[preprocessor.target], errors="ignore").reset_index(drop=True)
    x, _ = preprocessor.transform(as_numbers(frame, preprocessor.numeric))
    raw = np.asarray(model.predict(x, batch_size=1024, verbose=0))
    if preprocessor.task == "regression":
        return pd.DataFrame({"prediction": raw.reshape(-1)})
    out = pd.DataFrame({"prediction": preprocessor.decode_target(raw.argmax(axis=1))})
    for i, label in enumerate(preprocessor.classes):
        out[f"{PROBA_PREFIX}{label}"] = raw[:, i]
    return out
