"""tl.Plan and tl.lr_find_suggest against fastai's formulas (the golden
values of tests/fixtures/gen_sched.py) and numpy re-derivations."""
import json
import math
import os

import numpy as np
import pytest

import tl

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests",
                        "fixtures", "sched_golden.json")
with open(FIXTURES) as f:
    LR_FIND = json.load(f)["lr_find"]


@pytest.mark.parametrize("case", LR_FIND, ids=[c["name"] for c in LR_FIND])
def test_suggestions_match_fastai(case):
    got = tl.lr_find_suggest(case["lrs"], case["losses"], int(case["opts"][2]))
    want = case["suggest"]
    assert got is not None and want is not None
    assert got["minimum"] == pytest.approx(want[0], rel=1e-14)
    assert got["steep"] == pytest.approx(want[1], rel=1e-14)
    assert got["valley"] == pytest.approx(want[2], rel=1e-14)


def test_too_few_points_give_no_suggestion():
    assert tl.lr_find_suggest([1e-3, 1e-2, 1e-1, 1, 2, 3], [1, .9, .8, .7, .6, .5], 6) is None
    with pytest.raises(tl.InvalidArgumentError, match="losses\\[1\\]"):
        tl.lr_find_suggest([1e-3] * 8, [1, float("nan")] + [1] * 6, 8)


def test_ulmfit_plan_is_stlr_times_discriminative_rates():
    p = tl.Plan.ulmfit(4, stage_steps=10, final_steps=40, lr=0.01)
    assert p.num_stages == 4 and p.total_steps == 70 and p.num_groups == 4
    np.testing.assert_array_equal(p.trainable(0), [False, False, False, True])
    np.testing.assert_array_equal(p.trainable(3), [True] * 4)
    assert p.stage_bounds(2) == (20, 10)
    assert p.stage_at(35) == (3, 5)
    stlr = tl.Schedule.stlr(0.01, total_steps=40)
    for step in range(30, 75):
        want = stlr.lr(step - 30) / 2.6 ** np.arange(3, -1, -1)
        np.testing.assert_allclose(p.lrs(step), want, rtol=1e-14)
    with pytest.raises(tl.UnsupportedError):
        p.momentum(0)


def test_ulmfit_plan_with_a_rate_per_stage():
    tops = [2e-2, 1e-2, 5e-3, 1e-3]
    p = tl.Plan.ulmfit(4, stage_steps=10, final_steps=40, stage_lrs=tops)
    for step in range(0, 70, 3):
        k = min(step // 10, 3)
        T, t = (10, step % 10) if step < 30 else (40, step - 30)
        want = tl.Schedule.stlr(tops[k], total_steps=T).lr(t) / 2.6 ** np.arange(3, -1, -1)
        np.testing.assert_allclose(p.lrs(step), want, rtol=1e-14)
    with pytest.raises(tl.InvalidArgumentError, match="n_stage_lrs"):
        tl.Plan.ulmfit(4, 10, 40, stage_lrs=tops[:3])


def test_custom_stages_and_chain_thaw():
    p = tl.Plan(3)
    p.add_stage(tl.Schedule.constant(0.1), steps=5, only_group=2)
    p.add_stage(tl.Schedule.one_cycle(0.01, total_steps=20), steps=20,
                base_lrs=[0.001, 0.005, 0.01])
    assert p.total_steps == 25
    np.testing.assert_array_equal(p.trainable(0), [False, False, True])
    oc = tl.Schedule.one_cycle(0.01, total_steps=20)
    np.testing.assert_allclose(p.lrs(12), [0.1 * oc.lr(7), 0.5 * oc.lr(7), oc.lr(7)],
                               rtol=1e-14)
    assert p.momentum(12) == oc.momentum(7)
    c = tl.Plan.chain_thaw(3, stage_steps=4, final_steps=6)
    assert [list(c.trainable(s)) for s in range(4)] == [
        [False, False, True], [True, False, False], [False, True, False],
        [True, True, True]]
    with pytest.raises(tl.InvalidArgumentError, match="base_lrs"):
        p.add_stage(tl.Schedule.constant(0.1), steps=5, base_lrs=[1, 2])
    with pytest.raises(tl.InvalidArgumentError, match="freeze_arg"):
        p.add_stage(tl.Schedule.constant(0.1), steps=5, freeze_to=-4)


def test_fine_tune_and_feature_extraction():
    p = tl.Plan.fine_tune(3, freeze_steps=10, steps=30)
    assert p.num_stages == 2
    lrs = p.lrs(10)  # first step of the unfrozen stage: slice(1e-5, 1e-3) / 5
    np.testing.assert_allclose(lrs / lrs[-1], [0.01, 0.1, 1.0], rtol=1e-12)
    assert lrs[-1] == pytest.approx(1e-3 / 5, rel=1e-12)
    f = tl.Plan.feature_extraction(3, steps=30)
    np.testing.assert_array_equal(f.trainable(0), [False, False, True])
    with pytest.raises(tl.InvalidArgumentError, match="final_steps"):
        tl.Plan.feature_extraction(3, steps=0)


def _two_group_model():
    m = tl.Model(seed=3)
    m.add_linear("a", 4, 6, activation="relu")
    m.add_linear("b", 6, 3)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = (np.arange(16) % 3).astype(np.int64)
    return m, x, y


def test_lr_find_on_a_model_restores_it():
    m, x, y = _two_group_model()
    opt = tl.Optimizer(m, "adam", lr=1e-3)
    before = m.flat_params().copy()
    state = opt.state_dict()

    def step():
        opt.zero_grad()
        loss, d = tl.cross_entropy(m.forward(x), y)
        m.backward(d, input_grad=False)
        opt.step()
        return loss

    r = tl.lr_find(opt, step, num_it=60)
    n = len(r["lrs"])
    assert 10 <= n <= 60 and len(r["losses"]) == n
    np.testing.assert_allclose(r["lrs"], 1e-7 * 1e8 ** (np.arange(n) / 60),
                               rtol=1e-13)
    assert r["valley"] is not None and 1e-7 <= r["valley"] <= 10
    np.testing.assert_array_equal(m.flat_params(), before)
    assert opt.group_lr(0) == 1e-3 and opt.group_lr(1) == 1e-3
    assert bytes(opt.state_dict()) == bytes(state)

    calls = []

    def failing():
        calls.append(1)
        if len(calls) == 3:
            raise KeyError("from the host")
        return step()

    with pytest.raises(KeyError, match="from the host"):
        tl.lr_find(opt, failing)
    np.testing.assert_array_equal(m.flat_params(), before)


def test_plan_apply_drives_the_optimizer():
    m, x, y = _two_group_model()
    opt = tl.Optimizer(m, "sgd", lr=0.1, momentum=0.9)
    p = tl.Plan.fine_tune(2, freeze_steps=3, steps=5)
    for step in range(8):
        started = p.apply(opt, step)
        assert started == (step in (0, 3))
        assert m.group_trainable(0) == (step >= 3) and m.group_trainable(1)
        np.testing.assert_array_equal([opt.group_lr(0), opt.group_lr(1)],
                                      p.lrs(step))
        opt.zero_grad()
        loss, d = tl.cross_entropy(m.forward(x), y)
        m.backward(d, input_grad=False)
        opt.step()
    with pytest.raises(tl.ShapeError, match="groups"):
        tl.Plan.ulmfit(3, 2, 2).apply(opt, 0)
