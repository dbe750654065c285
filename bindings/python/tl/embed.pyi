# Type stub of embed.py (include/tl/embed.h).
from typing import Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

def sgns_train(docs: Union[npt.ArrayLike, Sequence[npt.ArrayLike]], vocab_size: int, dim: int = ..., window: int = ..., negative: int = ..., sample: float = ..., alpha: float = ..., min_alpha_ratio: float = ..., ns_exponent: float = ..., min_count: int = ..., epochs: int = ..., n_threads: int = ..., seed: int = ..., counts: Optional[npt.ArrayLike] = ..., out: Optional[npt.NDArray[np.float32]] = ...) -> npt.NDArray[np.float32]: ...
