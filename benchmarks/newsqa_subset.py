"""A smaller development set cut from one made by newsqa_dev.py, for fitting and quick runs.

    python benchmarks/newsqa_subset.py DEV OUT [--questions 90] [--distractors 120] [--seed 3]

Takes --questions answerable questions at random (seeded), every article they cite, --distractors
other articles at random, and all unanswerable questions; writes OUT/dev.yaml and
OUT/corpus/articles.jsonl in the same format. Like DEV, OUT holds unlicensed texts: keep it
outside the repository.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import yaml


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dev", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--questions", type=int, default=90)
    parser.add_argument("--distractors", type=int, default=120)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    articles = [json.loads(line) for line in (args.dev / "corpus" / "articles.jsonl").open(encoding="utf-8")]
    questions = yaml.safe_load((args.dev / "dev.yaml").read_text(encoding="utf-8"))
    answerable = [q for q in questions if q["answerable"]]
    unanswerable = [q for q in questions if not q["answerable"]]
    random.Random(args.seed).shuffle(answerable)
    picked = answerable[: args.questions]
    cited = {url for q in picked for url in q["sources"]}
    others = [a for a in articles if a["url"] not in cited]
    random.Random(args.seed + 1).shuffle(others)
    kept = [a for a in articles if a["url"] in cited] + others[: args.distractors]
    (args.out / "corpus").mkdir(parents=True, exist_ok=True)
    with (args.out / "corpus" / "articles.jsonl").open("w", encoding="utf-8") as f:
        for article in kept:
            f.write(json.dumps(article) + "\n")
    with (args.out / "dev.yaml").open("w", encoding="utf-8") as f:
        f.write(
            "# corpus: corpus/articles.jsonl\n# a subset of a RealTime QA development set: local only, never commit\n"
        )
        yaml.safe_dump(picked + unanswerable, f, sort_keys=False, allow_unicode=True)
    print(
        f"{len(kept)} articles; {len(picked)} answerable and {len(unanswerable)} unanswerable questions -> {args.out}"
    )


if __name__ == "__main__":
    main()
