"""tl.Schedule against the golden values of tests/fixtures/gen_sched.py
(PyTorch 1.13, the ULMFiT paper, fastai's formulas), numpy re-derivations,
and, when torch is installed, a direct comparison as an extra."""
import json
import math
import os

import numpy as np
import pytest

import tl

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests",
                        "fixtures", "sched_golden.json")
MODES = ["triangular", "triangular2", "exp_range"]


def build(kind, p):
    """A Schedule from a generator case (parameter order as gen_sched.py)."""
    if kind == "stlr":
        return tl.Schedule.stlr(p[0], total_steps=int(p[1]), cut_frac=p[2],
                                ratio=p[3])
    if kind == "cyclic":
        return tl.Schedule.cyclic(p[0], p[1], step_size_up=int(p[2]),
                                  step_size_down=int(p[3]) or None,
                                  mode=MODES[int(p[4])], gamma=p[5],
                                  cycle_momentum=bool(p[6]),
                                  base_momentum=p[7], max_momentum=p[8])
    if kind == "cosine":
        return tl.Schedule.cosine(p[0], t_max=int(p[1]), eta_min=p[2])
    if kind == "restarts":
        return tl.Schedule.cosine_restarts(p[0], t_0=int(p[1]),
                                           t_mult=int(p[2]), eta_min=p[3])
    if kind == "one_cycle":
        return tl.Schedule.one_cycle(
            p[0], total_steps=int(p[1]), pct_start=p[2], div_factor=p[3],
            final_div_factor=p[4], three_phase=bool(p[5]),
            anneal=["cos", "linear"][int(p[6])], cycle_momentum=bool(p[7]),
            base_momentum=p[8], max_momentum=p[9])
    if kind == "fastai":
        return tl.Schedule.fastai_one_cycle(
            p[0], total_steps=int(p[1]), pct_start=p[2], div=p[3],
            div_final=p[4], moms=p[5:8])
    if kind == "linear":
        return tl.Schedule.linear(p[0], start_factor=p[1], end_factor=p[2],
                                  total_iters=int(p[3]))
    if kind == "constant":
        return tl.Schedule.constant(p[0], factor=p[1], total_iters=int(p[2]))
    if kind == "step":
        return tl.Schedule.step(p[0], step_size=int(p[1]), gamma=p[2])
    if kind == "exponential":
        return tl.Schedule.exponential(p[0], gamma=p[1])
    if kind == "multi_step":
        n = int(p[2])
        return tl.Schedule.multi_step(p[0], [int(m) for m in p[3:3 + n]],
                                      gamma=p[1])
    raise AssertionError(kind)


with open(FIXTURES) as f:
    CASES = json.load(f)["schedules"]


def rel_err(got, want):
    got, want = np.asarray(got), np.asarray(want)
    return np.abs(got - want) / np.maximum(np.abs(want), 1e-15)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_the_golden_values(case):
    if case["kind"] == "sequential":
        children = [build(c["kind"], c["p"]) for c in case["children"]]
        s = tl.Schedule.sequential(children, case["milestones"])
        for c in children:
            c.close()  # the sequential schedule holds copies
    else:
        s = build(case["kind"], case["p"])
    steps = np.arange(len(case["lr"]))
    assert rel_err(s.lrs(steps), case["lr"]).max() < 1e-9
    if case["mom"] is None:
        assert not s.has_momentum
        with pytest.raises(tl.UnsupportedError):
            s.momentum(0)
    else:
        assert s.has_momentum
        assert rel_err(s.momenta(steps), case["mom"]).max() < 1e-9


def test_stlr_is_the_papers_formula():
    T, cut_frac, ratio, lr_max = 400, 0.1, 32.0, 0.01
    t = np.arange(T)
    cut = math.floor(T * cut_frac)
    p = np.where(t < cut, t / cut, 1 - (t - cut) / (cut * (1 / cut_frac - 1)))
    want = lr_max * (1 + p * (ratio - 1)) / ratio
    s = tl.Schedule.stlr(lr_max, total_steps=T)
    np.testing.assert_allclose(s.lrs(t), want, rtol=1e-12)
    assert s.lr(10 ** 9) == pytest.approx(lr_max / ratio, rel=1e-15)


def test_cyclic_triangular_is_a_triangle():
    s = tl.Schedule.cyclic(0.1, 1.0, step_size_up=4, step_size_down=6)
    t = np.arange(30)
    x = t % 10
    tri = np.where(x <= 4, x / 4, (10 - x) / 6)
    np.testing.assert_allclose(s.lrs(t), 0.1 + 0.9 * tri, rtol=1e-12)
    np.testing.assert_allclose(s.momenta(t), 0.9 - 0.1 * tri, rtol=1e-12)


def test_group_lrs_are_discriminative_times_the_shape():
    s = tl.Schedule.one_cycle(0.01, total_steps=100)
    base = 0.01 / 2.6 ** np.arange(3, -1, -1)
    for step in (0, 17, 29, 64, 99, 150):
        got = s.group_lrs(base, step)
        np.testing.assert_allclose(got, base * s.lr(step) / 0.01, rtol=1e-14)
        assert got[-1] == pytest.approx(s.lr(step), rel=1e-14)
        assert s.multiplier(step) == pytest.approx(s.lr(step) / 0.01, rel=1e-14)
    with pytest.raises(tl.InvalidArgumentError, match="base_lrs\\[1\\]"):
        s.group_lrs([0.1, -1.0], 0)


def test_one_cycle_past_the_end_holds_the_last_value():
    s = tl.Schedule.one_cycle(0.01, total_steps=50)
    assert s.lr(50) == s.lr(49) == s.lr(2 ** 64 - 1)
    assert s.momentum(1000) == s.momentum(49)


def test_sequential_children_see_relative_steps_and_are_copied():
    warm = tl.Schedule.warmup(0.05, total_iters=5, start_factor=0.1)
    cos = tl.Schedule.cosine(0.05, t_max=20)
    seq = tl.Schedule.sequential([warm, cos], [5])
    want = np.concatenate([warm.lrs(range(5)), cos.lrs(range(30))])
    warm.close()
    cos.close()
    np.testing.assert_array_equal(seq.lrs(range(35)), want)
    assert seq.total_steps == 25
    assert seq.kind == "sequential"


@pytest.mark.parametrize("make, word", [
    (lambda: tl.Schedule.stlr(0.01, total_steps=0), "total_steps"),
    (lambda: tl.Schedule.stlr(0.01, total_steps=10, cut_frac=1.0), "cut_frac"),
    (lambda: tl.Schedule.stlr(0.01, total_steps=10, cut_frac=0.0), "cut_frac"),
    (lambda: tl.Schedule.stlr(0.01, total_steps=10, ratio=0.5), "ratio"),
    (lambda: tl.Schedule.stlr(-0.01, total_steps=10), "lr_max"),
    (lambda: tl.Schedule.stlr(float("nan"), total_steps=10), "lr_max"),
    (lambda: tl.Schedule.cyclic(0.1, 1.0, step_size_up=0), "step_size_up"),
    (lambda: tl.Schedule.cyclic(0.1, 1.0, step_size_up=5, mode="sawtooth"), "mode"),
    (lambda: tl.Schedule.cyclic(0.1, 1.0, step_size_up=5, step_size_down=0),
     "step_size_down"),
    (lambda: tl.Schedule.cosine(0.1, t_max=0), "t_max"),
    (lambda: tl.Schedule.cosine_restarts(0.1, t_0=0), "t_0"),
    (lambda: tl.Schedule.one_cycle(0.1, total_steps=0), "total_steps"),
    (lambda: tl.Schedule.one_cycle(0.1, total_steps=10, anneal="quadratic"), "anneal"),
    (lambda: tl.Schedule.one_cycle(0.1, total_steps=10, pct_start=1.5), "pct_start"),
    (lambda: tl.Schedule.fastai_one_cycle(0.1, total_steps=10, moms=(0.9, 0.8)), "moms"),
    (lambda: tl.Schedule.step(0.1, step_size=0), "step_size"),
    (lambda: tl.Schedule.exponential(0.1, gamma=-1.0), "gamma"),
    (lambda: tl.Schedule.multi_step(0.1, [5, 3]), "non-decreasing"),
    (lambda: tl.Schedule.multi_step(0.1, []), "n_milestones"),
    (lambda: tl.Schedule.linear(0.1, total_iters=-1), "total_iters"),
    (lambda: tl.Schedule.sequential([tl.Schedule.constant(0.1)] * 2, []), "milestones"),
    (lambda: tl.Schedule.sequential([tl.Schedule.constant(0.1)] * 2, [0]), "milestones[0]"),
])
def test_bad_arguments_raise_with_a_message(make, word):
    with pytest.raises(tl.InvalidArgumentError, match=word.replace("[", "\\[").replace("]", "\\]")):
        make()


def test_bad_steps_and_closed_handles():
    s = tl.Schedule.constant(0.1)
    with pytest.raises(tl.InvalidArgumentError, match="step"):
        s.lr(-1)
    with pytest.raises(tl.InvalidArgumentError, match="step"):
        s.lr(2 ** 64)
    with pytest.raises(tl.InvalidArgumentError, match="integer"):
        s.lr(1.5)
    with tl.Schedule.constant(0.2) as t:
        assert t.lr(3) == 0.2
    with pytest.raises(ValueError, match="closed"):
        t.lr(0)
    assert repr(t) == "<tl.Schedule closed>"


def test_overflow_is_a_numeric_error():
    s = tl.Schedule.exponential(0.01, gamma=2.0)
    assert s.lr(10) == pytest.approx(10.24)
    with pytest.raises(tl.NumericError, match="not finite"):
        s.lr(5000)


def test_against_torch_when_installed():
    """Extra: random OneCycleLR and CyclicLR settings straight from torch."""
    torch = pytest.importorskip("torch")
    from torch.optim import lr_scheduler as L
    rng = np.random.default_rng(3)
    for _ in range(5):
        T = int(rng.integers(5, 200))
        pct = float(rng.uniform(0.05, 0.5))
        three = bool(rng.integers(0, 2))
        anneal = ["cos", "linear"][int(rng.integers(0, 2))]
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
        sched = L.OneCycleLR(opt, max_lr=0.02, total_steps=T, pct_start=pct,
                             three_phase=three, anneal_strategy=anneal)
        want_lr, want_m = [], []
        for _ in range(T):
            want_lr.append(opt.param_groups[0]["lr"])
            want_m.append(opt.param_groups[0]["momentum"])
            opt.step()
            sched.step()
        s = tl.Schedule.one_cycle(0.02, total_steps=T, pct_start=pct,
                                  three_phase=three, anneal=anneal)
        assert rel_err(s.lrs(range(T)), want_lr).max() < 1e-9
        assert rel_err(s.momenta(range(T)), want_m).max() < 1e-9


def test_each_group_follows_its_own_schedule():
    scheds = [tl.Schedule.cosine(0.1, t_max=10),
              tl.Schedule.step(1.0, step_size=2, gamma=0.5),
              tl.Schedule.stlr(0.01, total_steps=100)]
    for step in (0, 3, 7, 50):
        lrs = tl.Schedule.each_group_lrs(scheds, step)
        assert lrs.dtype == np.float64 and lrs.shape == (3,)
        np.testing.assert_array_equal(lrs, [s.lr(step) for s in scheds])
    lrs = tl.Schedule.each_group_lrs(scheds, 3)
    assert lrs[0] == pytest.approx(0.05 * (1 + math.cos(math.pi * 3 / 10)),
                                   rel=1e-12)
    assert lrs[1] == 0.5  # 1.0 * 0.5 ** (3 // 2)


def test_each_group_lrs_rejects_bad_input_and_changes_nothing():
    with pytest.raises(tl.InvalidArgumentError,
                       match="tl_sched_fill_group_lrs_each: n_groups must be > 0"):
        tl.Schedule.each_group_lrs([], 0)
    with pytest.raises(tl.InvalidArgumentError, match="tl.Schedule objects"):
        tl.Schedule.each_group_lrs([tl.Schedule.constant(0.1), 0.1], 0)
    with pytest.raises(tl.InvalidArgumentError, match="step"):
        tl.Schedule.each_group_lrs([tl.Schedule.constant(0.1)], -1)
    # one overflowing group: a NumericError naming the step
    grow = tl.Schedule.exponential(0.01, gamma=2.0)
    with pytest.raises(tl.NumericError, match="step 5000 is not finite"):
        tl.Schedule.each_group_lrs([tl.Schedule.constant(0.1), grow], 5000)
    closed = tl.Schedule.constant(0.1)
    closed.close()
    with pytest.raises(ValueError, match="closed"):
        tl.Schedule.each_group_lrs([closed], 0)
