"""A smaller development set cut from one made by newsqa_dev.py, for fitting and quick runs.

    python benchmarks/newsqa_subset.py DEV OUT [--questions 90] [--distractors 120] [--seed 3]
        [--skip 0] [--exclude-corpus OTHER] [--unanswerable all|even|odd]

Takes --questions answerable questions at random (seeded), every article they cite, --distractors
other articles at random, and the unanswerable questions; writes OUT/dev.yaml and
OUT/corpus/articles.jsonl in the same format. Like DEV, OUT holds unlicensed texts: keep it
outside the repository.

A held-out subset for a fit made on the first one: the same --seed with --skip 90 takes the
next 90 answerable questions of the same shuffle (so none is shared), --exclude-corpus FIRST
keeps the first subset's articles out of the distractors, and --unanswerable even / odd splits
the unanswerable questions (by their position in DEV) between the fit and the check.
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
    parser.add_argument("--skip", type=int, default=0, help="answerable questions of the shuffle to pass over")
    parser.add_argument("--exclude-corpus", type=Path, help="a subset whose articles are no distractors here")
    parser.add_argument("--unanswerable", choices=("all", "even", "odd"), default="all")
    args = parser.parse_args()
    articles = [json.loads(line) for line in (args.dev / "corpus" / "articles.jsonl").open(encoding="utf-8")]
    questions = yaml.safe_load((args.dev / "dev.yaml").read_text(encoding="utf-8"))
    answerable = [q for q in questions if q["answerable"]]
    unanswerable = [q for q in questions if not q["answerable"]]
    if args.unanswerable != "all":
        unanswerable = unanswerable[0 if args.unanswerable == "even" else 1 :: 2]
    random.Random(args.seed).shuffle(answerable)
    picked = answerable[args.skip : args.skip + args.questions]
    cited = {url for q in picked for url in q["sources"]}
    excluded: set[str] = set()
    if args.exclude_corpus:
        with (args.exclude_corpus / "corpus" / "articles.jsonl").open(encoding="utf-8") as f:
            excluded = {json.loads(line)["url"] for line in f if line.strip()}
    others = [a for a in articles if a["url"] not in cited and a["url"] not in excluded]
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
    shared = len(cited & excluded)
    print(
        f"{len(kept)} articles ({shared} cited articles also in the excluded corpus); {len(picked)} answerable and "
        f"{len(unanswerable)} unanswerable questions -> {args.out}"
    )


if __name__ == "__main__":
    main()
