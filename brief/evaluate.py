"""Offline evaluation: fixed question sets, deterministic metrics, comparable runs."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import statistics
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from brief.ingest.metadata import parse_any_date
from brief.language import LEADING_ARTICLE, number_values, strip_amounts
from brief.text import content_words, plain_marks
from brief.types import Answer, DocumentRecord
from brief.web.urls import is_web_url, normalize_url

# Metrics where a higher value is better; after them, the rate of bad sentences and latency,
# where lower is better.
HIGHER_IS_BETTER = (
    "hit_at_k",
    "recall_at_k",
    "mrr",
    "fact_recall",
    "decline_accuracy",
    "citation_precision",
    "cited_sentence_share",
)
LATENCY_METRICS = tuple(f"{stage}_{pct}_ms" for stage in ("retrieve", "generate", "total") for pct in ("p50", "p95"))
# Rates of the two ways an answerer can fail a reader, named as such (lower is better): an
# answerable question declined, an unanswerable one answered.
ERROR_RATES = ("answerable_declined", "unanswerable_answered", "unsupported_rate")
METRIC_ORDER = [*HIGHER_IS_BETTER, *ERROR_RATES, *LATENCY_METRICS]


class QuestionFileError(ValueError):
    """A question file is malformed; the message names the file and the item."""


@dataclass
class EvalItem:
    id: str
    question: str
    answerable: bool = True
    facts: list[list[str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    set_name: str = ""
    as_of: str = ""  # ISO date the question is asked on ("this week" means the week before it)


@dataclass
class ItemResult:
    id: str
    set_name: str
    question: str
    answerable: bool
    declined: bool
    answer: str
    backend: str
    hit: float | None
    recall: float | None
    reciprocal_rank: float | None
    gold_rank: int | None  # rank of the first retrieved passage from a gold document (None: not retrieved)
    fact_recall: float | None
    facts_missing: list[str]
    decline_correct: bool
    citations_proposed: int
    citations_confirmed: int
    sentences: int
    cited_sentences: int
    unsupported_sentences: int
    timings_ms: dict[str, float]
    as_of: str = ""
    warnings: list[str] = field(default_factory=list)


def load_questions(path: Path) -> list[EvalItem]:
    """Items of a YAML or JSONL question file, validated."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise QuestionFileError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            raw = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            raw = yaml.safe_load(text) or []
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise QuestionFileError(f"{path}: not valid YAML/JSONL ({exc})") from exc
    if not isinstance(raw, list):
        raise QuestionFileError(f"{path}: expected a list of questions")
    items, seen = [], set()
    for number, entry in enumerate(raw, start=1):
        where = f"{path}: item {number}"
        if not isinstance(entry, dict):
            raise QuestionFileError(f"{where}: must be a mapping")
        if not str(entry.get("question", "")).strip():
            raise QuestionFileError(f"{where}: missing field 'question'")
        item_id = str(entry.get("id") or f"{path.stem}-{number}")
        if item_id in seen:
            raise QuestionFileError(f"{where}: duplicate id '{item_id}'")
        seen.add(item_id)
        as_of = ""
        if entry.get("as_of"):
            as_of = parse_any_date(str(entry["as_of"]))
            if not as_of:
                raise QuestionFileError(f"{where} ({item_id}): 'as_of' is not a date: {entry['as_of']!r}")
        facts = entry.get("facts") or []
        if not isinstance(facts, list) or not all(isinstance(f, (list, str)) for f in facts):
            raise QuestionFileError(f"{where} ({item_id}): 'facts' must be a list of lists of phrasings")
        items.append(
            EvalItem(
                id=item_id,
                question=str(entry["question"]).strip(),
                answerable=bool(entry.get("answerable", True)),
                facts=[[str(p) for p in (f if isinstance(f, list) else [f])] for f in facts],
                sources=[str(s) for s in entry.get("sources") or []],
                set_name=path.stem,
                as_of=as_of,
            )
        )
    return items


def corpus_of(path: Path) -> str:
    """The corpus a question file declares in a '# corpus: PATH' comment (PATH relative to the
    file's own folder), as an absolute path; '' if it declares none."""
    for line in path.read_text(encoding="utf-8").splitlines()[:10]:
        if line.strip().lower().startswith("# corpus:"):
            return str((path.parent / line.split(":", 1)[1].strip()).resolve())
    return ""


def gold_doc_ids(sources: list[str], documents: dict[str, DocumentRecord]) -> list[set[str]]:
    """For each gold source, the doc ids that match it: a URL (scheme, "www." and a trailing
    slash ignored), a doc id or id prefix, or a title (exact, else a substring of one)."""
    resolved = []
    for source in sources:
        wanted = source.strip()
        if is_web_url(wanted):
            key = _url_key(wanted)
            resolved.append({d for d, rec in documents.items() if rec.url and _url_key(rec.url) == key})
            continue
        by_id = {d for d in documents if d.startswith(wanted)}
        lower = wanted.lower()
        by_title = {d for d, rec in documents.items() if rec.title.strip().lower() == lower}
        by_title = by_title or {d for d, rec in documents.items() if lower and lower in rec.title.lower()}
        resolved.append(by_id | by_title)
    return resolved


def _url_key(url: str) -> str:
    """One spelling of an address (brief's own normalisation), without scheme, "www." or a
    trailing slash: the forms a question file and a feed may differ in."""
    normal = normalize_url(url) or url.strip()
    rest = normal.split("://", 1)[-1]
    return (rest[4:] if rest.startswith("www.") else rest).rstrip("/")


def unmatched_sources(item: EvalItem, documents: dict[str, DocumentRecord]) -> list[str]:
    """A warning line for each gold source of the item that names no document of the library."""
    return [
        f"{item.set_name}/{item.id}: source {source!r} matches no document in the library"
        for source, found in zip(item.sources, gold_doc_ids(item.sources, documents), strict=True)
        if not found
    ]


def score_item(item: EvalItem, answer: Answer, documents: dict[str, DocumentRecord]) -> ItemResult:
    """Per-question metrics from an answer."""
    hit = recall = rr = rank = None
    warnings = unmatched_sources(item, documents)
    gold = [g for g in gold_doc_ids(item.sources, documents) if g]
    if gold:  # a source that names nothing is a warning, never a silent miss
        ranked_docs = [r["doc_id"] for r in answer.retrieved]
        found = [bool(g & set(ranked_docs)) for g in gold]
        hit = float(any(found))
        recall = sum(found) / len(found)
        all_gold = set().union(*gold)
        rank = next((i for i, d in enumerate(ranked_docs, start=1) if d in all_gold), None)
        rr = 1.0 / rank if rank else 0.0
    fact_recall = None
    missing: list[str] = []
    if item.answerable and item.facts:
        present = [any(fact_found(p, answer.answer) for p in fact) for fact in item.facts]
        fact_recall = sum(present) / len(present)
        missing = [fact[0] for fact, ok in zip(item.facts, present, strict=True) if not ok]
    check = answer.citation_check or {}
    return ItemResult(
        id=item.id,
        set_name=item.set_name,
        question=item.question,
        answerable=item.answerable,
        declined=answer.declined,
        answer=answer.answer,
        backend=answer.backend,
        hit=hit,
        recall=recall,
        reciprocal_rank=rr,
        gold_rank=rank,
        fact_recall=fact_recall,
        facts_missing=missing,
        decline_correct=answer.declined != item.answerable,
        citations_proposed=int(check.get("proposed", 0)),
        citations_confirmed=int(check.get("confirmed", 0)),
        sentences=0 if answer.declined else len(answer.sentences),
        cited_sentences=0 if answer.declined else sum(1 for s in answer.sentences if s.citations),
        unsupported_sentences=0 if answer.declined else sum(1 for s in answer.sentences if not s.supported),
        timings_ms=dict(answer.timings_ms),
        as_of=item.as_of,
        warnings=warnings,
    )


def fact_found(phrasing: str, text: str) -> bool:
    """The phrasing is in the text, or says the same amount in another form ("$12.6 million" in
    "$12,600,000"), with its other words present too ("7 percent" needs "percent"). A leading
    article is not part of a name ("The Windsor Framework" is said by "the so-called Windsor
    framework"), unless one word would be left ("The Road" is not found by any "road"). Curly
    and plain quotes and dashes are the same marks ("McDonald’s" is found in "McDonald's")."""
    phrasing, text = plain_marks(phrasing), plain_marks(text)
    lowered = text.lower()
    if phrasing.lower() in lowered:
        return True
    bare = LEADING_ARTICLE.sub("", phrasing.strip())
    if bare != phrasing.strip() and len(bare.split()) >= 2 and bare.lower() in lowered:
        return True
    wanted = number_values(phrasing)
    if not wanted:
        return False
    have = set(number_values(text))
    words = set(content_words(strip_amounts(phrasing)))
    return all(v in have for v in wanted) and words <= set(content_words(text))


def aggregate(results: list[ItemResult]) -> dict[str, float]:
    """Mean metrics over items where each applies; latency percentiles."""

    def mean(values: Iterable[float | None]) -> float:
        present = [v for v in values if v is not None]
        return round(statistics.fmean(present), 4) if present else float("nan")

    proposed = sum(r.citations_proposed for r in results)
    sentences = sum(r.sentences for r in results)
    metrics = {
        "questions": float(len(results)),
        "hit_at_k": mean(r.hit for r in results),
        "recall_at_k": mean(r.recall for r in results),
        "mrr": mean(r.reciprocal_rank for r in results),
        "fact_recall": mean(r.fact_recall for r in results),
        "decline_accuracy": mean(float(r.decline_correct) for r in results),
        "answerable_declined": mean(float(r.declined) if r.answerable else None for r in results),
        "unanswerable_answered": mean(float(not r.declined) if not r.answerable else None for r in results),
        "citation_precision": round(sum(r.citations_confirmed for r in results) / proposed, 4)
        if proposed
        else float("nan"),
        "cited_sentence_share": round(sum(r.cited_sentences for r in results) / sentences, 4)
        if sentences
        else float("nan"),
        "unsupported_rate": round(sum(r.unsupported_sentences for r in results) / sentences, 4) if sentences else 0.0,
    }
    for stage in ("retrieve", "generate", "total"):
        values = sorted(r.timings_ms.get(stage, 0.0) for r in results)
        metrics[f"{stage}_p50_ms"] = round(_percentile(values, 50), 1)
        metrics[f"{stage}_p95_ms"] = round(_percentile(values, 95), 1)
    return metrics


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    position = (len(values) - 1) * pct / 100
    low, high = int(position), min(int(position) + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


@dataclass
class EvalRun:
    backend: str
    k: int
    metrics: dict[str, float]
    by_set: dict[str, dict[str, float]]
    items: list[ItemResult]

    @property
    def warnings(self) -> list[str]:
        """Problems with the question files themselves, e.g. a source that names no document."""
        return [w for item in self.items for w in item.warnings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "k": self.k,
            "metrics": self.metrics,
            "by_set": self.by_set,
            "warnings": self.warnings,
            "items": [asdict(i) for i in self.items],
        }


def run_items(
    items: list[EvalItem],
    ask: Callable[[EvalItem], Answer],
    documents_for: Callable[[EvalItem], dict[str, DocumentRecord]],
    backend: str,
    k: int,
    progress: Callable[[int, int, str], None] | None = None,
) -> EvalRun:
    """Ask every question and score it; aggregate overall and per question set."""
    results = []
    for number, item in enumerate(items, start=1):
        if progress:
            progress(number - 1, len(items), item.id)
        results.append(score_item(item, ask(item), documents_for(item)))
    if progress:
        progress(len(items), len(items), "")
    by_set = {
        name: aggregate([r for r in results if r.set_name == name])
        for name in dict.fromkeys(r.set_name for r in results)
    }
    return EvalRun(backend, k, aggregate(results), by_set, results)


def check_thresholds(metrics: dict[str, float], thresholds: dict[str, float]) -> list[str]:
    """Failures of --fail-under METRIC=VALUE (for latency/rates: values above the bound fail)."""
    failures = []
    for name, bound in thresholds.items():
        if name not in metrics:
            failures.append(f"{name}: unknown metric (known: {', '.join(METRIC_ORDER)})")
            continue
        value = metrics[name]
        ok = value >= bound if name in HIGHER_IS_BETTER else value <= bound
        if not ok or value != value:  # NaN never passes
            relation = "below" if name in HIGHER_IS_BETTER else "above"
            failures.append(f"{name} = {value} is {relation} the threshold {bound}")
    return failures


def compare_runs(
    current: dict[str, float], previous: dict[str, float], tolerance: float = 0.01
) -> list[dict[str, Any]]:
    """Per-metric change against a previous run; regressions flagged."""
    rows = []
    for name in METRIC_ORDER:
        if name not in current or name not in previous:
            continue
        now, before = current[name], previous[name]
        delta = now - before
        if name.endswith("_ms"):
            worse = delta > max(0.25 * before, 50.0)
        elif name in HIGHER_IS_BETTER:
            worse = delta < -tolerance
        else:
            worse = delta > tolerance
        rows.append(
            {
                "metric": name,
                "previous": before,
                "current": now,
                "delta": round(delta, 4),
                "regression": worse,
            }
        )
    return rows


def evaluate_files(
    files: list[Path],
    settings: Any,
    backend: str = "extractive",
    k: int | None = None,
    use_current_library: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
) -> EvalRun:
    """Run question files. A file that names its corpus ('# corpus: PATH', relative to the
    question file) is asked against a library of exactly that corpus, kept under
    BRIEF_HOME/eval/, so results never depend on what else the user has ingested."""
    from brief.library import Library

    libraries: dict[str, Library] = {}
    items: list[EvalItem] = []
    library_of: dict[str, Library] = {}
    for path in files:
        corpus = "" if use_current_library else corpus_of(path)
        if corpus not in libraries:
            libraries[corpus] = _library_for(corpus, settings, Library)
        for item in load_questions(path):
            items.append(item)
            library_of[f"{item.set_name}/{item.id}"] = libraries[corpus]
    documents = {id(lib): lib.store.documents() for lib in libraries.values()}
    k = k or settings.top_k

    def ask(item: EvalItem) -> Answer:
        return ask_item(library_of[f"{item.set_name}/{item.id}"], item, k, backend)

    def documents_for(item: EvalItem) -> dict[str, DocumentRecord]:
        return documents[id(library_of[f"{item.set_name}/{item.id}"])]

    return run_items(items, ask, documents_for, backend, k, progress)


def ask_item(library: Any, item: EvalItem, k: int, backend: str, use_as_of: bool = True) -> Answer:
    """Ask one question of a library as of the question's date (if it carries one)."""
    from brief.retrieve import SearchFilters

    filters = SearchFilters(as_of=item.as_of if use_as_of else "")
    return library.ask(item.question, filters=filters, k=k, backend=backend)


def _library_for(corpus: str, settings: Any, library_cls: Any) -> Any:
    if not corpus:
        return library_cls(settings)
    folder = Path(corpus)
    if not folder.exists():
        raise QuestionFileError(f"the corpus '{corpus}' named in a question file does not exist")
    # One isolated store per corpus and embedding model: switching models must not hit an old one.
    key = hashlib.sha1(f"{folder.resolve()}|{settings.embedder_name()}".encode()).hexdigest()[:10]
    isolated = dataclasses.replace(settings, home=settings.home / "eval" / key, chroma_url=None, collection="eval")
    library = library_cls(isolated)
    report = library.ingest([folder])
    if not report.ok:
        raise QuestionFileError(f"the eval corpus '{corpus}' did not ingest cleanly: {report.errors[0]}")
    return library
