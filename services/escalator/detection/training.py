"""Training the statistical second opinion (statistical.py) from labelled messages.

scikit-learn does the fitting: TF-IDF over the stems the opinion reads (its own analyzer,
so training and scoring see the same features) and one logistic regression per signal,
classes balanced (a signal is in a tenth of the messages or fewer). The result is saved as
plain arrays, with what it was trained on, for `LinearOpinion.load`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from .lexicon import LEXICON_ONLY, SIGNALS
from .statistical import features

C = 10.0  # inverse regularisation: the first value tried, kept (not tuned on any measure)
# A feature (stem or stem pair) is kept when at least this many training messages have it:
# one message's pairs are mostly its own wording, five times the features of the rest. On
# classify-blind9 (trained on 4,163 messages) the same F1 either way, the file 0.38 MB
# instead of 2.0, long messages 20% quicker.
MIN_DF = 2


@dataclass(frozen=True)
class Trained:
    vectorizer: TfidfVectorizer
    models: dict[str, LogisticRegression]  # per signal

    def arrays(self) -> dict[str, np.ndarray]:
        """What the opinion keeps of it: plain arrays, strings as unicode (no objects)."""
        return {
            "signals": np.array(list(self.models)),
            "vocabulary": np.array([str(f) for f in self.vectorizer.get_feature_names_out()]),
            "idf": self.vectorizer.idf_.astype(np.float32),
            "coef": np.array([m.coef_[0] for m in self.models.values()], dtype=np.float32),
            "intercept": np.array([m.intercept_[0] for m in self.models.values()], np.float32),
        }


def fit(rows: Sequence[Mapping[str, Any]], c: float = C) -> Trained:
    """From rows with `text` and `labels`; a model per signal but the `LEXICON_ONLY` ones
    (whose labels are read by the evaluation, not learned)."""
    vectorizer = TfidfVectorizer(analyzer=features, sublinear_tf=True, min_df=MIN_DF)
    matrix = vectorizer.fit_transform([str(row["text"]) for row in rows])
    models = {}
    for signal in (s for s in SIGNALS if s not in LEXICON_ONLY):
        labels = np.array([signal in row["labels"] for row in rows])
        # Converged to the (unique) optimum, so that any machine retrains the same model.
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=20000, tol=1e-8)
        models[signal] = model.fit(matrix, labels)
    return Trained(vectorizer, models)


def save(arrays: Mapping[str, np.ndarray], path: Path, trained_on: Mapping[str, int]) -> None:
    """Arrays only (np.load without pickle), and where they came from."""
    about = [f"{name}: {count}" for name, count in trained_on.items()]
    contents: dict[str, np.ndarray] = {
        **arrays,
        # Half precision: the weights are most of the file, and rounding them moves no
        # probability by more than 0.0003 on the labelled messages (none crosses the
        # threshold); the opinion computes in double precision after loading.
        "coef": arrays["coef"].astype(np.float16),
        "trained_on": np.array(about),
        "c": np.array(C),
        "sklearn_version": np.array(sklearn.__version__),
    }
    # numpy's stubs type the keyword arrays as its `allow_pickle` flag
    np.savez_compressed(path, **contents)  # type: ignore[arg-type]
