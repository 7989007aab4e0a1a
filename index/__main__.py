"""``python -m index build|add|remove``: build and maintain index folders."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from corpus.readers import BUILTIN_DIR
from corpus.types import ChunkConfig, CorpusError
from index.config import IndexConfig, default_index_dir, default_model


def _summary(manifest: dict, out: Path, seconds: float) -> str:
    c = manifest["counts"]
    t = manifest["timings"]
    return (f"index written to {out}: {c['documents']} document(s), {c['chunks']} passages, "
            f"model {manifest['model']}; {seconds:.1f}s total ({t['embedded']} embedded, "
            f"{t['reused']} reused)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m index", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build an index from files or folders")
    b.add_argument("--corpus", nargs="+", metavar="PATH",
                   help="txt/md/jsonl/pdf/docx files or folders (default: the built-in report)")
    b.add_argument("--out", type=Path, help="index folder (default: the built-in index)")
    b.add_argument("--model", default=None, help="sentence-transformers model name or folder")
    b.add_argument("--max-chars", type=int, default=ChunkConfig().max_chars)
    a = sub.add_parser("add", help="add or replace documents in an index")
    a.add_argument("--index", type=Path, required=True)
    a.add_argument("paths", nargs="+")
    r = sub.add_parser("remove", help="remove documents (by id) from an index")
    r.add_argument("--index", type=Path, required=True)
    r.add_argument("doc_ids", nargs="+")
    args = p.parse_args(argv)

    from index.build import add_documents, build_from_paths, remove_documents
    from index.store import IndexLoadError

    t0 = time.perf_counter()
    try:
        if args.cmd == "build":
            config = IndexConfig(model=args.model or default_model(),
                                 chunk=ChunkConfig(max_chars=args.max_chars))
            out = args.out or default_index_dir()
            manifest = build_from_paths(args.corpus or [BUILTIN_DIR], out, config)
        elif args.cmd == "add":
            out = args.index
            manifest = add_documents(out, args.paths)
        else:
            out = args.index
            manifest = remove_documents(out, args.doc_ids)
    except (CorpusError, IndexLoadError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(_summary(manifest, out, time.perf_counter() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
