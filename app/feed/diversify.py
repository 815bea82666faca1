"""Selectors: build the page from ranked candidates.

``DiversitySelector`` is a greedy MMR pass (Carbonell & Goldstein, 1998) over the ranked list:
each slot takes the candidate maximising

    lambda * score_norm(c) - (1 - lambda) * max_{p on page} jaccard(hashtags(c), hashtags(p))

subject to at most ``max_per_author`` notes of one author per page, and keeping a quota of
fresh notes: when the slots left equal the fresh notes still owed, only fresh notes qualify.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.feed.query import Candidate, FeedQuery

FRESH = "fresh"


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def _jaccard_bits(a: int, b: int) -> float:
    """``jaccard`` of two tag sets written as bit masks."""
    if not a or not b:
        return 0.0
    return (a & b).bit_count() / (a | b).bit_count()


@dataclass
class DiversitySelector:
    """Author cap, topic spread (MMR over hashtags) and the fresh quota, in one pass."""

    max_per_author: int = 2
    mmr_lambda: float = 0.8
    fresh_quota: float = 0.1
    depth: int = 6          # candidates considered per slot of the page (the rest cannot win)
    name: str = "diversity"

    def fresh_slots(self, limit: int, available: int) -> int:
        want = math.ceil(limit * self.fresh_quota) if self.fresh_quota > 0 else 0
        return min(want, available)

    def select(self, query: FeedQuery, ranked: list[Candidate], limit: int,
               start: list[Candidate] | None = None) -> list[Candidate]:
        """Fill a page of ``limit`` from ``ranked`` (best first, scores set), after the
        candidates already placed in ``start``."""
        if not ranked:
            return list(start or [])
        batch = limit * self.depth
        pool = ranked[:batch]
        rest = ranked[batch:]
        extra = [c for c in rest if FRESH in c.scores][:limit]
        if extra:
            pool += extra
            taken = {id(c) for c in extra}
            rest = [c for c in rest if id(c) not in taken]
        top = max(c.score for c in pool)
        low = min(c.score for c in pool)
        spread = (top - low) or 1.0
        page: list[Candidate] = list(start or [])
        per_author: dict[int | None, int] = {}
        for cand in page:
            per_author[cand.author_id] = per_author.get(cand.author_id, 0) + 1
        owed = self.fresh_slots(limit, sum(FRESH in c.scores for c in pool)) if not page else 0
        bits: dict[str, int] = {}   # hashtag -> its bit: tag sets as ints, overlap by popcount

        def mask(cand: Candidate) -> int:
            m = 0
            for tag in (cand.facts.hashtags if cand.facts else ()):
                bit = bits.get(tag)
                if bit is None:
                    bit = bits[tag] = 1 << len(bits)
                m |= bit
            return m

        page_tags = [mask(p) for p in page]
        # Parallel lists over the candidates looked at so far (index = position in ``cands``);
        # ``overlap`` is each one's max similarity to the page, kept up to date as slots fill.
        cands: list[Candidate] = []
        tags: list[int] = []
        overlap: list[float] = []
        value: list[float] = []
        authors: list[int | None] = []
        fresh: list[bool] = []
        open_: list[int] = []
        lam, cap = self.mmr_lambda, self.max_per_author

        def look_at(more: list[Candidate]) -> None:
            for cand in more:
                t = mask(cand)
                open_.append(len(cands))
                cands.append(cand)
                tags.append(t)
                overlap.append(max((_jaccard_bits(t, p) for p in page_tags), default=0.0))
                value.append(lam * (cand.score - low) / spread)
                authors.append(cand.author_id)
                fresh.append(FRESH in cand.scores)

        look_at(pool)
        while len(page) < limit:
            only_fresh = owed > 0 and limit - len(page) <= owed
            best, best_value = -1, -math.inf
            for i in open_:
                author = authors[i]
                if author is not None and per_author.get(author, 0) >= cap:
                    continue
                if only_fresh and not fresh[i]:
                    continue
                v = value[i] - (1 - lam) * overlap[i]
                if v > best_value:
                    best, best_value = i, v
            if best < 0:
                if only_fresh:      # no fresh note fits the caps: release the quota
                    owed = 0
                    continue
                if not rest:
                    break
                more, rest = rest[:batch], rest[batch:]   # the caps ate the pool: go deeper
                look_at(more)
                continue
            open_.remove(best)
            page.append(cands[best])
            picked = tags[best]
            page_tags.append(picked)
            if picked:
                for i in open_:
                    t = tags[i]
                    if t & picked:   # no shared tag: the overlap stays what it was
                        o = (t & picked).bit_count() / (t | picked).bit_count()
                        if o > overlap[i]:
                            overlap[i] = o
            per_author[authors[best]] = per_author.get(authors[best], 0) + 1
            if fresh[best] and owed > 0:
                owed -= 1
        return page
