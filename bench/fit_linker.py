"""Fit the reader's key→value linker (runtime/reader/linking.py) on FUNSD's development forms.

    .venv/bin/python bench/reader_dev.py cache --data /work/realdocs      # once: the pages' OCR
    .venv/bin/python bench/fit_linker.py --data /work/realdocs [--write]

Training data: the `dev` split of split.json only (the OCR regions cached by `reader_dev.py
cache`, and each form's annotation: its entities' boxes, labels and question→answer links).
The held-out `report` third is never opened here. Every OCR cell is given the annotated
entity that covers at least half of it; a cell that reads like a key (`is_label`, or ends in
a colon) and belongs to a question linked to one answer gets that answer's cells as
positives and its other candidates as negatives; a key-like cell of any other entity
(a header, an answer, a question without an answer) gets only negatives. Questions with
several answers (a table's column) are left out.

Prints the three-fold cross-validated ranking (forms split by name, fixed seed): for keys
that have a value, how often the highest-scored candidate is the annotated one, next to how
often the rules of `document.extract_fields` hold that pair. `--write` fits on every
development form and writes runtime/reader/link_model.py; `--folds FILE` pickles one model
per fold with the forms it was not fitted on (bench/reader_dev.py's cross-fitted evaluation).
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from runtime.reader import document  # noqa: E402
from runtime.reader.document import extract_fields, is_key_like, is_label, key_cells, read_cells  # noqa: E402
from runtime.reader.linking import FEATURES, Trees, _spans, candidates, cells_under, pair_features  # noqa: E402

CACHE = REPO / ".cache" / "reader_calibration" / "funsd.pkl"
MODEL = REPO / "runtime" / "reader" / "link_model.py"
TREES, DEPTH, RATE = 60, 3, 0.1


def _entity(box: tuple[float, float, float, float], form: list[dict]) -> int | None:
    left, top, right, bottom = box
    area = max(1.0, (right - left) * (bottom - top))
    best, share = None, 0.0
    for entity in form:
        e_left, e_top, e_right, e_bottom = entity["box"]
        inside = max(0.0, min(right, e_right) - max(left, e_left)) * max(0.0, min(bottom, e_bottom) - max(top, e_top))
        if inside / area > share:
            best, share = entity["id"], inside / area
    return best if share >= 0.5 else None


def examples(data: Path, cache: Path = CACHE) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], list[bool], int]:
    """Rows, targets, the key each row belongs to, each key's form, whether each key has a
    value, and how many valued keys the rules pair with their annotated value; the forms'
    OCR regions come from `cache` (a `reader_dev.py cache` folder's funsd.pkl)."""
    development = set(json.loads((data / "split.json").read_text())["funsd"]["dev"])
    rows, targets, groups, forms, valued = [], [], [], [], []
    by_rules = 0
    for name, regions, _ in pickle.loads(cache.read_bytes()):
        if name not in development:
            raise SystemExit(f"{cache} holds {name}, which is not a development form: cache again.")
        form = json.loads((data / "funsd" / "annotations" / f"{name}.json").read_text(encoding="utf-8"))["form"]
        by_id = {entity["id"]: entity for entity in form}
        cells = read_cells(regions)
        spans = _spans(cells)
        keys = key_cells(cells)
        labels = [is_label(cell.text.strip()) for cell in cells]
        owner = [_entity(tuple(span), form) for span in spans]
        document.LINKING = False  # the rules alone, for the comparison
        try:
            fields = extract_fields(cells)
        finally:
            document.LINKING = True
        under = cells_under(spans)
        for key, cell in enumerate(cells):
            if not is_key_like(cell.text.strip()):
                continue
            entity, answer_cells = owner[key], []
            if entity is not None and by_id[entity]["label"] == "question":
                answers = [b for a, b in by_id[entity]["linking"] if a == entity and by_id[b]["label"] == "answer"]
                if len(answers) > 1:
                    continue
                if answers:
                    answer_cells = [index for index, other in enumerate(owner) if other == answers[0]]
                    if not answer_cells:
                        continue  # the answer is read inside the key's own cell
            found = candidates(spans, key)
            if not len(found):
                continue
            rows.append(pair_features(cells, spans, keys, labels, key, found, under))
            targets.extend(index in answer_cells for index in found)
            groups.extend([len(forms)] * len(found))
            forms.append(name)
            valued.append(bool(answer_cells))
            by_rules += bool(answer_cells) and any(f.key_line == key and f.line in answer_cells for f in fields)
    return np.vstack(rows), np.array(targets), np.array(groups), forms, valued, by_rules


def fit(rows: np.ndarray, targets: np.ndarray) -> Trees:
    from sklearn.ensemble import GradientBoostingClassifier

    model = GradientBoostingClassifier(n_estimators=TREES, max_depth=DEPTH, learning_rate=RATE, random_state=0)
    model.fit(rows, targets)
    nodes = max(estimator.tree_.node_count for estimator in model.estimators_[:, 0])

    def padded(values, fill):
        return [list(v) + [fill] * (nodes - len(v)) for v in values]

    trees = [estimator.tree_ for estimator in model.estimators_[:, 0]]
    share = float(np.mean(targets))
    prior = float(np.log(share / (1.0 - share)))  # sklearn's default start: the log-odds of the class prior
    fitted = Trees(prior, RATE, padded([t.feature for t in trees], -2), padded([t.threshold for t in trees], 0.0),
                   padded([t.children_left for t in trees], -1), padded([t.children_right for t in trees], -1),
                   padded([t.value[:, 0, 0] for t in trees], 0.0))
    check = rows[:: max(1, len(rows) // 500)]
    assert np.allclose(fitted.probability(check), model.predict_proba(check)[:, 1], atol=1e-9), "trees read back differ"
    return fitted


def ranking(probability: np.ndarray, targets: np.ndarray, groups: np.ndarray, valued: list[bool]) -> int:
    """How many valued keys have their annotated value as the best-scored candidate."""
    right = 0
    for group, has_value in enumerate(valued):
        if has_value:
            chosen = groups == group
            right += bool(targets[chosen][np.argmax(probability[chosen])])
    return right


def _literal(name: str, values) -> str:
    return f"{name} = {json.dumps(values)}\n"


def write(trees: Trees, path: Path, forms: int, keys: int, rows: np.ndarray) -> None:
    path.write_text(
        '"""Gradient-boosted trees of the key→value linker (runtime/reader/linking.py), written by\n'
        f"bench/fit_linker.py --write: {TREES} trees of depth {DEPTH} fitted on {keys} key cells of {forms} FUNSD\n"
        'development forms. Numbers only; regenerate, never edit by hand."""\n\n'
        + _literal("FEATURES", list(FEATURES)) + _literal("PRIOR", round(trees.prior, 12)) + _literal("RATE", trees.rate)
        + _literal("FEATURE", trees.feature.tolist())
        + _literal("THRESHOLD", [[round(float(v), 6) for v in row] for row in trees.threshold])
        + _literal("LEFT", trees.left.tolist()) + _literal("RIGHT", trees.right.tolist())
        + _literal("VALUE", [[round(float(v), 9) for v in row] for row in trees.value]),
        encoding="utf-8")
    namespace: dict = {}
    exec(path.read_text(encoding="utf-8"), namespace)  # the rounded numbers as the reader will load them
    written = Trees(namespace["PRIOR"], namespace["RATE"], namespace["FEATURE"], namespace["THRESHOLD"],
                    namespace["LEFT"], namespace["RIGHT"], namespace["VALUE"])
    assert np.allclose(written.probability(rows), trees.probability(rows), atol=1e-6), "the written trees differ"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--write", action="store_true", help=f"fit on every development form and write {MODEL.relative_to(REPO)}")
    parser.add_argument("--folds", type=Path, help="pickle the three fold models (with the forms each was not fitted on)")
    parser.add_argument("--cache", type=Path, default=CACHE.parent,
                        help=f"the `reader_dev.py cache` folder whose forms are read (default {CACHE.parent.relative_to(REPO)})")
    args = parser.parse_args()
    rows, targets, groups, forms, valued, by_rules = examples(args.data, args.cache / CACHE.name)
    print(f"{len(set(forms))} development forms, {len(valued)} key-like cells ({sum(valued)} with a value "
          f"in a cell of its own), {len(rows)} candidate pairs")
    names = sorted(set(forms))
    np.random.default_rng(0).shuffle(names)
    fold_of = {name: position % 3 for position, name in enumerate(names)}
    row_fold = np.array([fold_of[forms[group]] for group in groups])
    probability = np.zeros(len(rows))
    folds = []
    for fold in range(3):
        trees = fit(rows[row_fold != fold], targets[row_fold != fold])
        probability[row_fold == fold] = trees.probability(rows[row_fold == fold])
        folds.append((trees, sorted(name for name in names if fold_of[name] == fold)))
    right = ranking(probability, targets, groups, valued)
    print(f"cross-validated: the best-scored candidate is the annotated value for {right}/{sum(valued)} "
          f"= {right / sum(valued):.1%} of keys with a value; the rules hold that pair for {by_rules} = {by_rules / sum(valued):.1%}")
    if args.folds:
        args.folds.write_bytes(pickle.dumps(folds))
    if args.write:
        write(fit(rows, targets), MODEL, len(set(forms)), len(valued), rows)
        print(f"wrote {MODEL.relative_to(REPO)}")


if __name__ == "__main__":
    main()
