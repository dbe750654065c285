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
