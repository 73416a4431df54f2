"""Main-text extraction from HTML: brief's first extractor against the current one, in one run.

    python benchmarks/html_extraction.py --data PATH [--limit N] [--json FILE]

PATH is a local copy of trafilatura's evaluation set: a folder holding `evaldata.json` and
the pages it names under `eval/` and `cache/` (trafilatura's `tests/` folder). The pages are
third-party web pages, so they are not part of brief's repository; see benchmarks/README.md
for how to get them.

Each page has hand-picked passages that belong to the main text ("with") and passages that
do not ("without"). An extractor's output is scored on words: a passage counts as found when
its text (whitespace-normalised) occurs in the output, and weighs as many words as it has.

    precision = words of "with" passages found / words of all passages found
    recall    = words of "with" passages found / words of all "with" passages
    F1        = harmonic mean of the two

The passage-level score trafilatura itself publishes (each passage weighs 1) is printed too.
Both sides go through the whole of brief's HTML path (extraction, then brief's metadata and
boilerplate step, `assemble_article`), so the text scored is the text brief would store.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from legacy_html import parse_html as legacy_parse_html  # noqa: E402

from brief.ingest.clean import assemble_article  # noqa: E402
from brief.ingest.html import parse_html  # noqa: E402

TARGET_F1 = 0.90
# The first extractor parsed every page with BeautifulSoup's HTML parser, XML-looking ones too.
warnings.filterwarnings("ignore", message="It looks like you're using an HTML parser")


@dataclass
class Score:
    """Word and passage counts of one extractor over the set."""

    words_tp: int = 0
    words_fp: int = 0
    words_fn: int = 0
    passages_tp: int = 0
    passages_fp: int = 0
    passages_fn: int = 0
    empty: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @staticmethod
    def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1

    def words(self) -> tuple[float, float, float]:
        return self._prf(self.words_tp, self.words_fp, self.words_fn)

    def passages(self) -> tuple[float, float, float]:
        return self._prf(self.passages_tp, self.passages_fp, self.passages_fn)


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def count_words(text: str) -> int:
    return len(text.split())


def score_page(score: Score, item: dict, output: str) -> None:
    text = normalise(output)
    if not text:
        score.empty += 1
    for passage in item["with"]:
        found = normalise(passage) in text
        words = count_words(passage)
        score.words_tp += words if found else 0
        score.words_fn += 0 if found else words
        score.passages_tp += found
        score.passages_fn += not found
    for passage in item["without"]:
        if normalise(passage) in text:
            score.words_fp += count_words(passage)
            score.passages_fp += 1


def brief_before(page: str) -> str:
    hints, blocks = legacy_parse_html(page)
    return assemble_article(blocks, hints, "page.html").text


def brief_after(page: str) -> str:
    hints, blocks = parse_html(page)
    return assemble_article(blocks, hints, "page.html").text


def decode_page(data: bytes) -> str:
    """The page as text, decoded the same way for both extractors."""
    from trafilatura.utils import decode_file

    text = decode_file(data)
    return text if isinstance(text, str) else data.decode("utf-8", errors="replace")


def find_page(root: Path, name: str) -> Path | None:
    for folder in ("eval", "cache"):
        if (root / folder / name).is_file():
            return root / folder / name
    return None


def run(root: Path, limit: int | None) -> tuple[dict[str, Score], int]:
    evaldata = json.loads((root / "evaldata.json").read_text(encoding="utf-8"))
    extractors: dict[str, Callable[[str], str]] = {"before": brief_before, "after": brief_after}
    scores = {name: Score() for name in extractors}
    pages = 0
    for url in sorted(evaldata)[:limit]:
        item = evaldata[url]
        path = find_page(root, item["file"])
        if path is None:
            raise SystemExit(f"error: {item['file']} (named in evaldata.json) is not under {root}/eval or /cache")
        page = decode_page(path.read_bytes())
        pages += 1
        for name, extract in extractors.items():
            started = time.perf_counter()
            try:
                output = extract(page)
            except Exception as exc:  # noqa: BLE001 - a crash scores as an empty page, and is listed
                scores[name].errors.append(f"{item['file']}: {type(exc).__name__}: {exc}")
                output = ""
            scores[name].seconds += time.perf_counter() - started
            score_page(scores[name], item, output)
    return scores, pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with evaldata.json, eval/ and cache/")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N pages")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers as JSON")
    args = parser.parse_args()
    if not (args.data / "evaldata.json").is_file():
        raise SystemExit(f"error: {args.data}/evaldata.json not found (see benchmarks/README.md)")
    scores, pages = run(args.data, args.limit)
    print(f"HTML main-text extraction on {pages} pages of trafilatura's evaluation set")
    print(f"{'extractor':<10} {'precision':>9} {'recall':>7} {'F1':>6}   {'passage F1':>10} {'empty':>6} {'s/page':>7}")
    results = {}
    for name, score in scores.items():
        precision, recall, f1 = score.words()
        passage_f1 = score.passages()[2]
        per_page = score.seconds / max(pages, 1)
        print(
            f"{'brief ' + name:<10} {precision:9.3f} {recall:7.3f} {f1:6.3f}   {passage_f1:10.3f} "
            f"{score.empty:6d} {per_page:7.3f}"
        )
        results[name] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "passage_precision": round(score.passages()[0], 4),
            "passage_recall": round(score.passages()[1], 4),
            "passage_f1": round(passage_f1, 4),
            "empty_pages": score.empty,
            "seconds_per_page": round(per_page, 4),
            "errors": score.errors,
        }
        for error in score.errors[:5]:
            print(f"  {name}: {error}")
    after_f1 = results["after"]["f1"]
    verdict = "PASS" if after_f1 >= TARGET_F1 else "MISS"
    print(f"target: F1 after >= {TARGET_F1:.2f}: {verdict} ({after_f1:.3f})")
    if args.json:
        args.json.write_text(json.dumps({"pages": pages, "target_f1": TARGET_F1, **results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
