"""Shared fixtures: the real built-in corpus, its real index and a real QA engine."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def builtin_docs():
    import corpus

    return corpus.load_builtin()


@pytest.fixture(scope="session")
def builtin_index_dir() -> Path:
    """The built-in index (built by ``make setup``; rebuilt here if missing or stale)."""
    from index.build import ensure_builtin_index

    return ensure_builtin_index()


@pytest.fixture(scope="session")
def engine(builtin_index_dir):
    """One QAEngine over the built-in index for the whole session (read-only use)."""
    from qa.engine import QAEngine

    return QAEngine.from_path(builtin_index_dir)


@pytest.fixture(scope="session")
def national_engine():
    """A QAEngine over the State Council's 2024 report (an evaluation corpus), built if
    missing: the same code on a report with another year, scope and layout."""
    from eval.sets import get_set, index_for
    from qa.engine import QAEngine

    return QAEngine.from_path(index_for(get_set("national2024")))


@pytest.fixture(scope="session")
def guangdong_engine():
    """A QAEngine over Guangdong's 2026 report (an evaluation corpus), built if missing: a
    report in the first year of a five-year plan, whose 十五五 goals read like targets."""
    from eval.sets import get_set, index_for
    from qa.engine import QAEngine

    return QAEngine.from_path(index_for(get_set("guangdong2026")))
