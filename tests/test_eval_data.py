"""Sanity checks for every evaluation question set shipped in eval/data."""

import json
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parent.parent / "eval" / "data"
DATA = DATA_DIR / "builtin_questions.jsonl"
SETS = sorted(DATA_DIR.glob("*_questions.jsonl"))

REQUIRED_FIELDS = {"id", "question", "answers", "type", "section"}
ALLOWED_TYPES = {
    "numeric",
    "fact",
    "list",
    "paraphrase",
    "english",
    "unanswerable",
    "year",
}
# where the answer is in the built-in report; sets about another report note it freely
ALLOWED_SECTIONS = {
    "回顾2022",
    "二、关于今后五年发展",
    "三、总体目标",
    "三（一）",
    "三（二）",
    "三（三）",
    "三（四）",
    "三（五）",
}


def load_questions(path: Path = DATA):
    rows = []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:  # pragma: no cover - failure path
                pytest.fail(f"line {lineno}: invalid JSON: {exc}")
    return rows


def test_every_shipped_set_is_registered():
    from eval.sets import SETS as REGISTERED

    assert {p.name for p in SETS} == {s.questions.name for s in REGISTERED}


def _corpus_of(path: Path):
    from eval.sets import SETS as REGISTERED

    return next(s.corpus_path for s in REGISTERED if s.questions.name == path.name)


@pytest.fixture(scope="module", params=SETS, ids=lambda p: p.stem)
def questions(request):
    rows = load_questions(request.param)
    for q in rows:
        q["_builtin"] = _corpus_of(request.param) is None
        q["_path"] = request.param
    return rows


def test_sets_share_no_question():
    """No question is in two sets about the same report."""
    seen: dict[tuple[str, str], str] = {}
    for path in SETS:
        for q in load_questions(path):
            key = (str(_corpus_of(path)), q["question"].strip())
            assert key not in seen, f"{path.name} repeats a question of {seen.get(key)}"
            seen[key] = path.name


def test_every_line_is_a_json_object(questions):
    assert questions
    for q in questions:
        assert isinstance(q, dict)


def test_unique_ids(questions):
    ids = [q["id"] for q in questions]
    assert len(ids) == len(set(ids))


def test_unique_questions(questions):
    texts = [q["question"].strip() for q in questions]
    assert len(texts) == len(set(texts))


def test_fields_and_types(questions):
    for q in questions:
        missing = REQUIRED_FIELDS - q.keys()
        assert not missing, f"{q.get('id')}: missing {missing}"
        assert isinstance(q["id"], str) and q["id"]
        assert isinstance(q["question"], str) and q["question"].strip()
        assert isinstance(q["answers"], list)
        assert q["type"] in ALLOWED_TYPES, f"{q['id']}: bad type {q['type']}"
        assert isinstance(q["section"], str)
        if q["_builtin"] and q["type"] != "unanswerable":
            assert q["section"] in ALLOWED_SECTIONS, (
                f"{q['id']}: bad section {q['section']}"
            )


def test_answers_shape(questions):
    for q in questions:
        answers = q["answers"]
        if q["type"] == "unanswerable":
            assert answers == [], f"{q['id']}: unanswerable must have []"
        else:
            assert 1 <= len(answers) <= 3, f"{q['id']}: needs 1-3 answers"
            for a in answers:
                assert isinstance(a, str) and a.strip(), f"{q['id']}: empty answer"
                assert "\n" not in a, f"{q['id']}: answer contains a line break"


def test_minimum_counts():
    questions = load_questions()
    assert len(questions) >= 150
    assert sum(q["type"] == "unanswerable" for q in questions) >= 15
    assert sum(q["type"] == "english" for q in questions) >= 10


def test_gold_answers_are_substrings_of_cleaned_report(questions):
    import corpus

    path = _corpus_of(questions[0]["_path"])
    docs = corpus.load_builtin() if path is None else corpus.load_corpus([path]).documents
    text = "\n".join(d.text for d in docs)
    missing = [(q["id"], a) for q in questions for a in q["answers"] if a not in text]
    assert not missing, f"gold strings not found in cleaned text: {missing}"
