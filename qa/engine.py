"""Question in, Answer out: retrieval, reranking, answer sentence, citations, not-found.

Pipeline (``retriever="hybrid"``):
1. sanitise the question and resolve a chat follow-up against the previous turn;
2. expand everyday/English words to report terms; detect the year and whether a figure
   is asked;
3. candidates: BM25 top ``pool`` and dense top ``pool``, fused by RRF;
4. rerank the best candidates by dense similarity (the passage's and that of the closest
   of its lexically best sentences), idf-weighted term coverage, the best sentence's score
   and the year fit;
5. the best sentence of the top passage is the answer; decline when the evidence is weak,
   for it or for the passage ranked first without the sentence-level similarity.

``naive``, ``bm25`` and ``dense`` skip steps 1b, 4 and 5 (answer = top passage) and serve
as baselines in the evaluation.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpus.types import Chunk, Document
from index.bm25 import top_positive
from index.fusion import rrf
from index.search import HybridIndex
from index.types import Hit
from qa.answer import (
    SentenceScore,
    char_overlap,
    content_bigrams,
    content_chars,
    extend_for_list,
    extend_heading,
    figure_spans,
    has_figure,
    narrow_answer,
    part_for_whole,
    result_for_target,
    score_sentences,
    sentence_year_signal,
    speaks_of_period,
    states_change,
)
from qa.confidence import (
    Evidence,
    answers_delivery,
    asks_about_report,
    asks_delivery,
    asks_when,
    asks_where,
    cover_end,
    cover_line_fits,
    foreign_places,
    has_date,
    has_place,
    report_scope,
    tells_delivery,
)
from qa.confidence import confidence as score_confidence
from qa.followup import resolve_followup
from qa.intent import (
    ENGLISH_WORD,
    YearIntent,
    asked_head,
    asked_unit,
    asks_figure,
    english_content_words,
    expand_terms,
    is_mostly_english,
    is_scaffolding,
    key_terms,
    matched_keys,
    names_year,
    overlaps_key,
    phrasing_stem,
    verb_objects,
    wants_list,
    wants_number,
    without_a_not_a,
    year_intent,
)
from qa.lexicon import compounds, romanisations, simplified_forms, translations
from qa.smalltalk import reply as smalltalk_reply
from qa.smalltalk import smalltalk_kind
from qa.text import clean_question, has_words, term_spans
from qa.types import Answer, Citation

NOT_FOUND = "报告中没有找到与此相关的内容。"
_REPORT_REF = re.compile(r"(?:这份|这个|本|该)?(?:政府)?(?:工作)?报告(?:里面|里头|里|中|上)?|"
                         r"提到|提及|谈到|讲到")
DELIVERY_NOTICE = ("报告文本中没有写明这一点：报告人、会议和日期是封面上的信息，这份文本没有。"
                   " / The report's text does not say this: speaker, meeting and date are"
                   " cover details this text lacks.")
_TIME_WORD = re.compile(r"今年|本年|当年|去年|上年|上一年|明年|前年|后年")
EMPTY = "请输入一个问题，例如：今年煤化工产值目标是多少？"
NO_WORDS = "没有识别到可以检索的文字，请用中文或英文提问。"
RETRIEVERS = ("hybrid", "naive", "bm25", "dense")


@dataclass(frozen=True)
class QAConfig:
    """Answering settings; thresholds are calibrated on the project's own eval set (README)."""

    k: int = 5
    pool: int = 40
    rerank_depth: int = 25
    # each retriever's own best few are reranked too, wherever fusion puts them
    each_depth: int = 5
    rrf_k: int = 60
    expansion_weight: float = 0.5
    # a word the report uses only inside longer terms the tokenizer keeps whole searches for
    # at most this many of them, as an expansion (零碳 -> 零碳园区; 0: off)
    held_terms: int = 3
    # a verb and one-character object split around 多少 (发了多少电) search as the word the
    # index has for them (发电; 0: off)
    join_verb_objects: int = 1
    # English answer sentence: lexical score + sentence_dense × model similarity (0: off)
    sentence_dense: float = 5.0
    sentence_dense_top: int = 2  # ... among this many best sentences by lexical score
    lexicon_terms: int = 3  # dictionary translations kept per English word (qa.lexicon)
    dense_glosses: int = 2  # ... of which this many join the English question the model reads
    min_confidence: float = 0.38
    answer_chars: int = 120  # a longer answer sentence is narrowed to its best clauses
    # what a which/what question ends on (哪些模式 -> 模式) weighs this many times its idf
    # when the answer sentence is chosen
    head_weight: float = 2.0
    # reranking weights (chosen by measurement on the eval set; see README)
    w_dense: float = 0.5
    dense_scale: float = 0.05  # >0: dense feature = (cos - best cos) / dense_scale
    w_coverage: float = 1.0
    w_sentence: float = 1.0
    # the model's similarity of the question and the closest of the passage's
    # ``sentence_dense_among`` lexically best sentences (README)
    w_sentence_dense: float = 1.0
    sentence_dense_among: int = 3
    # single question characters without postings (税, 交 of 交了) matched inside sentence
    # words, at this share of their character idf (0: off)
    loose_weight: float = 1.0
    # the ranking the not-found decision also reads: no sentence-level similarity, the
    # passage's vector at this weight (README "Declining")
    w_dense_unaided: float = 1.0
    w_chars: float = 1.0
    w_year: float = 0.3
    w_rrf: float = 0.5
    # question words every report title names (内蒙古, 2023) weigh this much of their idf:
    # they match passages that merely name the region, not ones that answer
    scope_weight: float = 0.5
    # 今年, 去年 as words to match, at this share of their idf (0: not searched at all):
    # the year signal already matches their year, and a report that says 去年 once would
    # make that passage answer every 去年 question
    time_weight: float = 0.0
    # ... and counted as found, at this share of their idf, in a passage of the year they
    # name (去年 is found in the review of last year, not in this year's plans)
    time_year_weight: float = 1.0


@dataclass(frozen=True)
class Context:
    """A passage in its paragraph, for staff to verify without opening the file."""

    doc_id: str
    title: str
    section: str
    paragraph: int
    text: str
    passage_start: int  # offsets of the passage within ``text``
    passage_end: int


@dataclass(frozen=True)
class _Scored:
    pos: int
    score: float
    dense: float
    coverage: float
    best_span: tuple[int, int] | None
    best_sentence_score: float
    year: float
    sentences: tuple[SentenceScore, ...] = ()  # every sentence's score, in passage order
    unaided: float = 0.0  # the score without the sentence-level similarity


class QAEngine:
    """Answers questions over one loaded index."""

    def __init__(self, index: HybridIndex, config: QAConfig | None = None) -> None:
        self.index = index
        self.config = config or QAConfig()
        # passages are fixed, so their sentences' tokens are computed once and reused
        self._cached_tokens = functools.lru_cache(maxsize=200_000)(
            lambda text: tuple(index.tokenizer.tokenize(text)))
        # a sentence the index holds no vector for (an index held only in memory): kept
        self._sentence_vector = functools.lru_cache(maxsize=4096)(
            lambda text: index.embedder.encode_passages([text], 1, False)[0])
        self._holding_terms = functools.lru_cache(maxsize=4096)(self._terms_holding)
        self._char_idf = functools.lru_cache(maxsize=8192)(self._character_idf)

    def tokenize(self, text: str) -> list[str]:
        """The index's tokenizer, memoised (sentences of passages recur across questions)."""
        return list(self._cached_tokens(text))

    @classmethod
    def from_path(cls, path: Path, config: QAConfig | None = None) -> QAEngine:
        return cls(HybridIndex.load(path), config)

    # ----- public API -------------------------------------------------------------------
    def ask(
        self,
        question: str | None,
        *,
        history: Sequence[str] = (),
        k: int | None = None,
        retriever: str = "hybrid",
        doc_id: str | None = None,
        year: int | None = None,
    ) -> Answer:
        """Answer ``question``; ``history`` holds the previous questions as understood."""
        if retriever not in RETRIEVERS:
            raise ValueError(f"unknown retriever {retriever!r}; choose one of {RETRIEVERS}")
        k = k or self.config.k
        clean = clean_question(question)
        clean = dataclasses.replace(clean, query=self._corpus_script(clean.query))
        if not clean.query:
            return Answer(clean.display, "", False, "", EMPTY, notices=clean.notices)
        if not has_words(clean.query):
            return Answer(clean.display, clean.query, False, "", NO_WORDS, notices=clean.notices)
        kind = smalltalk_kind(clean.query) if retriever == "hybrid" else None
        if kind is not None:
            # understood stays empty: a chat follow-up refers to the last real question
            return Answer(clean.display, "", False, "", smalltalk_reply(kind, clean.query),
                          notices=clean.notices, extra={"smalltalk": kind})
        understood = resolve_followup(clean.query, history) if retriever == "hybrid" \
            else clean.query
        allowed = self._allowed(doc_id, year)
        if allowed is not None and not allowed.any():
            msg = f"没有符合筛选条件的报告（文档 {doc_id or '任意'}，年份 {year or '任意'}）。"
            return Answer(clean.display, understood, False, "", msg, notices=clean.notices)
        if retriever == "hybrid":
            return self._answer(clean.display, understood, k, allowed, clean.notices)
        return self._baseline(clean.display, understood, k, retriever, allowed, clean.notices)

    def context(self, chunk_id: str) -> Context:
        """The paragraph around a passage (raises KeyError for an unknown chunk id)."""
        chunk = self.index.chunks[self.index.position[chunk_id]]
        doc = self.index.documents[chunk.doc_id]
        para = doc.paragraphs[chunk.paragraph - 1]
        return Context(doc.id, doc.title, chunk.section_path, para.number,
                       doc.text[para.start:para.end],
                       chunk.start - para.start, chunk.end - para.start)

    def documents(self) -> list[Document]:
        return list(self.index.documents.values())

    # ----- retrieval --------------------------------------------------------------------
    def _allowed(self, doc_id: str | None, year: int | None) -> np.ndarray | None:
        if doc_id is None and year is None:
            return None
        docs = self.index.documents
        return np.array([
            (doc_id is None or c.doc_id == doc_id)
            and (year is None or docs[c.doc_id].year == year)
            for c in self.index.chunks
        ])

    def _sparse(self, tokens: list[str], n: int, allowed) -> list[tuple[int, float]]:
        s = self.index.bm25.scores(tokens)
        if allowed is not None:
            s = np.where(allowed, s, 0.0)
        return top_positive(s, n)

    def _dense(self, qvec: np.ndarray, n: int, allowed) -> list[tuple[int, float]]:
        if allowed is None:
            return self.index.dense_ranking(qvec, n)
        wide = self.index.dense_ranking(qvec, min(len(self.index.chunks), n * 20))
        return [(i, s) for i, s in wide if allowed[i]][:n]

    def _baseline(self, display, understood, k, retriever, allowed, notices) -> Answer:
        pool = max(self.config.pool, k)
        tokens = self.index.tokenizer.tokenize(understood)
        sparse = self._sparse(tokens, pool, allowed) if retriever != "dense" else []
        dense = (self._dense(self.index.embed_query(understood), pool, allowed)
                 if retriever != "bm25" else [])
        hits = self.index.fuse(sparse, dense, k, "hybrid" if retriever == "naive" else retriever,
                               self.config.rrf_k)
        if not hits:
            return Answer(display, understood, False, "", NOT_FOUND, notices=notices)
        cites = tuple(self._citation(n, h.chunk, h, [], None) for n, h in enumerate(hits, 1))
        top = hits[0].chunk.text
        return Answer(display, understood, True, top, top, cites, 1, notices=notices)

    # ----- the full pipeline ------------------------------------------------------------
    def _answer(self, display, understood, k, allowed, notices) -> Answer:
        cfg = self.config
        idx = self.index
        tokenize = self.tokenize
        searched = without_a_not_a(understood)
        about_report = asks_about_report(understood)
        if not about_report:
            # 报告里有没有提到…, 报告提出…: the report itself, not a topic (as "report" is
            # an English stop word), else the opening 向大会报告政府工作 matches it
            searched = _REPORT_REF.sub(" ", searched).strip() or searched
        base_tokens = self._join_verb_objects(
            searched, self.index.tokenizer.tokenize_question(searched))
        # a report term this corpus never uses adds nothing, not even its parts (国内生产总值
        # in a provincial report would otherwise match 国内 in 国内外市场)
        expansions = [e for e in expand_terms(understood, self._uses) if self._uses(e)]
        english = is_mostly_english(understood)
        lexicon = self._english_groups(understood) if english else []
        lex_terms = [t for _, g in lexicon for t in g if t not in expansions]
        exp_tokens = [t for t in tokenize(" ".join(expansions)) if t not in base_tokens]
        lex_tokens = [t for t in tokenize(" ".join(lex_terms))
                      if t not in base_tokens and t not in exp_tokens]
        # a word the report uses only inside longer terms the tokenizer keeps whole has no
        # postings: it searches for those terms (零碳 -> 零碳园区)
        seen = base_tokens + exp_tokens + lex_tokens
        held = list(dict.fromkeys(h for t in dict.fromkeys(seen) if self._inside_longer_term(t)
                                  for h in self._holding_terms(t)[:cfg.held_terms]
                                  if h not in seen))
        weights: dict[str, float] = {}
        for t in base_tokens:
            weights[t] = max(weights.get(t, 0.0), idx.bm25.idf(t))
        for t in exp_tokens + lex_tokens + held:
            weights[t] = max(weights.get(t, 0.0), cfg.expansion_weight * idx.bm25.idf(t))
        for t in self._scope_words(base_tokens):
            weights[t] *= cfg.scope_weight
        timed = [t for t in base_tokens if _TIME_WORD.fullmatch(t)]
        for t in timed:
            weights[t] *= cfg.time_weight
        # at a typical word's weight: a report that never says 上年 still reviews last year
        year_words = cfg.time_year_weight * idx.bm25.median_idf() * len(set(timed))
        # words the corpus never uses still carry meaning: they count as not covered
        missing = set(self._missing_words(understood, base_tokens, lexicon))
        for t in missing:
            weights[t] = idx.bm25.median_idf()
        intent = year_intent(understood)
        numeric = wants_number(understood)
        unit = asked_unit(understood)
        listing = wants_list(understood)
        dense_query = understood
        # the model reads an English question better beside the report's words for it
        glosses = expansions[:8] + [t for _, g in lexicon for t in g[:cfg.dense_glosses]
                                    if t not in expansions]
        if english and glosses:
            dense_query = f"{understood} ({' '.join(glosses)})"
        qvec = idx.embed_query(dense_query)

        sparse_tokens = base_tokens + exp_tokens + lex_tokens + held
        if cfg.time_weight <= 0:
            sparse_tokens = [t for t in sparse_tokens if t not in timed] or sparse_tokens
        sparse = self._sparse(sparse_tokens, cfg.pool, allowed)
        dense = self._dense(qvec, cfg.pool, allowed)
        fused = rrf([[i for i, _ in sparse], [i for i, _ in dense]], k=cfg.rrf_k)
        if not fused:
            return Answer(display, understood, False, "", NOT_FOUND, notices=notices)
        cands = [i for i, _ in fused[: max(cfg.rerank_depth, k)]]
        # a passage only one retriever finds fuses below every passage both find, however
        # far ahead it is there (营商环境: BM25's first, beyond the model's top 40)
        cands += [i for i in dict.fromkeys(i for r in (sparse, dense)
                                           for i, _ in r[:cfg.each_depth]) if i not in cands]
        delivery = asks_delivery(understood)
        if delivery:  # who delivered the report: its cover lines, wherever they rank
            cands += [p for p in self._cover_positions(allowed) if p not in cands]
        qchars = content_chars(understood)
        vecs = idx.passage_vectors(cands)
        cos = vecs @ qvec
        top_cos = float(cos.max())
        # what a which/what question asks for should be in the answer sentence
        # (有哪些地方在冲最高等级的景区: the sentence naming 景区, not the one on 旅游)
        sweights = None
        heads = [t for t in tokenize(asked_head(understood)) if weights.get(t, 0) > 0]
        if heads and cfg.head_weight != 1.0:
            sweights = {**weights, heads[-1]: weights[heads[-1]] * cfg.head_weight}
        loose = self._loose_chars(base_tokens)
        scored = [
            self._score(pos, float(c), weights, intent, numeric, tokenize, qchars, top_cos,
                        understood, unit, sweights, qvec, loose, year_words)
            for pos, c in zip(cands, cos, strict=True)
        ]
        rrf_score = dict(fused)
        top_rrf = fused[0][1]
        # the cover's title and date lines answer only questions about the report itself
        demote = set() if about_report else {
            s.pos for s in scored if self._on_cover(idx.chunks[s.pos])}
        first = self._delivery_order(understood, cands) if delivery else {}

        def order(s: _Scored, score: float) -> tuple:
            return (first.get(s.pos, len(first)), s.pos in demote,
                    -(score + cfg.w_rrf * rrf_score.get(s.pos, 0.0) / top_rrf), s.pos)

        scored.sort(key=lambda s: order(s, s.score))
        s_rank = {i: r for r, (i, _) in enumerate(sparse, 1)}
        d_rank = {i: r for r, (i, _) in enumerate(dense, 1)}
        best = scored[0]
        best_chunk = idx.chunks[best.pos]
        stand_in = [] if english else self._stand_in_tokens(understood, expansions, base_tokens)
        stand_in_idf = {t: idx.bm25.idf(t) for t in stand_in}
        full = {**weights, **stand_in_idf}
        full_sentence = {**sweights, **stand_in_idf} if sweights else None

        def answer_span(s: _Scored) -> tuple[int, int]:
            chunk = idx.chunks[s.pos]
            span = s.best_span or (0, len(chunk.text))
            if stand_in_idf:
                # the answer sentence is the one with the report's word for 'CPI', not the
                # one that merely repeats 今年 and 目标
                again = self._score(s.pos, s.dense, full, intent, numeric, tokenize, qchars,
                                    top_cos, understood, unit, sentence_weights=full_sentence,
                                    loose=loose)
                span = again.best_span or span
            if english and cfg.sentence_dense > 0:
                span = self._dense_sentence(chunk, s.sentences, qvec) or span
            return self._answer_span(chunk.text, span, weights, tokenize, numeric, listing, unit)

        def evidence_for(s: _Scored, span: tuple[int, int]) -> Evidence:
            return self._evidence(understood, base_tokens, missing, unit, s, idx.chunks[s.pos],
                                  span, intent, s.dense - idx.background_similarity(qvec),
                                  lexicon, loose)

        span = answer_span(best)
        shown = evidence_for(best, span)
        # the decision also reads the passage ranked first without the sentence-level
        # similarity: that signal lifts answers worded unlike the question, but it makes a
        # passage that does not answer look close as well, so both passages must pass
        unaided = min(scored, key=lambda s: order(s, s.unaided))
        evidence = shown if unaided is best else evidence_for(unaided, answer_span(unaided))
        confidence = min(score_confidence(evidence), score_confidence(shown))
        answered = confidence >= cfg.min_confidence
        if answered and not numeric and not listing and self._opens_paragraph(best_chunk, span):
            # decided on the heading; shown with what it heads
            span = extend_heading(best_chunk.text, span, cfg.answer_chars)
        cites = []
        # a lone character is marked wherever it occurs, inside any word (来 of 吸引到内蒙古来
        # in 搞起来, 聚上来): words only
        terms = [t for t in [t for t in weights if weights[t] > 0] + expansions + lex_terms
                 if len(t) >= 2 or not "\u4e00" <= t <= "\u9fff"]
        for n, s in enumerate(scored[:k], 1):
            chunk = idx.chunks[s.pos]
            hit = Hit(chunk, n, s.score, s_rank.get(s.pos), d_rank.get(s.pos))
            cites.append(self._citation(n, chunk, hit, terms,
                                        span if (n == 1 and answered) else None))
        # ``evidence`` is what calibration fits on: the unaided ranking's passage
        extra = {"evidence": evidence.to_json(), "shown_evidence": shown.to_json(),
                 "year_intent": intent.kind, "expansions": expansions + lex_terms}
        if not answered:
            if evidence.year_absent:
                notices = (*notices, self._year_notice(idx.chunks[unaided.pos], intent))
            if evidence.delivery_absent:
                notices = (*notices, DELIVERY_NOTICE)
            return Answer(display, understood, False, "", NOT_FOUND, tuple(cites),
                          notices=notices, confidence=confidence, extra=extra)
        a, b = span
        text = best_chunk.text[a:b]
        keys = tuple(figure_spans(text))
        return Answer(display, understood, True, text, text, tuple(cites), 1, keys,
                      notices, confidence, extra)

    def _join_verb_objects(self, question: str, tokens: list[str]) -> list[str]:
        """The question's tokens with a verb and object split around 多少 (发了 … 电) as the
        one word the report uses for them (发电), when it is a word of the index."""
        if not self.config.join_verb_objects:
            return tokens
        for word, parts in verb_objects(question, tokens):
            if word not in tokens and (self.index.bm25.idf(word) > 0
                                       or self._inside_longer_term(word)):
                tokens = [t for t in tokens if t not in parts] + [word]
        return tokens

    def _opens_paragraph(self, chunk: Chunk, span: tuple[int, int]) -> bool:
        """Whether ``span`` is the first sentence of a paragraph (where a heading stands)."""
        doc = self.index.documents[chunk.doc_id]
        start = doc.paragraphs[chunk.paragraph - 1].start
        return not doc.text[start:chunk.start + span[0]].strip()

    def _uses(self, term: str) -> bool:
        """Whether some passage contains ``term`` (looked up among the passages holding
        all of its words, so a large corpus is not scanned)."""
        bm25 = self.index.bm25
        # a token the term splits off alone may be cut otherwise in running text (率 of
        # 赤字率 has no postings in 赤字率拟按3%安排): only tokens with postings narrow
        postings = [p for p in (bm25.passages_with(t) for t in self.tokenize(term)) if len(p)]
        if not postings:
            return False
        ids = functools.reduce(np.intersect1d, postings)
        return any(term in self.index.chunks[int(i)].text for i in ids)

    def _stand_in_tokens(self, question: str, expansions: list[str],
                         base_tokens: list[str]) -> list[str]:
        """Tokens of report terms that stand in for a question word the corpus never uses
        (CPI → 居民消费价格): the question's only words for that thing."""
        out: list[str] = []
        for key, terms in zip(matched_keys(question), key_terms(question), strict=True):
            if not self._never_used(key):
                continue
            out += [t for term in terms if term in expansions for t in self.tokenize(term)
                    if t not in base_tokens and t not in out]
        return out

    def _loose_chars(self, tokens: list[str]) -> dict[str, float]:
        """Single characters of the question the index has no postings for, as words (税 in
        减了多少税) or inside phrasing (交 of 交了): weighted by how few passages hold them
        anywhere, for sentences to match inside longer words."""
        out: dict[str, float] = {}
        w = self.config.loose_weight
        if w <= 0:
            return out
        for t in dict.fromkeys(tokens):
            if self.index.bm25.idf(t) > 0:
                continue
            c = t if len(t) == 1 else phrasing_stem(t)
            if c and "\u4e00" <= c <= "\u9fff" and self.tokenize(c) and c not in out:
                idf = self._char_idf(c)
                if idf > 0:
                    out[c] = w * idf
        return out

    def _inside_longer_term(self, word: str) -> bool:
        """A word with no postings of its own that the report still uses, inside a longer
        term the tokenizer keeps whole (零碳 of 零碳园区)."""
        return (not self.index.bm25.idf(word) and len(word) >= 2 and not word.isdigit()
                and not is_scaffolding(word) and word in self._corpus_text)

    def _character_idf(self, char: str) -> float:
        """Okapi idf of a character over the passages that hold it anywhere (0 floor)."""
        n = len(self.index.chunks)
        df = sum(char in c.text for c in self.index.chunks)
        return max(0.0, math.log((n - df + 0.5) / (df + 0.5))) if df else 0.0

    def _terms_holding(self, word: str) -> tuple[str, ...]:
        """The corpus's terms that contain ``word`` (零碳园区 for 零碳), most frequent first."""
        bm25 = self.index.bm25
        terms = [t for t in bm25.vocabulary() if word in t and t != word]
        return tuple(sorted(terms, key=lambda t: (-len(bm25.passages_with(t)), t)))

    def _never_used(self, word: str) -> bool:
        """Whether no passage has any of ``word``'s tokens (CPI, 公积金 in this report)."""
        return not any(self.index.bm25.idf(t) > 0 for t in self.tokenize(word))

    def _cover_positions(self, allowed) -> list[int]:
        """Positions of the cover passages (before 各位代表) of the allowed documents."""
        return [p for p, c in enumerate(self.index.chunks)
                if self._on_cover(c) and (allowed is None or allowed[p])]

    def _delivery_order(self, question: str, cands: list[int]) -> dict[int, int]:
        """For who/when/which-meeting questions about the report: the cover lines holding
        what is asked first, then the rest of the cover, then the opening (我代表…), each
        in reading order."""
        chunks = self.index.chunks
        fits = [p for p in cands
                if self._on_cover(chunks[p]) and cover_line_fits(chunks[p].text, question)]
        rest = [p for p in cands if self._on_cover(chunks[p]) and p not in fits]
        opening = [p for p in cands if tells_delivery(chunks[p].text) and p not in fits + rest]
        return {p: r for r, p in enumerate(sorted(fits) + sorted(rest) + sorted(opening))}

    def _on_cover(self, chunk: Chunk) -> bool:
        """Whether the passage lies in its report's cover (before 各位代表)."""
        return chunk.end <= self._cover_ends.get(chunk.doc_id, 0)

    @functools.cached_property
    def _cover_ends(self) -> dict[str, int]:
        return {d.id: cover_end(d.text) for d in self.documents()}

    def _scope_words(self, tokens: list[str]) -> list[str]:
        """Question words every report's title names (内蒙古 in a question to the Inner
        Mongolia report): they tell no passage from another."""
        titles = [d.title for d in self.documents()]
        return [t for t in dict.fromkeys(tokens)
                if len(t) >= 2 and titles and all(t in title for title in titles)]

    def _year_notice(self, chunk: Chunk, intent: YearIntent) -> str:
        """Why a question about another year is declined: which years the report covers."""
        y = self.index.documents[chunk.doc_id].year or 0
        t = intent.target_year(y)
        return (f"这是{y}年的政府工作报告，回顾{y - 1}年、部署{y}年，没有讲{t}年。"
                f" / This is the {y} report: it reviews {y - 1} and plans {y}; "
                f"it says nothing about {t}.")

    def _score(self, pos: int, cos: float, weights: dict[str, float], intent: YearIntent,
               numeric: bool, tokenize, query_chars: frozenset[str], top_cos: float,
               query_chars_text: str = "", unit: str | None = None,
               sentence_weights: dict[str, float] | None = None,
               qvec: np.ndarray | None = None,
               loose: dict[str, float] | None = None, year_words: float = 0.0) -> _Scored:
        """``year_words``: the weight of the question's 今年/去年, found in a passage whose
        year is the one they name."""
        idx = self.index
        chunk = idx.chunks[pos]
        report_year = idx.documents[chunk.doc_id].year

        def year_signal(sentence: str) -> float:
            return sentence_year_signal(sentence, chunk.year, report_year, intent, chunk.text)

        # a passage of unknown year still speaks of a period (十五五时期) rather than a year
        year = (year_signal(chunk.text) if chunk.year is not None or intent.period is not None
                or speaks_of_period(chunk.text) else 0.0)
        total = sum(weights.values()) + year_words or 1.0
        toks = set(idx.stored.tokens[pos])
        found = sum(w for t, w in weights.items() if t in toks)
        coverage = (found + (year_words if year > 0 else 0.0)) / total
        sents = score_sentences(chunk.text, sentence_weights or weights, tokenize, numeric,
                                year_signal, content_bigrams(query_chars_text), unit, loose)
        best = max(sents, key=lambda s: s.score, default=None)
        sent_score = best.score if best else 0.0
        cfg = self.config
        chars = char_overlap(query_chars, chunk.text)
        dense = (cos - top_cos) / cfg.dense_scale if cfg.dense_scale > 0 else cos
        near = self._near_sentence(pos, sents, qvec, cos)
        sent_dense = (near - top_cos) / cfg.dense_scale if cfg.dense_scale > 0 else near
        shared = (cfg.w_coverage * coverage + cfg.w_sentence * sent_score + cfg.w_chars * chars
                  + cfg.w_year * year)
        score = shared + cfg.w_dense * dense + cfg.w_sentence_dense * sent_dense
        return _Scored(pos, score, cos, coverage, best.span if best else None, sent_score, year,
                       tuple(sents), shared + cfg.w_dense_unaided * dense)

    def _near_sentence(self, pos: int, sentences: list[SentenceScore],
                       qvec: np.ndarray | None, cos: float) -> float:
        """The model's cosine of the question and the closest of the passage's lexically best
        sentences: a long passage's vector blurs an answer that is one sentence of it, and a
        short sentence with none of the question's words is close to a short question
        whatever its subject. The passage's own cosine when the index holds no sentence
        vectors (or no question vector is given)."""
        idx = self.index
        n = self.config.sentence_dense_among
        if qvec is None or idx.sentence_vectors is None or n <= 0 or not sentences:
            return cos
        top = sorted(sentences, key=lambda x: -x.score)[:n]
        rows = [r for r in (idx.sentence_rows.get((pos, *x.span)) for x in top)
                if r is not None]
        return float((idx.sentence_vectors[rows] @ qvec).max()) if rows else cos

    def _dense_sentence(self, chunk: Chunk, sentences: tuple[SentenceScore, ...],
                        qvec: np.ndarray) -> tuple[int, int] | None:
        """The answer sentence of ``chunk`` when the question's words say little (English):
        the lexical sentence score plus the model's similarity of question and sentence."""
        # the model only re-weighs the lexically closest few: each sentence embedded costs
        sents = sorted(sentences, key=lambda x: -x.score)[: self.config.sentence_dense_top]
        if len(sents) < 2:
            return None
        cos = np.stack([self._stored_sentence_vector(chunk, a, b) for a, b in
                        (x.span for x in sents)]) @ qvec
        w = self.config.sentence_dense
        best = max(range(len(sents)), key=lambda i: sents[i].score + w * float(cos[i]))
        return sents[best].span

    def _stored_sentence_vector(self, chunk: Chunk, a: int, b: int) -> np.ndarray:
        """A sentence's vector from the index, embedded now only if it holds none."""
        idx = self.index
        row = idx.sentence_rows.get((idx.position[chunk.id], a, b))
        if row is not None and idx.sentence_vectors is not None:
            return idx.sentence_vectors[row]
        return self._sentence_vector(chunk.text[a:b])

    def _answer_span(self, passage: str, span: tuple[int, int], weights, tokenize,
                     numeric: bool, listing: bool, unit: str | None = None
                     ) -> tuple[int, int]:
        limit = self.config.answer_chars
        if listing and span[1] - span[0] < limit:
            return extend_for_list(passage, span, limit)
        return narrow_answer(passage, span, weights, tokenize, numeric, limit, unit)

    def _missing_words(self, question: str, base_tokens: list[str],
                       lexicon: list[tuple[str, tuple[str, ...]]] = ()) -> list[str]:
        """Question words the corpus never uses and no vocabulary entry accounts for.

        Single characters are too generic to count. In an English question with a
        vocabulary entry no English word counts; with none, only the content words the
        dictionary (``lexicon``) does not translate do (not why, not translated words).
        """
        keys = matched_keys(question)
        untranslated = {w for phrase, found in lexicon if not found for w in phrase.split()}
        english = is_mostly_english(question)
        out = []
        for t in dict.fromkeys(base_tokens):
            if self.index.bm25.idf(t) > 0 or len(t) < 2 or t.isdigit() or is_scaffolding(t):
                continue
            if self._inside_longer_term(t):
                continue
            if any(overlaps_key(t, k) for k in keys):
                continue
            if english and t.isascii() and (keys or t not in untranslated):
                continue
            out.append(t)
        return out

    def _english_groups(self, question: str) -> list[tuple[str, tuple[str, ...]]]:
        """English content words no vocabulary entry translates, each with the corpus words
        CC-CEDICT gives for it (none: the report has no word for it).

        Two adjacent words that form a dictionary phrase (``night market`` → 夜市), or whose
        translations joined make a word of the corpus (``zero carbon`` → 零碳), are one
        group; so is a hyphenated word. A candidate counts when every token of it occurs in
        the corpus."""
        unused = frozenset(k for k, terms in zip(matched_keys(question), key_terms(question),
                                                 strict=True)
                           if not any(self._uses(t) for t in terms))
        content = english_content_words(question, unused)
        seq = ENGLISH_WORD.findall(question.lower())
        limit = self.config.lexicon_terms

        def usable(words: tuple[str, ...]) -> tuple[str, ...]:
            ok = [w for w in words
                  if (toks := self.tokenize(w)) and all(self.index.bm25.idf(t) > 0 for t in toks)]
            return tuple(ok[:limit])

        def literal(words: tuple[str, ...]) -> tuple[str, ...]:
            return tuple([w for w in words if w in self._corpus_text][:limit])

        def spelled(word: str) -> tuple[str, ...]:
            # a Chinese name or term written in pinyin (Dayangshu, gaokao, hukou): only a
            # word no dictionary sense covers, of two syllables or more
            return self._pinyin_words.get(word, ())[:limit] if len(word) >= 5 else ()

        groups: list[tuple[str, tuple[str, ...]]] = []
        done: set[str] = set()
        for a, b in zip(seq, seq[1:], strict=False):
            if a in content and b in content and a not in done and b not in done:
                found = (usable(translations(f"{a} {b}")) or literal(compounds([a, b]))
                         or (spelled(a + b) if not (translations(a) or translations(b))
                             else ()))
                if found:
                    groups.append((f"{a} {b}", found))
                    done |= {a, b}
        for w in content:
            if w not in done:
                found = usable(translations(w))
                if not found and "-" in w.strip("-"):
                    found = literal(compounds([p for p in w.split("-") if p]))
                if not found and not translations(w):
                    found = spelled(w)
                groups.append((w, found or usable(translations(w, loose=True))))
        return groups

    @functools.cached_property
    def _pinyin_words(self) -> dict[str, tuple[str, ...]]:
        """Toneless pinyin spelling → the corpus words (two to six characters) it spells,
        the most used first."""
        bm25 = self.index.bm25
        out: dict[str, list[str]] = {}
        for word in bm25.vocabulary():
            if 2 <= len(word) <= 6 and all("\u4e00" <= c <= "\u9fff" for c in word):
                for spelling in romanisations(word):
                    out.setdefault(spelling, []).append(word)
        return {k: tuple(sorted(v, key=lambda w: (-len(bm25.passages_with(w)), w)))
                for k, v in out.items()}

    def _corpus_script(self, text: str) -> str:
        """A question typed in traditional characters (內蒙古去年糧食產量) in the corpus's
        simplified ones: a character changes only when the corpus lacks it and has its
        simplified form, so a traditional-script corpus is searched as typed."""
        have = self._corpus_chars
        if all(c in have or not "\u4e00" <= c <= "\u9fff" for c in text):
            return text  # nothing to convert: the dictionary is not even loaded
        forms = simplified_forms()
        return "".join(forms[c] if c in forms and c not in have and forms[c] in have else c
                       for c in text)

    @functools.cached_property
    def _corpus_chars(self) -> frozenset[str]:
        return frozenset(self._corpus_text)

    @functools.cached_property
    def _corpus_text(self) -> str:
        """All passages, for checking that a word made up from parts is the corpus's."""
        return "\n".join(c.text for c in self.index.chunks)

    def _evidence(self, question: str, base_tokens: list[str], missing: set[str],
                  unit: str | None, best: _Scored, chunk: Chunk, span: tuple[int, int],
                  intent: YearIntent, margin: float,
                  lexicon: list[tuple[str, tuple[str, ...]]] = (),
                  loose: dict[str, float] | None = None) -> Evidence:
        """Signals for the not-found decision (see qa.confidence)."""
        idx = self.index
        doc = idx.documents[chunk.doc_id]
        if is_mostly_english(question):
            # English words are not in a Chinese corpus: what is covered is the report terms
            # they translate to (an entry naming the report's own region says nothing);
            # content words no entry translates count as not covered
            groups = [g for g in key_terms(question) if not any(t in doc.title for t in g)]
            groups += [g for _, g in lexicon]
            found = sum(any(t in chunk.text for t in g) for g in groups)
            coverage = found / len(groups) if groups else 0.0
        else:
            coverage = self._coverage(question, base_tokens, missing, chunk, loose)
        answer = chunk.text[span[0]:span[1]]
        delivery = asks_delivery(question)
        found = delivery and answers_delivery(chunk.text, question, self._on_cover(chunk))
        report_year = doc.year
        target = intent.target_year(report_year)
        year_mismatch = year_absent = False
        if report_year is not None and target is not None:
            if target not in (report_year, report_year - 1):
                year_absent = not names_year(doc.text, target)
            else:
                year_mismatch = (sentence_year_signal(answer, chunk.year, report_year,
                                                      intent) < 0
                                 or part_for_whole(question, answer)
                                 or (target == report_year - 1
                                     and result_for_target(question, answer)))
        elif intent.period is not None:
            # 过去五年 answered by 今后五年's goals, 五年来 by this year's targets
            year_mismatch = sentence_year_signal(answer, chunk.year, report_year, intent,
                                                 chunk.text) < 0
        return Evidence(
            dense=best.dense, margin=margin, english=is_mostly_english(question),
            coverage=coverage, sentence=best.best_sentence_score,
            foreign_place=bool(foreign_places(question, report_scope(doc.title, doc.text),
                                              chunk.text)),
            year_mismatch=year_mismatch, year_absent=year_absent,
            figure_missing=(asks_figure(question) and not has_figure(answer, unit, question)
                            and not states_change(answer, question)),
            date_missing=asks_when(question) and not has_date(answer, question),
            place_missing=asks_where(question) and not has_place(answer, question),
            delivery_absent=delivery and not found,
            delivery_found=found,
        )

    def _coverage(self, question: str, base_tokens: list[str], missing: set[str],
                  chunk: Chunk, loose: dict[str, float] | None = None) -> float:
        """Share of the question's idf weight the passage covers. A question word is covered
        by itself or by a report term the vocabulary gives for it (GDP by 地区生产总值); a
        vocabulary word the corpus never uses (公积金) counts too, covered only by such a
        term, so with none in the passage it is missing. A word the report uses only inside a
        longer term (零碳 of 零碳园区) is covered where a passage holds it, a loose character
        (税, 减 of 减了) inside any word."""
        bm25 = self.index.bm25
        toks = set(self.index.stored.tokens[self.index.position[chunk.id]])
        keys = list(zip(matched_keys(question), key_terms(question), strict=True))
        loose = loose or {}
        covered = total = 0.0
        for t in dict.fromkeys(base_tokens):
            inner = t not in missing and self._inside_longer_term(t)
            w = bm25.idf(t) or (bm25.median_idf() if t in missing or inner else 0.0)
            # a loose character (税, 减 of 减了) is covered inside any word of the passage
            part = t if len(t) == 1 else phrasing_stem(t) if t in missing else None
            if part in loose:
                w = w or min(loose[part], bm25.median_idf())
            else:
                part = t if inner else None
            total += w
            if t in toks or (part is not None and part in chunk.text) or any(
                    x in chunk.text for k, terms in keys if overlaps_key(t, k) for x in terms):
                covered += w
        for key, terms in keys:
            if self._never_used(key):
                total += bm25.median_idf()
                covered += bm25.median_idf() if any(x in chunk.text for x in terms) else 0.0
        return covered / total if total else 0.0

    def _citation(self, n: int, chunk: Chunk, hit: Hit, terms: list[str],
                  answer_span: tuple[int, int] | None) -> Citation:
        keys: tuple[tuple[int, int], ...] = ()
        if answer_span:
            a, b = answer_span
            keys = tuple((a + x, a + y) for x, y in figure_spans(chunk.text[a:b]))
        return Citation(
            number=n, doc_id=chunk.doc_id, title=chunk.title, section=chunk.section_path,
            start=chunk.start, end=chunk.end, paragraph=chunk.paragraph,
            line_start=chunk.line_start, line_end=chunk.line_end, text=chunk.text,
            chunk_id=chunk.id, score=round(float(hit.score), 6), bm25_rank=hit.bm25_rank,
            dense_rank=hit.dense_rank, highlights=tuple(term_spans(chunk.text, terms)),
            answer_span=answer_span, key_spans=keys,
        )
