# Type stub of _native.py (the loader). Public names only; the drift test
# (tests/test_stubs.py) keeps this file and the module in step.
import ctypes
from types import TracebackType
from typing import Any, Iterable, Optional, Sequence, Tuple, Type, TypeVar

_H = TypeVar("_H", bound="OwnedHandle")

status = ctypes.c_int
c_size_p: Any
c_float_p: Any
c_double_p: Any
c_int64_p: Any
lib: ctypes.CDLL
library_path: str

def register(table: Iterable[Tuple[str, Sequence[Any], Any]]) -> None: ...

class OwnedHandle:
    def close(self) -> None: ...
    def __enter__(self: _H) -> _H: ...
    def __exit__(self, *exc: object) -> None: ...
    def __del__(self) -> None: ...
