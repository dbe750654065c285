import re

import numpy as np
import pytest

import tl


def test_version_matches_the_library():
    assert re.fullmatch(r"\d+\.\d+\.\d+", tl.__version__)
    major, minor, patch = (int(x) for x in tl.__version__.split("."))
    assert tl.version_number == major * 10000 + minor * 100 + patch


def test_status_names():
    assert tl.status_string(tl.Status.SHAPE) == "TL_E_SHAPE"
    assert tl.status_string(0) == "TL_OK"
    assert tl.status_string(-999) == "TL_E_UNKNOWN"


def test_invalid_argument_raises_a_value_error_with_the_message():
    with pytest.raises(tl.InvalidArgumentError) as info:
        tl.set_num_threads(0)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, tl.Error)
    assert info.value.status == tl.Status.INVALID_ARG
    assert "n must be >= 1" in str(info.value)
    assert info.value.function == "tl_set_num_threads"


def test_threads_round_trip():
    tl.set_num_threads(2)
    assert tl.get_num_threads() == 2
    tl.set_num_threads(1)
    assert tl.get_num_threads() == 1


def test_every_status_has_an_exception_class():
    from tl._errors import _BY_STATUS
    for status in tl.Status:
        if status != tl.Status.OK:
            assert _BY_STATUS[status].status == status


def test_missing_symbol_is_a_clear_import_error():
    from tl import _native
    with pytest.raises(ImportError, match="tl_no_such_function"):
        _native.register([("tl_no_such_function", [], None)])


def test_integers_that_ctypes_would_wrap_are_refused():
    # ctypes silently turns 2**64 - 1 into a C long -1 and -1 into SIZE_MAX;
    # the binding refuses both before calling libtl.
    m = tl.Model(seed=0)
    m.add_linear("a", 2, 2)
    m.add_linear("b", 2, 2)
    with pytest.raises(tl.InvalidArgumentError, match=r"freeze_to: n must be in"):
        m.freeze_to(2**64 - 1)
    with pytest.raises(ValueError, match=r"in_features must be >= 0 \(got -1\)"):
        m.add_linear("c", -1, 2)
    assert m.layer_names() == ["a", "b"]
    with pytest.raises(tl.ShapeError, match="at most 4 dimensions"):
        m.forward(np.zeros((1, 1, 1, 1, 2), dtype=np.float32))
