"""Fit the extractive answerer's sentence model and its decline cut-off on a development set.

    python benchmarks/fit_answer.py DEV [--home DIR] [--k 6] [--write] [--curve OUT.json]

DEV and HOME are as for benchmarks/newsqa.py (the same store is reused). For every question the
script retrieves the k passages brief would answer from (as of the question's date) and
computes the FEATURES of every candidate sentence (brief/generate/sentence_pool.py), the
articles' headlines included: the answerer's own pool (`answer_pool`). A
sentence is a positive example when it holds a right answer (the same matching as
`brief eval`'s fact recall); sentences of unanswerable questions are all negatives. A
logistic regression (L2, plain gradient descent, standardised features) is fitted on them.

The decline cut-off is then read off a curve: for each threshold, the share of answerable
questions whose best sentence falls below it (answerable declined) against the share of
unanswerable questions whose best sentence reaches it (unanswerable answered). The chosen
point is, of the thresholds that keep unanswerable answered at or under --max-answered, the one
that declines the fewest answerable questions; of equals, the highest (it answers the fewest
unanswerable ones at no cost).

--write stores the weights, the cut-off, the curve and where they came from in
brief/data/fitted_answer.json. The development set's texts never leave DEV.
"""

from __future__ import annotations

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "brief" / "data" / "fitted_answer.json"
# The hand-set blend, 0.6 similarity + 0.4 overlap + bonuses with a 0.5 cut-off, as a logit: x10.
PRIOR_SCALE = 10.0
MIN_POSITIVES = 30  # right-answer sentences a feature must occur in to be fitted


def fit_logistic(
    x: np.ndarray,
    y: np.ndarray,
    prior: np.ndarray,
    l2: float = 0.05,
    steps: int = 4000,
    fixed: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Weights and bias of a logistic regression on raw features. The penalty pulls the weights
    towards `prior` (the hand-set blend), not towards zero; the `fixed` ones stay at it."""
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std == 0] = 1.0
    z = (x - mean) / std
    w0 = prior * std  # the prior in standardised units
    w = w0.copy()
    # A feature the data shows in too few right answers to say anything (causal cues: news
    # quizzes hardly ask "why") keeps its prior weight outright.
    free = ((x != 0) & (y[:, None] > 0)).sum(axis=0) >= MIN_POSITIVES
    if fixed is not None:
        free &= ~fixed
    b = 0.0
    positive = max(y.mean(), 1e-6)
    weight = np.where(y > 0, 0.5 / positive, 0.5 / (1 - positive))  # balance the two classes
    lr = 0.5
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        g = weight * (p - y)
        w -= lr * free * (z.T @ g / len(y) + l2 * (w - w0))
        b -= lr * g.mean()
    return w / std, float(b - (w / std) @ mean)


def top_hits(scores: np.ndarray, y: np.ndarray, q: np.ndarray, ok: np.ndarray, questions: list[int]) -> np.ndarray:
    """Share of the questions whose best 1, 2, 3 and 4 eligible sentences hold a right answer."""
    scores = np.where(ok, scores, -np.inf)
    hits = np.zeros(4)
    for n in questions:
        mine = q == n
        order = np.argsort(-scores[mine], kind="stable")
        right = np.nonzero(y[mine][order] > 0)[0]
        if len(right):
            hits += right[0] < np.arange(1, 5)
    return hits / max(len(questions), 1)


def cross_validated(
    x: np.ndarray,
    y: np.ndarray,
    q: np.ndarray,
    ok: np.ndarray,
    prior: np.ndarray,
    l2: float,
    folds: int,
    fixed: np.ndarray | None = None,
) -> np.ndarray:
    """top_hits of models fitted without the questions they are scored on (questions dealt to
    `folds` folds by number), over the questions whose passages hold a right answer."""
    reachable = sorted({int(n) for n in q[y > 0]})
    pooled = np.zeros(4)
    for fold in range(folds):
        held = [n for n in reachable if n % folds == fold]
        train = q % folds != fold
        weights, bias = fit_logistic(x[train], y[train], prior, l2, fixed=fixed)
        pooled += top_hits(x @ weights + bias, y, q, ok, held) * len(held)
    return pooled / max(len(reachable), 1)


def curve(best_answerable: np.ndarray, best_unanswerable: np.ndarray) -> list[dict[str, float]]:
    points = []
    # Steps of 0.005: at 0.025 a right answer that a rule moved just under the cut-off (0.617
    # against 0.625) stayed declined while the curve showed no point between.
    for t in np.round(np.arange(0.05, 0.9525, 0.005), 3):
        points.append(
            {
                "threshold": float(t),
                "answerable_declined": round(float((best_answerable < t).mean()), 3),
                "unanswerable_answered": round(float((best_unanswerable >= t).mean()), 3),
            }
        )
    return points


def choose(points: list[dict[str, float]], max_answered: float) -> dict[str, float]:
    """The point with the fewest answerable declined among those within max_answered; the highest of
    equals, since a higher cut-off that declines no more answerable questions only answers fewer
    unanswerable ones. With none within it, the highest threshold."""
    allowed = [p for p in points if p["unanswerable_answered"] <= max_answered]
    if not allowed:
        return points[-1]
    fewest = min(p["answerable_declined"] for p in allowed)
    return max((p for p in allowed if p["answerable_declined"] == fewest), key=lambda p: p["threshold"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dev", type=Path)
    parser.add_argument("--home", type=Path)
    parser.add_argument("--k", type=int, default=6)
    parser.add_argument("--max-answered", type=float, default=0.15, help="unanswerable answered allowed")
    parser.add_argument("--write", action="store_true", help=f"write {OUT.relative_to(OUT.parents[2])}")
    parser.add_argument("--curve", type=Path, help="write the curve and per-question scores here")
    parser.add_argument("--l2", type=float, default=0.05, help="pull towards the hand-set blend")
    parser.add_argument("--features", type=Path, help="feature cache (default HOME/answer-features-kK-fN-vV.npz)")
    parser.add_argument("--refresh", action="store_true", help="recompute the features even if cached")
    parser.add_argument(
        "--no-veto",
        action="store_true",
        help="curve without the answerer's vetoes (a missing figure or quoted title, old news)",
    )
    parser.add_argument(
        "--keep-weights",
        action="store_true",
        help="keep the shipped weights and read only the cut-off off the curve (e.g. for other chunk settings)",
    )
    parser.add_argument("--folds", type=int, default=4, help="cross-validate the fit this many ways (0: skip)")
    parser.add_argument(
        "--fit-only",
        default="",
        help="comma-separated FEATURES to fit; the others keep the shipped weights (e.g. for a new feature)",
    )
    parser.add_argument("--note", default="", help="added to the provenance (how DEV was cut, what is held out)")
    args = parser.parse_args()
    home = (args.home or args.dev / "home").resolve()
    os.environ["BRIEF_HOME"] = str(home)

    from brief.evaluate import _library_for, corpus_of, fact_found, load_questions
    from brief.generate.extractive import answer_pool
    from brief.generate.sentence_pool import (
        BRIEF_WEIGHTS,
        FEATURES,
        answer_eligible,
        answer_model,
        question_figures,
        question_wants,
        quoted_titles,
    )
    from brief.library import Library
    from brief.retrieve import SearchFilters
    from brief.settings import Settings
    from brief.staleness import asked_on, stale_news

    questions_file = args.dev / "dev.yaml"
    items = load_questions(questions_file)
    # The feature count and a version are in the name: a cache of an older FEATURES tuple, or of
    # features whose meaning has changed since (bump the version then), is not read.
    cache = args.features or (home / f"answer-features-k{args.k}-f{len(FEATURES)}-v5.npz")
    if cache.exists() and not args.refresh:
        saved = np.load(cache)
        x, y, q, ok, veto = saved["x"], saved["y"], saved["q"], saved["ok"], saved["veto"]
    else:
        library = _library_for(corpus_of(questions_file), Settings(), Library)
        rows, labels, owner, eligible, vetoed = [], [], [], [], []
        for number, item in enumerate(items):
            passages = library.searcher.search(item.question, args.k, SearchFilters(as_of=item.as_of)).passages
            asked = asked_on(item.as_of)
            pool = answer_pool(passages, library.judge_embedder, asked)
            if not len(pool):
                continue
            rows.append(pool.features(item.question))
            # As the answerer does: a question in the text answers nothing, a question asking for
            # a figure or a date is answered only by a sentence holding one; a figure of the
            # question found in no passage vetoes one.
            eligible.append(answer_eligible(pool, question_wants(item.question)))
            # So do a title the question quotes that no passage holds, and "this week" asked of
            # passages that are all old news: the answerer declines those before any scoring.
            vetoed.append(
                pool.lacks(question_figures(item.question))
                or pool.lacks_phrases(quoted_titles(item.question))
                or stale_news(item.question, passages, asked) is not None
            )
            phrasings = [p for fact in item.facts for p in fact] if item.answerable else []
            labels.append(np.array([any(fact_found(p, c.text) for p in phrasings) for c in pool.candidates], float))
            owner.append(np.full(len(pool), number))
            if number % 50 == 0:
                print(f"  {number}/{len(items)}", file=sys.stderr, flush=True)
        x, y, q = np.concatenate(rows), np.concatenate(labels), np.concatenate(owner)
        ok, veto = np.concatenate(eligible), np.array(vetoed)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, x=x, y=y, q=q, ok=ok, veto=veto)
    prior = PRIOR_SCALE * BRIEF_WEIGHTS.astype(float)
    fixed = None
    if args.fit_only:
        named = set(args.fit_only.split(","))
        if named - set(FEATURES):
            parser.error(f"--fit-only: unknown features {sorted(named - set(FEATURES))}; FEATURES are {FEATURES}")
        fixed = np.array([name not in named for name in FEATURES])
        prior = np.where(fixed, answer_model().weights, prior)  # the shipped weights stay; the rest start as before
    cv_note = ""
    shipped_model = answer_model()
    if args.folds > 1 and not args.keep_weights:
        reachable = sorted({int(n) for n in q[y > 0]})
        before = top_hits(x @ shipped_model.weights + shipped_model.bias, y, q, ok, reachable)
        after = cross_validated(x, y, q, ok, prior, args.l2, args.folds, fixed)
        print(f"right answer among the best 1-4 sentences, {len(reachable)} questions whose passages hold one:")
        print("  shipped model:           " + "  ".join(f"{h:.3f}" for h in before))
        print(f"  refit, {args.folds}-fold held out:  " + "  ".join(f"{h:.3f}" for h in after))
        cv_note = (
            f"; {args.folds}-fold cross-validated share of {len(reachable)} questions with a right answer among the "
            f"best 1/2/3/4 sentences: {'/'.join(f'{h:.3f}' for h in after)}"
        )
    if args.keep_weights:  # the shipped model, as the answerer reads it
        shipped = answer_model()
        weights, bias = shipped.weights.astype(float), shipped.bias
    else:
        weights, bias = fit_logistic(x, y, prior, args.l2, fixed=fixed)
    probability = 1 / (1 + np.exp(-(x @ weights + bias)))
    answered = np.where(ok, probability, 0.0)
    asked = sorted(set(q.tolist()))  # questions with at least one candidate sentence
    veto_of = dict(zip(asked, veto.tolist(), strict=True))

    def best_of(n: int) -> float:
        if n not in veto_of or (veto_of[n] and not args.no_veto):
            return 0.0  # no sentence at all, or vetoed: declined at any threshold
        return float(answered[q == n].max())

    best = np.array([best_of(n) for n in range(len(items))])
    answerable = np.array([i.answerable for i in items])
    # Answerable questions whose passages hold no right answer cannot be answered from them:
    # they measure retrieval, not the cut-off, and are left out of the curve.
    reachable = np.array([bool(y[q == n].any()) for n in range(len(items))])
    points = curve(best[answerable & reachable], best[~answerable])
    chosen = choose(points, args.max_answered)
    print(f"{len(y)} sentences ({int(y.sum())} hold an answer) from {len(items)} questions")
    print(
        "weights: " + ", ".join(f"{n} {w:+.2f}" for n, w in zip(FEATURES, weights, strict=True)) + f"; bias {bias:+.2f}"
    )
    print("threshold  answerable declined  unanswerable answered")
    for p in points:
        mark = "  <- chosen" if p is chosen else ""
        print(f"{p['threshold']:9.3f}  {p['answerable_declined']:19.3f}  {p['unanswerable_answered']:21.3f}{mark}")
    source = (
        f"{args.dev.name}/dev.yaml ({int(answerable.sum())} answerable, {int((~answerable).sum())} unanswerable "
        f"RealTime QA questions, {len(y)} candidate sentences of the top {args.k} passages)"
    )
    rule = (
        f"of the thresholds with unanswerable answered <= {args.max_answered}, the one with the fewest answerable "
        "declined (the highest of equals)"
    )
    today = datetime.date.today().isoformat()
    note = f"; {args.note}" if args.note else ""
    if args.keep_weights:  # the weights keep where they came from; only the cut-off is new
        steps = [
            *shipped.provenance,
            f"Cut-off refitted by benchmarks/fit_answer.py --keep-weights on {today} from {source}: {rule}{note}",
        ]
    elif fixed is not None:  # the fixed weights keep where they came from
        steps = [
            *shipped_model.provenance,
            f"benchmarks/fit_answer.py --fit-only {args.fit_only} on {today} fitted those weights and the bias, "
            f"the others kept, from {source}; cut-off: {rule}{cv_note}{note}",
        ]
    else:
        steps = [f"fitted by benchmarks/fit_answer.py on {today} from {source}; cut-off: {rule}{cv_note}{note}"]
    payload = {
        "provenance": steps,
        "weights": {n: round(float(w), 4) for n, w in zip(FEATURES, weights, strict=True)},
        "bias": round(bias, 4),
        "min_relevance": chosen["threshold"],
        "curve": points,
    }
    if args.curve:
        args.curve.write_text(json.dumps({**payload, "best": best.tolist()}, indent=1), encoding="utf-8")
    if args.write:
        OUT.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
