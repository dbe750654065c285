# Type stub of arch.py (include/tl/arch.h).
from os import PathLike
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from .model import Model
from .text import Vocab

_Path = Union[str, bytes, "PathLike[str]"]

AWD_LSTM_LM_CONFIG: Dict[str, Union[int, float]]
AWD_LSTM_CLAS_CONFIG: Dict[str, Union[int, float]]

def awd_lstm_lm(vocab_size: int, drop_mult: float = ..., config: Optional[Mapping[str, Any]] = ..., seed: int = ...) -> Tuple[Model, Model]: ...
def awd_lstm_encoder(vocab_size: int, drop_mult: float = ..., config: Optional[Mapping[str, Any]] = ..., seed: int = ...) -> Model: ...
def save_encoder(encoder: Model, vocab: Vocab, path: _Path) -> None: ...
def load_encoder(encoder: Model, vocab: Vocab, path: _Path) -> npt.NDArray[np.uint8]: ...
def save_models(path: _Path, models: Sequence[Model], prefixes: Optional[Sequence[str]] = ...) -> None: ...
def load_models(path: _Path) -> Dict[str, Model]: ...
