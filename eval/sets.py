"""The shipped question sets: which report each one asks about and what it is used for.

Roles: ``tuned`` (ranking and vocabulary were developed on it), ``fit`` (the not-found
decision is fitted on it), ``dev`` (written blind, failures inspected while developing),
``heldout`` (written blind, only totals ever looked at). Sets about another report carry
its text under ``eval/data/corpora``; their index is built on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
CORPORA = DATA / "corpora"


@dataclass(frozen=True)
class QuestionSet:
    name: str
    role: str
    corpus: str | None = None  # a file in eval/data/corpora; None: the built-in report

    @property
    def questions(self) -> Path:
        return DATA / f"{self.name}_questions.jsonl"

    @property
    def corpus_path(self) -> Path | None:
        return CORPORA / self.corpus if self.corpus else None


SETS: tuple[QuestionSet, ...] = (
    QuestionSet("builtin", "tuned"),
    QuestionSet("calibration", "fit"),
    QuestionSet("dev", "dev"),
    QuestionSet("heldout", "heldout"),
    QuestionSet("heldout2", "heldout"),
    QuestionSet("heldout3", "heldout"),
    QuestionSet("english", "dev"),
    QuestionSet("yeartrap", "dev"),
    QuestionSet("national2025", "fit", "china-national-2025.txt"),
    QuestionSet("calibration2", "fit", "china-national-2025.txt"),
    QuestionSet("yeartrap2025", "dev", "china-national-2025.txt"),
    QuestionSet("national2024", "heldout", "china-national-2024.txt"),
    QuestionSet("guangdong2026", "heldout", "guangdong-2026.txt"),
)
FIT_ROLES = ("tuned", "fit")


def get_set(name: str) -> QuestionSet:
    for s in SETS:
        if s.name == name:
            return s
    raise ValueError(f"unknown question set {name!r}; known: {', '.join(s.name for s in SETS)}")


def index_for(qset: QuestionSet) -> Path:
    """The index the set's questions ask about, built (or rebuilt when stale) if needed."""
    from index.build import ensure_builtin_index, ensure_index
    from index.config import data_home

    if qset.corpus_path is None:
        return ensure_builtin_index()
    return ensure_index([qset.corpus_path], data_home() / "index" / f"eval-{qset.corpus_path.stem}",
                        label=f"the index of {qset.corpus}")


def questions_and_index(name: str | None, questions: Path | None,
                        index: Path | None) -> tuple[Path, Path]:
    """What ``--set``/``--questions``/``--index`` name: explicit paths win, then the set's
    own, then the built-in set on the built-in index."""
    from eval.runner import BUILTIN_QUESTIONS
    from index.build import ensure_builtin_index

    qset = get_set(name) if name else None
    if questions is None:
        questions = qset.questions if qset else BUILTIN_QUESTIONS
    if index is None:
        index = index_for(qset) if qset else ensure_builtin_index()
    return Path(questions), Path(index)
