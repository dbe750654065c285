"""Every class that owns a libtl handle follows one lifetime pattern
(tl._native.OwnedHandle): close() frees once, a closed object raises
tl.ClosedError (a tl.StateError and a ValueError), the context manager
closes, and an instance can be passed to libtl where its handle goes."""
import ctypes
import gc

import numpy as np
import pytest

import tl
from tl import _native, checkpoint


def _model():
    m = tl.Model(seed=1)
    m.add_linear("fc", 3, 2)
    return m


MAKERS = {
    "model": _model,
    "optimizer": lambda: tl.Optimizer(_model(), "adam", lr=0.1),
    "schedule": lambda: tl.Schedule.constant(0.1),
    "plan": lambda: tl.Plan(2),
}


def test_every_handle_class_is_an_owned_handle():
    for cls in (tl.Model, tl.Optimizer, tl.Schedule, tl.Plan,
                checkpoint._Handle):
        assert issubclass(cls, _native.OwnedHandle), cls
        assert cls._free and cls._free.startswith("tl_"), cls


@pytest.mark.parametrize("what", sorted(MAKERS))
def test_close_frees_once_and_then_refuses(what):
    obj = MAKERS[what]()
    assert obj._live()
    obj.close()
    obj.close()  # a second close is a no-op
    with pytest.raises(tl.ClosedError, match="the %s is closed" % what):
        obj._live()
    assert issubclass(tl.ClosedError, tl.StateError)
    assert issubclass(tl.ClosedError, ValueError)


@pytest.mark.parametrize("what", sorted(MAKERS))
def test_the_context_manager_closes(what):
    with MAKERS[what]() as obj:
        assert obj._live()
    assert not obj._handle
    with pytest.raises(tl.ClosedError):
        obj._live()


def test_an_instance_is_passed_as_its_handle():
    m = _model()
    n = ctypes.c_size_t()
    _native.lib.tl_model_num_layers(ctypes.byref(n), m)
    assert n.value == 1
    m.close()
    # ctypes wraps the binding's error in its own ArgumentError here.
    with pytest.raises(ctypes.ArgumentError, match="the model is closed"):
        _native.lib.tl_model_num_layers(ctypes.byref(n), m)


def test_a_closed_model_waits_for_its_views():
    m = _model()
    view = m.flat_params()
    before = view.copy()
    m.close()  # a view is alive: marked closed, memory kept
    assert m._handle
    with pytest.raises(tl.ClosedError):
        m.num_groups
    np.testing.assert_array_equal(view, before)  # still readable
    del view
    gc.collect()
    m.close()  # no view left: freed now
    assert not m._handle
