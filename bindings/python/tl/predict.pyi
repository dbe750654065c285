# Type stub of predict.py (include/tl/predict.h).
from typing import Optional, Sequence, Union, overload

import numpy as np
import numpy.typing as npt

from ._native import OwnedHandle
from .model import Model
from .text import Tokenizer, Vocab

class Predictor(OwnedHandle):
    encoder: Model
    head: Optional[Model]
    tokenizer: Optional[Tokenizer]
    vocab: Optional[Vocab]
    n_classes: Optional[int]
    def __init__(self, encoder: Model, head: Optional[Model], tokenizer: Optional[Tokenizer] = ..., vocab: Optional[Vocab] = ..., n_classes: Optional[int] = ..., bptt: int = ..., max_len: int = ...) -> None: ...
    def encode(self, ids: npt.ArrayLike) -> npt.NDArray[np.float32]: ...
    def predict_ids(self, ids: npt.ArrayLike) -> npt.NDArray[np.float32]: ...
    def __call__(self, texts: Union[str, bytes, Sequence[Union[str, bytes]]]) -> npt.NDArray[np.float32]: ...
