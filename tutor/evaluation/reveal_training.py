"""Training and held-out measurement of the reveal guard (``tutor.pedagogy.reveal.guarded_reveals``).

Example::

    dialogues = load_mrbench(path)
    inputs = reveal_inputs(dialogues, embed_replies(dialogues, get_embedder()), "all-MiniLM-L6-v2")
    classifier = train_classifier(inputs.subset(inputs.splits == "dev"))
    heldout(inputs)["leave_tutor_out"]["guard"]["macro_f1"]

The recipe is fixed and deterministic: scikit-learn's LogisticRegression (lbfgs, C=1,
class-balanced) over the reply's MiniLM embedding and the rules' findings
(``reveal.FEATURES``); the decision threshold is the one with the best macro-F1 on out-of-fold
predictions *within the training data* (5-fold, grouped by dialogue), never on what is
measured. The held-out figures refit the same recipe with whole dialogues or whole tutors left
out, and score the old rules on exactly the same replies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from tutor.pedagogy.reveal import FEATURES, Reference, RevealClassifier, reveal_features, reveals

C = 1.0
INNER_FOLDS = 5
OUTER_DIALOGUE_FOLDS = 5
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.2, 0.81, 0.02))
LABELS = ("yes", "no")


@dataclass
class RevealInputs:
    """One row per reply with a human reveal label: what the classifier reads and what it is scored on."""

    vectors: np.ndarray      # (n, dim) reply embeddings
    features: np.ndarray     # (n, len(FEATURES)) the rules' findings
    gold: np.ndarray         # (n,) 1 = the annotators say the reply reveals the answer
    rules: np.ndarray        # (n,) 1 = the rules alone say it reveals
    dialogues: np.ndarray    # (n,) dialogue ids (the groups for leave-dialogue-out)
    tutors: np.ndarray       # (n,) tutor names (the groups for leave-tutor-out)
    splits: np.ndarray       # (n,) 'dev' | 'test'
    embedder: str = ""

    @property
    def X(self) -> np.ndarray:
        return np.hstack([self.vectors, self.features])

    def subset(self, mask: np.ndarray) -> "RevealInputs":
        return RevealInputs(self.vectors[mask], self.features[mask], self.gold[mask], self.rules[mask],
                            self.dialogues[mask], self.tutors[mask], self.splits[mask], self.embedder)


def embed_replies(dialogues: list, embedder) -> np.ndarray:
    """Every reply's embedding, in the order ``dialogues`` and their replies come (one batch call)."""
    texts = [reply.text for d in dialogues for reply in d.replies]
    return np.asarray(embedder.embed_documents(texts), dtype=float)


def reveal_inputs(dialogues: list, vectors: np.ndarray, embedder: str) -> RevealInputs:
    """The labelled replies with their embeddings (``embed_replies``) and the rules' findings in
    the dialogue's context — the same context ``mrbench.check_reply`` gives the guard."""
    rows, keep = [], []
    n = 0
    for d in dialogues:
        reference = Reference.from_solution(d.solution) if d.solution else None
        said, given = d.last_student(), d.given_text()
        for reply in d.replies:
            n += 1
            if "revealing_of_the_answer" not in reply.labels:
                continue
            keep.append(n - 1)
            rows.append((reveal_features(reply.text, reference, said, given),
                         reply.labels["revealing_of_the_answer"] == "yes",
                         reveals(reply.text, reference, said, given).revealed, d.id, reply.tutor, d.split))
    feats, gold, rules, ids, tutors, splits = (list(col) for col in zip(*rows)) if rows else ([],) * 6
    return RevealInputs(np.asarray(vectors, dtype=float)[keep], np.asarray(feats, dtype=float).reshape(len(rows), len(FEATURES)),
                        np.asarray(gold, dtype=int), np.asarray(rules, dtype=int), np.asarray(ids),
                        np.asarray(tutors), np.asarray(splits), embedder)


def _fit(X: np.ndarray, y: np.ndarray):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, class_weight="balanced", max_iter=5000).fit(X, y)


def _macro_f1(gold: np.ndarray, predicted: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, predicted, labels=[1, 0], average="macro", zero_division=0))


def _both_classes(y: np.ndarray) -> bool:
    return len(set(y.tolist())) == 2


def choose_threshold(X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float:
    """The threshold with the best macro-F1 on out-of-fold probabilities of the training data
    (grouped by dialogue); 0.5 when the data is too small to fold."""
    from sklearn.model_selection import GroupKFold

    folds = min(INNER_FOLDS, len(set(groups.tolist())))
    if folds < 2:
        return 0.5
    oof = np.zeros(len(y))
    for train, test in GroupKFold(folds).split(X, y, groups):
        if not _both_classes(y[train]):
            return 0.5
        oof[test] = _fit(X[train], y[train]).predict_proba(X[test])[:, 1]
    scores = [_macro_f1(y, (oof >= t).astype(int)) for t in THRESHOLDS]
    return THRESHOLDS[int(np.argmax(scores))]


def train_classifier(inputs: RevealInputs, trained_on: str = "") -> RevealClassifier:
    """The recipe on these replies: weights from all of them, the threshold from their own folds."""
    if not _both_classes(inputs.gold):
        raise ValueError("training the reveal guard needs replies labelled both revealing and not revealing")
    X, y = inputs.X, inputs.gold
    model = _fit(X, y)
    return RevealClassifier(inputs.embedder, inputs.vectors.shape[1], FEATURES,
                            tuple(float(w) for w in model.coef_[0]), float(model.intercept_[0]),
                            choose_threshold(X, y, inputs.dialogues), trained_on)


def predict(classifier: RevealClassifier, inputs: RevealInputs) -> np.ndarray:
    return np.asarray([int(classifier.probability(v, f) >= classifier.threshold)
                       for v, f in zip(inputs.vectors, inputs.features)], dtype=int)


def _scores(gold: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    from tutor.evaluation.mrbench import agreement

    as_label = lambda a: ["yes" if v else "no" for v in a]  # noqa: E731
    return agreement(as_label(gold), as_label(predicted), LABELS)


def cross_validated(inputs: RevealInputs, folds) -> np.ndarray | None:
    """Out-of-fold predictions of the recipe refitted on each fold's training part; None when a
    training part lacks one of the labels."""
    predicted = np.zeros(len(inputs.gold), dtype=int)
    for train, test in folds:
        part = inputs.subset(train)
        if not _both_classes(part.gold):
            return None
        predicted[test] = predict(train_classifier(part), inputs.subset(test))
    return predicted


def _leave_dialogue_out(inputs: RevealInputs) -> list:
    from sklearn.model_selection import GroupKFold

    n = min(OUTER_DIALOGUE_FOLDS, len(set(inputs.dialogues.tolist())))
    return list(GroupKFold(n).split(inputs.X, inputs.gold, inputs.dialogues)) if n >= 2 else []


def _leave_tutor_out(inputs: RevealInputs) -> list:
    from sklearn.model_selection import LeaveOneGroupOut

    return list(LeaveOneGroupOut().split(inputs.X, inputs.gold, inputs.tutors)) \
        if len(set(inputs.tutors.tolist())) >= 2 else []


def _dev_to_test(inputs: RevealInputs) -> list:
    dev, test = np.flatnonzero(inputs.splits == "dev"), np.flatnonzero(inputs.splits == "test")
    return [(dev, test)] if len(dev) and len(test) else []


SCHEMES: dict[str, tuple[str, Callable[[RevealInputs], list]]] = {
    "leave_dialogue_out": (f"{OUTER_DIALOGUE_FOLDS}-fold, whole dialogues held out (GroupKFold by dialogue id)",
                           _leave_dialogue_out),
    "leave_tutor_out": ("one tutor held out at a time (LeaveOneGroupOut by tutor name)", _leave_tutor_out),
    "dev_to_test": ("trained on the dev half, scored on the test half (the rules too were adjusted on dev only)",
                    _dev_to_test),
}


def heldout(inputs: RevealInputs) -> dict[str, Any]:
    """Per scheme, the guard's out-of-fold predictions and the old rules on the same replies:
    accuracy, per-class F1, macro-F1, κ, confusion matrix. A scheme the data is too small for
    says why instead."""
    out: dict[str, Any] = {}
    for name, (description, make_folds) in SCHEMES.items():
        folds = make_folds(inputs)
        tested = np.zeros(len(inputs.gold), dtype=bool)
        for _, test in folds:
            tested[test] = True
        predicted = cross_validated(inputs, folds) if folds else None
        if predicted is None:
            out[name] = {"description": description, "skipped": "too few groups, or a training part with one label"}
            continue
        out[name] = {"description": description, "n": int(tested.sum()), "folds": len(folds),
                     "guard": _scores(inputs.gold[tested], predicted[tested]),
                     "rules": _scores(inputs.gold[tested], inputs.rules[tested])}
        if name == "leave_tutor_out":
            # Each tutor scored when it was the one left out: how far the figure varies by style.
            out[name]["by_tutor"] = {
                tutor: {"n": int(mask.sum()), "reveals": int(inputs.gold[mask].sum()),
                        "guard": round(_macro_f1(inputs.gold[mask], predicted[mask]), 4),
                        "rules": round(_macro_f1(inputs.gold[mask], inputs.rules[mask]), 4)}
                for tutor in sorted(set(inputs.tutors.tolist())) for mask in [inputs.tutors == tutor]}
    return out
