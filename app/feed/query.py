"""The plain data every feed stage works on: the query, candidates, facts about notes, results.

Nothing here touches Flask or the database, so every stage can be tested on these alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Viewer:
    """What the feed knows about the viewer before it starts (loaded once per request)."""

    user_id: int | None = None
    seen: frozenset[int] = frozenset()             # impressions within the seen window
    blocked_authors: frozenset[int] = frozenset()  # blocked either way
    hidden_notes: frozenset[int] = frozenset()     # "not interested" in the note
    hidden_authors: frozenset[int] = frozenset()   # "not interested" in the author
    following: frozenset[int] = frozenset()
    author_affinity: dict[int, float] = field(default_factory=dict)  # 0..1

    @property
    def anonymous(self) -> bool:
        return self.user_id is None


@dataclass(frozen=True, slots=True)
class FeedQuery:
    """One request for one page of the feed."""

    viewer: Viewer
    limit: int
    now: float                                     # Unix seconds
    request_id: str
    served: frozenset[int] = frozenset()           # earlier pages of this feed session
    page: int = 0
    per_source: int = 200                          # candidates asked of each source

    @property
    def user_id(self) -> int | None:
        return self.viewer.user_id


@dataclass(frozen=True, slots=True)
class NoteFacts:
    """What ranking, filters and reasons need to know about one note."""

    note_id: int
    author_id: int
    author_username: str = ""
    title: str = ""
    created_at: float = 0.0
    hashtags: tuple[str, ...] = ()
    visible: bool = True        # not deleted, not hidden, public (or followers-only and followed)
    all_out_of_stock: bool = False  # has tagged products and none is in stock
    impressions: int = 0
    clicks: int = 0
    engagements: int = 0        # likes + saves + comments + shares
    purchases: int = 0


@dataclass(slots=True)
class Candidate:
    """A note some source proposed, with each source's score and its reason."""

    note_id: int
    scores: dict[str, float] = field(default_factory=dict)       # source name -> rank score
    reasons: dict[str, dict[str, Any]] = field(default_factory=dict)  # source name -> params
    facts: NoteFacts | None = None
    score: float = 0.0

    @property
    def sources(self) -> list[str]:
        return list(self.scores)

    @property
    def author_id(self) -> int | None:
        return self.facts.author_id if self.facts else None

    def top_source(self, weights: dict[str, float]) -> str:
        """The source whose weighted score contributed most: it gives the reason shown."""
        return max(self.scores, key=lambda s: (weights.get(s, 0.0) * self.scores[s], s))


@dataclass(frozen=True, slots=True)
class FilterResult:
    kept: list[Candidate]
    removed: list[Candidate]


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an item is in the feed, for people: a code, its params and both languages."""

    code: str
    text_zh: str
    text_en: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "text_zh": self.text_zh, "text_en": self.text_en,
                "params": dict(self.params)}


@dataclass(slots=True)
class FeedItem:
    note_id: int
    score: float
    source: str
    sources: list[str]
    reason: Reason
    position: int
    author_id: int | None = None


@dataclass(slots=True)
class SourceReport:
    """How one source did on one request: served, empty, failed or timed out."""

    name: str
    status: str            # ok | empty | error | timeout | skipped
    candidates: int = 0
    ms: float = 0.0
    error: str | None = None


@dataclass(slots=True)
class FeedResult:
    items: list[FeedItem]
    sources: list[SourceReport]
    removed: dict[str, list[int]]          # filter name -> note ids it removed
    model_id: str | None = None

    @property
    def served_sources(self) -> list[str]:
        return [s.name for s in self.sources if s.status == "ok"]


class FeedReader(Protocol):
    """Every read the stages make. ``SqlReader`` reads the database; the replay reads a frozen
    training window. Scores are higher-is-better; lists are best first."""

    def picks(self, user_id: int, n: int, exclude: list[int]) -> tuple[list[tuple[int, float]],
                                                                       str | None]: ...
    def following_notes(self, author_ids: frozenset[int], n: int, now: float
                        ) -> list[tuple[int, float]]: ...
    def trending(self, n: int, now: float) -> list[tuple[int, float]]: ...
    def fresh(self, n: int, now: float) -> list[tuple[int, float]]: ...
    def recent_likes(self, user_id: int, n: int) -> list[tuple[int, str]]: ...
    def more_like_this(self, note_id: int, n: int) -> list[tuple[int, float]]: ...
    def topics(self, user_id: int) -> list[str]: ...
    def topic_popular(self, topics: list[str], n: int, now: float
                      ) -> list[tuple[int, float, str]]: ...
    def latest(self, n: int, now: float) -> list[tuple[int, float]]: ...
    def facts(self, note_ids: list[int], viewer: Viewer) -> dict[int, NoteFacts]: ...
