import importlib.util
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

import tl
from tl import checkpoint
from tl.checkpoint import OPTIM, RNG, Checkpoint

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "..", "tests", "fixtures")


def _gen_ckpt():
    """tests/fixtures/gen_ckpt.py: the independent Python writer."""
    spec = importlib.util.spec_from_file_location(
        "gen_ckpt", os.path.join(FIXTURES, "gen_ckpt.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _golden():
    gen = _gen_ckpt()
    ck = Checkpoint()
    for name, dt, shape, values in gen.TENSORS:
        ck[name] = np.reshape(np.array(values, dtype=gen.DTYPES[dt][1]), shape)
    names = [t[0] for t in gen.TENSORS]
    ck.groups = {names[i]: g for i, g in gen.GROUPS}
    ck.vocab = list(gen.VOCAB)
    ck.meta = dict(gen.META)
    ck.optim_state = gen.OPTIM
    ck.step = gen.STEP
    ck.rng_state = gen.RNG
    return ck, gen.build()


def test_bytes_match_the_independent_writer():
    ck, image = _golden()
    assert ck.to_bytes() == image


def test_round_trip_through_a_file(tmp_path):
    rng = np.random.default_rng(0)
    ck = Checkpoint()
    ck["encoder.weight"] = rng.standard_normal((7, 5)).astype(np.float32)
    ck["bias"] = rng.standard_normal(4)  # float64
    ck["ids"] = np.array([-3, 2**40], dtype=np.int64)
    ck["i32"] = np.arange(6, dtype=np.int32).reshape(1, 2, 3)
    ck["mask"] = np.array([True, False, True])  # stored as uint8
    ck["scalar"] = np.float32(2.5)
    ck["empty"] = np.zeros((0, 3), np.float32)
    ck["big_endian"] = np.arange(3, dtype=">f4")
    ck["strided"] = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]
    ck.groups = {"encoder.weight": 0, "bias": 2}
    ck.meta = {"arch": "AWD_LSTM", "note": "héllo ✓", "empty": ""}
    ck.vocab = ["xxunk", "xxpad", "the", "naïve", ""]
    ck.step = 2**40 + 3
    ck.optim_state = (2, b"\x00\x01adam")
    ck.rng_state = (1, bytes(range(32)))
    path = tmp_path / "m.tlc"
    ck.save(path)
    back = Checkpoint.load(path)
    assert list(back.keys()) == list(ck.keys())
    for name in ck:
        want = np.asarray(ck[name])
        got = back[name]
        assert got.shape == want.shape, name
        assert got.dtype == want.dtype.newbyteorder("="), name
        np.testing.assert_array_equal(got, want)
        assert got.flags.writeable
    assert back.groups == ck.groups
    assert back.meta == ck.meta
    assert back.vocab == ck.vocab
    assert back.step == ck.step
    assert back.optim_state == ck.optim_state
    assert back.rng_state == ck.rng_state
    assert back["scalar"].shape == ()
    assert back.to_bytes() == ck.to_bytes()
    assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]


def test_absent_sections_stay_absent():
    back = Checkpoint.from_bytes(Checkpoint().to_bytes())
    assert len(back) == 0
    assert back.vocab is None and back.step is None
    assert back.optim_state is None and back.rng_state is None
    assert back.meta == {} and back.groups == {}
    empty_vocab = Checkpoint(vocab=[])
    assert Checkpoint.from_bytes(empty_vocab.to_bytes()).vocab == []


def test_every_truncation_raises_format_error():
    _, image = _golden()
    for n in range(len(image)):
        with pytest.raises(tl.FormatError):
            Checkpoint.from_bytes(image[:n])


def test_every_byte_flip_is_detected():
    _, image = _golden()
    for i in range(len(image)):
        bad = bytearray(image)
        bad[i] ^= 0x10
        with pytest.raises(tl.Error) as info:
            Checkpoint.from_bytes(bytes(bad))
        # Only the format-version field gives "unsupported"; all else is
        # malformed.
        want = tl.UnsupportedError if 8 <= i < 12 else tl.FormatError
        assert isinstance(info.value, want), (i, info.value)


def test_corrupted_file_on_disk(tmp_path):
    ck, image = _golden()
    path = tmp_path / "c.tlc"
    ck.save(path)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # last byte of the RNG section
    path.write_bytes(bytes(data))
    with pytest.raises(tl.FormatError) as info:
        Checkpoint.load(path)
    assert "CRC mismatch" in str(info.value)
    assert isinstance(info.value, ValueError)
    # Without data CRCs the damaged payload loads (the header still checks).
    back = Checkpoint.load(path, verify_crc=False)
    assert back.rng_state[1][-1] == image[-1] ^ 0xFF
    path.write_bytes(bytes(data[:100]))
    with pytest.raises(tl.FormatError, match="truncated"):
        Checkpoint.load(path)
    with pytest.raises(tl.FormatError, match="max_size"):
        Checkpoint.from_bytes(image, max_size=10)


def test_io_errors_and_bad_arguments(tmp_path):
    with pytest.raises(tl.IOFailure):
        Checkpoint.load(tmp_path / "missing.tlc")
    with pytest.raises(OSError):
        Checkpoint().save(tmp_path / "no" / "dir" / "x.tlc")
    ck = Checkpoint()
    with pytest.raises(tl.InvalidArgumentError, match="dtype"):
        ck["c"] = np.zeros(2, np.complex64)
    with pytest.raises(tl.InvalidArgumentError, match="rank"):
        ck["r"] = np.zeros((1,) * 9, np.float32)
    ck["x"] = np.zeros(2, np.float32)
    ck.groups = {"nope": 1}
    with pytest.raises(tl.InvalidArgumentError, match="nope"):
        ck.to_bytes()
    ck.groups = {}
    ck.meta = {"": "v"}
    with pytest.raises(tl.InvalidArgumentError, match="key"):
        ck.to_bytes()


def test_dict_interface():
    ck = Checkpoint({"a": np.ones(2, np.float32)}, meta={"k": "v"})
    ck["b"] = np.zeros(3)
    assert "a" in ck and len(ck) == 2
    assert list(ck) == ["a", "b"]
    ck.groups["a"] = 1
    del ck["a"]
    assert "a" not in ck and ck.groups == {}
    assert "1 tensors" in repr(ck)
    assert OPTIM == 4 and RNG == 6


def _lm(seed, stateful=False):
    m = tl.Model(seed=seed)
    m.add_embedding("emb", 9, 4)
    m.add_lstm("rnn", 4, 5, num_layers=2, stateful=stateful)
    m.add_linear("out", 5, 9)
    return m


def test_model_save_and_load(tmp_path):
    a, b = _lm(1), _lm(2)
    path = tmp_path / "lm.tlc"
    a.save(path)
    assert b.load(path) == ([], [])
    for name, value in a.params().items():
        np.testing.assert_array_equal(b.params()[name], value)
    ck = Checkpoint.load(path)
    assert list(ck.keys())[0] == "emb.weight"
    assert ck.groups == {"emb.weight": 0, "rnn.weight_ih_l0": 1,
                         "rnn.weight_hh_l0": 1, "rnn.bias_ih_l0": 1,
                         "rnn.bias_hh_l0": 1, "rnn.weight_ih_l1": 1,
                         "rnn.weight_hh_l1": 1, "rnn.bias_ih_l1": 1,
                         "rnn.bias_hh_l1": 1, "out.weight": 2, "out.bias": 2}


def test_failed_model_load_changes_nothing(tmp_path):
    a, b = _lm(3), _lm(4)
    ck = Checkpoint.from_model(a, prefix="0.")
    ck["0.out.bias"] = np.zeros(10, np.float32)  # wrong shape, last tensor
    path = tmp_path / "bad.tlc"
    ck.save(path)
    before = {k: v.copy() for k, v in b.params().items()}
    with pytest.raises(tl.ShapeError, match="0.out.bias"):
        b.load(path, prefix="0.")
    with pytest.raises(tl.NotFoundError, match="strict"):
        b.load(path)  # no prefix: every name is unexpected
    for name, value in before.items():
        np.testing.assert_array_equal(b.params()[name], value)
    del ck["0.out.bias"]
    ck.save(path)
    missing, unexpected = b.load(path, prefix="0.", strict=False)
    assert missing == ["out.bias"] and unexpected == []


def test_stateful_model_carries_its_state():
    m = _lm(5, stateful=True)
    m.eval()
    m.forward(np.zeros((3, 2), np.int64))
    ck = Checkpoint.from_model(m)
    assert ck["@state.rnn"].shape == (2, 2, 2, 5)  # (h|c, layers, B, H)
    other = _lm(6, stateful=True)
    other.eval()
    ck.load_into(other)
    ids = np.arange(6).reshape(3, 2) % 9
    np.testing.assert_array_equal(other.forward(ids), m.forward(ids))


def _train(model, opt, steps):
    for step in steps:
        rng = np.random.default_rng(100 + step)  # the batch is f(step)
        ids = rng.integers(0, 9, size=(4, 3))
        targets = rng.integers(0, 9, size=12)
        opt.set_lrs([1e-2 * (step + 1) / 10] * opt.num_groups)
        opt.zero_grad()
        y = model.forward(ids)
        _, dy = tl.cross_entropy(y.reshape(12, 9), targets)
        model.backward(dy.reshape(y.shape))
        opt.step()


def _trainer(seed):
    m = tl.Model(seed=seed)
    m.add_embedding("emb", 9, 4, embed_p=0.1)
    m.add_lstm("rnn", 4, 5, num_layers=2, weight_p=0.2, hidden_p=0.1,
               output_p=0.1, stateful=True)
    m.add_linear("out", 5, 9)
    m.train()
    return m, tl.Optimizer(m, kind="adamw")


def test_training_resumes_exactly(tmp_path):
    ref_model, ref_opt = _trainer(7)
    _train(ref_model, ref_opt, range(8))

    model, opt = _trainer(7)
    _train(model, opt, range(4))
    path = tmp_path / "run.tlc"
    checkpoint.save_training(path, model, opt, step=4)
    fresh_model, fresh_opt = _trainer(123)  # other initial weights and RNG
    step = checkpoint.load_training(path, fresh_model, fresh_opt)
    assert step == 4
    _train(fresh_model, fresh_opt, range(step, 8))
    for name, value in ref_model.params().items():
        np.testing.assert_array_equal(fresh_model.params()[name], value)
    assert fresh_opt.state_dict() == ref_opt.state_dict()

    # A checkpoint that does not fit changes neither model nor optimizer.
    small = tl.Model()
    small.add_linear("l", 2, 2)
    small_opt = tl.Optimizer(small, kind="adamw")
    before = small_opt.state_dict()
    with pytest.raises(tl.FormatError):
        checkpoint.load_training(path, small, small_opt)
    assert small_opt.state_dict() == before


def test_model_save_is_one_libtl_call_with_the_same_content(tmp_path):
    m = _lm(8, stateful=True)
    m.eval()
    m.forward(np.zeros((3, 2), np.int64))  # carried LSTM state is saved too
    m.save(tmp_path / "direct.tlc")  # tl_model_save
    Checkpoint.from_model(m).save(tmp_path / "via_python.tlc")
    assert ((tmp_path / "direct.tlc").read_bytes()
            == (tmp_path / "via_python.tlc").read_bytes())
    m.save(tmp_path / "prefixed.tlc", prefix="0.")  # still supported
    assert list(Checkpoint.load(tmp_path / "prefixed.tlc"))[0] == "0.emb.weight"


def test_model_load_options_through_tl_model_load(tmp_path):
    a = tl.Model(seed=11)
    a.add_embedding("emb", 9, 4)
    a.add_linear("fc", 4, 3)
    path = tmp_path / "a.tlc"
    a.save(path)
    b = tl.Model(seed=12)
    b.add_embedding("emb", 9, 4)
    b.add_linear("head", 4, 3)
    before = {k: v.copy() for k, v in b.params().items()}
    with pytest.raises(tl.NotFoundError, match="strict"):
        b.load(path)  # head.* missing, fc.* unexpected
    for name, value in before.items():
        np.testing.assert_array_equal(b.param(name), value)
    assert b.load(path, strict=False) == (["head.weight", "head.bias"],
                                          ["fc.weight", "fc.bias"])
    np.testing.assert_array_equal(b.param("emb.weight"), a.param("emb.weight"))
    assert b.load(path, name_map={"fc.weight": "head.weight",
                                  "fc.bias": "head.bias"}) == ([], [])
    np.testing.assert_array_equal(b.param("head.weight"),
                                  a.param("fc.weight"))
    with pytest.raises(tl.IOFailure, match="cannot open"):
        b.load(tmp_path / "missing.tlc")
    with pytest.raises(tl.InvalidArgumentError, match="name_map value"):
        b.load(path, name_map={"fc.bias": 3})


def test_checkpoint_handle_functions():
    """The tl_ckpt editing calls that Checkpoint's dict API covers in Python
    (find: `in`/list order, remove: del, get_meta: .meta, clear_vocab:
    .vocab = None, clear_section: .optim_state/.rng_state = None), checked
    on a libtl handle so their declarations are exercised for real."""
    import ctypes
    from tl._native import lib
    assert [lib.tl_ckpt_dtype_size(c) for c in (1, 2, 3, 4, 5, 0, 99)] == [
        4, 8, 8, 1, 4, 0, 0]
    for code, dt in checkpoint._DTYPES.items():
        assert lib.tl_ckpt_dtype_size(code) == dt.itemsize
    ck = Checkpoint({"a": np.ones(2, np.float32), "b": np.arange(3),
                     "c": np.zeros((2, 2))}, meta={"arch": "AWD_LSTM"},
                    vocab=["xxunk", "the"])
    ck.optim_state = (2, b"\x01\x02")
    ck.rng_state = (1, b"\x03")
    index = ctypes.c_size_t()
    count = ctypes.c_size_t()
    value = ctypes.c_char_p()
    with checkpoint._Handle() as h:
        ck._fill(h)
        lib.tl_ckpt_find_tensor(ctypes.byref(index), h, b"c")
        assert index.value == 2
        lib.tl_ckpt_remove_tensor(h, 0)
        lib.tl_ckpt_tensor_count(ctypes.byref(count), h)
        lib.tl_ckpt_find_tensor(ctypes.byref(index), h, b"c")
        assert count.value == 2 and index.value == 1  # later tensors move
        with pytest.raises(tl.NotFoundError,
                           match="tl_ckpt_find_tensor: no tensor named 'a'"):
            lib.tl_ckpt_find_tensor(ctypes.byref(index), h, b"a")
        with pytest.raises(tl.InvalidArgumentError, match="index 2 out of"):
            lib.tl_ckpt_remove_tensor(h, 2)
        lib.tl_ckpt_get_meta(ctypes.byref(value), h, b"arch")
        assert value.value == b"AWD_LSTM"
        with pytest.raises(tl.NotFoundError, match="no metadata key 'x'"):
            lib.tl_ckpt_get_meta(ctypes.byref(value), h, b"x")
        lib.tl_ckpt_clear_vocab(h)
        lib.tl_ckpt_clear_section(h, OPTIM)
        with pytest.raises(tl.InvalidArgumentError, match="not an opaque"):
            lib.tl_ckpt_clear_section(h, 5)
        back = Checkpoint._from_handle(h)
    assert list(back) == ["b", "c"] and back.vocab is None
    assert back.optim_state is None and back.rng_state == (1, b"\x03")
    np.testing.assert_array_equal(back["b"], np.arange(3))


# Run in a child with a timeout: a load that blocks in open(2) on a FIFO
# would otherwise hang pytest itself instead of failing.
_FIFO_CHILD = """
import sys
sys.path.insert(0, sys.argv[1])
import tl
from tl.checkpoint import Checkpoint
fifo = sys.argv[2]
m = tl.Model()
m.add_linear("fc", 2, 2)
for load in (lambda: m.load(fifo), lambda: Checkpoint.load(fifo),
             lambda: tl.checkpoint.load_model(m, fifo)):
    try:
        load()
    except tl.IOFailure as e:
        assert "not a regular file" in str(e), str(e)
    else:
        raise SystemExit("loading a FIFO succeeded")
print("refused")
"""


def test_loading_a_fifo_fails_at_once(tmp_path):
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    pkg = os.path.join(HERE, "..")
    try:
        done = subprocess.run([sys.executable, "-c", _FIFO_CHILD, pkg,
                               str(fifo)], capture_output=True, text=True,
                              timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("Model.load on a FIFO blocked (no writer ever comes)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "refused"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_saves_keep_the_mode_of_the_file_they_replace(tmp_path):
    path = tmp_path / "m.tlc"
    m = tl.Model()
    m.add_linear("fc", 2, 2)
    old = os.umask(0o077)
    try:
        m.save(path)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        os.chmod(path, 0o640)
        os.umask(0)
        m.save(path)
        Checkpoint.load(path).save(path)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    finally:
        os.umask(old)
