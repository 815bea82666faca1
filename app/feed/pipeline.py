"""The feed pipeline: sources in parallel (each within its budget), merge, filter, score,
select, reasons. Configuration lists the stages; see ``for_you`` and ``explore``.

Degrade, never fail: a source that raises or runs past its budget is logged and skipped (it
is ``fail_open``); the result lists how every source did. When the personalised sources bring
too few candidates, the fallback sources run and fill the page.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass, field
from typing import Any

from app.feed import reasons
from app.feed.diversify import DiversitySelector
from app.feed.filters import Filter
from app.feed.query import Candidate, FeedItem, FeedQuery, FeedReader, FeedResult, SourceReport
from app.feed.ranking import BlendScorer
from app.feed.sources import CandidateSource, merge

log = logging.getLogger(__name__)
_POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="feed-source")
PERSONAL = frozenset({"collaborative", "following", "topics", "similar"})


class SourceFailed(RuntimeError):
    """A source that is not fail-open failed: the feed cannot be served without it."""


@dataclass
class FeedPipeline:
    """Stages of one feed, in the order they run."""

    sources: list[CandidateSource]
    filters: list[Filter]
    scorer: BlendScorer
    selector: DiversitySelector
    fallback: list[CandidateSource] = field(default_factory=list)
    facts_of: Callable[[list[int], FeedQuery], dict[int, Any]] | None = None
    # Each source runs inside this (the service passes one that pushes an app context).
    context: Callable[[], ContextManager[Any]] = contextlib.nullcontext
    parallel: bool = True

    def run(self, query: FeedQuery, pages: int = 1) -> FeedResult:
        """``pages`` pages of ``query.limit`` items, each page diversified on its own (a plan
        of several pages is cut from one run of the sources)."""
        reports: list[SourceReport] = []
        found = self._run_sources(self.sources, query, reports)
        personal = sum(len(c) for name, c in found if name in PERSONAL)
        if self.fallback and personal < query.limit * 2:
            found += self._run_sources(self.fallback, query, reports)
        removed: dict[str, list[int]] = {}
        kept, again = self._filter(query, merge(c for _, c in found), removed)
        ranked = self._rank(query, kept)
        spare = self._rank(query, again) if again else []
        page: list[Candidate] = []
        for _ in range(max(1, pages)):
            one = self.selector.select(query, ranked, query.limit)
            if len(one) < query.limit and spare:   # seen a while ago beats a short page
                one = self.selector.select(query, spare, query.limit, one)
            if not one:
                break
            taken = {id(c) for c in one}
            ranked = [c for c in ranked if id(c) not in taken]
            spare = [c for c in spare if id(c) not in taken]
            page.extend(one)   # a page the author cap left short still goes on: the next
            #                   page may take more of the same authors
        model_id = next((getattr(s, "model_id", None) for s in self.sources
                         if getattr(s, "model_id", None)), None)
        offset = len(query.served)
        items = []
        for i, cand in enumerate(page):
            top = cand.top_source(self.scorer.source_weights)
            items.append(FeedItem(cand.note_id, round(cand.score, 6), top, cand.sources,
                                  reasons.reason_for(cand, top), offset + i, cand.author_id))
        return FeedResult(items, reports, removed, model_id)

    # -- stages -----------------------------------------------------------------------------

    def _rank(self, query: FeedQuery, cands: list[Candidate]) -> list[Candidate]:
        scores = self.scorer.score(query, cands)
        for cand, score in zip(cands, scores, strict=True):
            cand.score = score
        return sorted(cands, key=lambda c: (-c.score, c.note_id))

    def _call(self, source: CandidateSource, query: FeedQuery) -> list[Candidate]:
        with self.context():
            return source.fetch(query)

    def _run_sources(self, sources: list[CandidateSource], query: FeedQuery,
                     reports: list[SourceReport]) -> list[tuple[str, list[Candidate]]]:
        running: list[tuple[CandidateSource, Future | None, float]] = []
        for source in sources:
            if not source.runs_for(query):
                reports.append(SourceReport(source.name, "skipped"))
                continue
            start = time.perf_counter()
            future = _POOL.submit(self._call, source, query) if self.parallel else None
            running.append((source, future, start))
        out: list[tuple[str, list[Candidate]]] = []
        for source, future, start in running:
            report = SourceReport(source.name, "ok")
            cands: list[Candidate] = []
            try:
                if future is None:
                    cands = self._call(source, query)
                else:
                    left = source.budget_ms / 1000 - (time.perf_counter() - start)
                    cands = future.result(timeout=max(left, 0.001))
            except FutureTimeout:
                report.status = "timeout"
                report.error = f"over its {source.budget_ms} ms budget"
                log.warning("feed source %s timed out (%s ms)", source.name, source.budget_ms)
            except Exception as exc:  # noqa: BLE001 - a source must not break the feed
                report.status, report.error = "error", f"{type(exc).__name__}: {exc}"[:200]
                log.exception("feed source %s failed", source.name)
            report.ms = round((time.perf_counter() - start) * 1000, 2)
            if report.status != "ok" and not source.fail_open:
                raise SourceFailed(f"{source.name}: {report.error}")
            if report.status == "ok" and not cands:
                report.status = "empty"
            report.candidates = len(cands)
            reports.append(report)
            out.append((source.name, cands))
        return out

    def _filter(self, query: FeedQuery, cands: list[Candidate], removed: dict[str, list[int]]
                ) -> tuple[list[Candidate], list[Candidate]]:
        """(kept, soft-removed that pass every hard filter): the second list may fill a
        short page after the first."""
        soft: list[Candidate] = []
        hydrated = False
        for flt in self.filters:
            if flt.needs_facts and not hydrated:
                cands = self._hydrate(query, cands)
                hydrated = True
            result = flt.apply(query, cands)
            cands = result.kept
            if result.removed:
                removed[flt.name] = [c.note_id for c in result.removed]
                if flt.soft:
                    soft.extend(result.removed)
        if len(cands) >= query.limit or not soft:
            return cands, []
        back = self._hydrate(query, soft) if hydrated else soft
        for flt in self.filters:
            if not flt.soft:
                back = flt.apply(query, back).kept
        return cands, back

    def _hydrate(self, query: FeedQuery, cands: list[Candidate]) -> list[Candidate]:
        if self.facts_of is None or not cands:
            return cands
        facts = self.facts_of([c.note_id for c in cands], query)
        for cand in cands:
            cand.facts = facts.get(cand.note_id)
        return cands


def build(reader: FeedReader, settings: Any, *, anonymous: bool,
          context: Callable[[], ContextManager[Any]] = contextlib.nullcontext,
          parallel: bool = True) -> FeedPipeline:
    """The pipelines by configuration: ``for_you`` for people, ``explore`` for visitors."""
    from app.feed import filters as f
    from app.feed import sources as s

    budgets = dict(settings.feed_source_budgets_ms)

    def make(cls: type[CandidateSource]) -> CandidateSource:
        return cls(reader, budget_ms=budgets.get(cls.name, settings.feed_source_budget_ms))

    if anonymous:   # explore: trending and fresh, the newest as the fallback
        sources = [make(s.TrendingSource), make(s.FreshSource)]
    else:           # for you
        sources = [make(s.CollaborativeSource), make(s.FollowingSource),
                   make(s.TopicSource), make(s.TrendingSource), make(s.FreshSource)]
    fallback = [make(s.LatestSource)] if anonymous else [make(s.SimilarToLikedSource),
                                                         make(s.LatestSource)]
    return FeedPipeline(
        sources=sources, fallback=fallback, filters=f.default_filters(),
        scorer=BlendScorer(dict(settings.feed_source_weights),
                           dict(settings.feed_feature_weights),
                           settings.feed_freshness_half_life_hours),
        selector=DiversitySelector(settings.feed_max_per_author, settings.feed_mmr_lambda,
                                   settings.feed_fresh_quota),
        facts_of=lambda ids, q: reader.facts(ids, q.viewer), context=context,
        parallel=parallel)
