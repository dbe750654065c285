'use strict';
const test = require('node:test');
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const tl = require('..');
const { ROOT, close } = require('./helpers');

// Plans are checked against the schedule goldens of
// tests/fixtures/sched_golden.json (PyTorch / ULMFiT / fastai, gen_sched.py):
// inside a stage, group g's rate is baseLrs[g] * lr(u) / peak (or the
// schedule's own rate), u the step inside the stage.
const GOLDEN = Object.fromEntries(JSON.parse(fs.readFileSync(
  path.join(ROOT, 'tests', 'fixtures', 'sched_golden.json'), 'utf8')).schedules.map((g) => [g.name, g]));

function stlr(name) {
  const p = GOLDEN[name].p;
  return tl.Schedule.stlr({ lrMax: p[0], totalSteps: p[1], cutFrac: p[2], ratio: p[3] });
}

function fastai(name) {
  const p = GOLDEN[name].p;
  return tl.Schedule.fastaiOneCycle({ lrMax: p[0], totalSteps: p[1], pctStart: p[2], div: p[3], divFinal: p[4],
    moms: [p[5], p[6], p[7]] });
}

test('a two-stage plan: discriminative STLR, then fastai one-cycle on one group, per the goldens', () => {
  const a = stlr('stlr_uneven'); // lr_max 0.02 over 105 steps
  const b = fastai('fastai_text'); // 37 steps, with momentum
  const plan = new tl.Plan(3)
    .addStage({ steps: 105, schedule: a, freeze: 'to', freezeArg: -1, baseLrs: [0.001, 0.002, 0.004] })
    .addStage({ steps: 37, schedule: b, freeze: 'onlyGroup', freezeArg: 1, resetState: false });
  a.close(); // the plan holds copies
  b.close();
  assert.strictEqual(plan.numStages, 2);
  assert.strictEqual(plan.numGroups, 3);
  assert.strictEqual(Number(plan.totalSteps), 142);
  assert.deepStrictEqual(plan.stageBounds(1), { start: 105, steps: 37 });
  assert.deepStrictEqual(plan.stageAt(110), { stage: 1, local: 5 });
  assert.deepStrictEqual([0, 1, 2].map((g) => plan.groupTrainable(0, g)), [false, false, true]);
  assert.deepStrictEqual([0, 1, 2].map((g) => plan.groupTrainable(1, g)), [false, true, false]);
  const ga = GOLDEN.stlr_uneven.lr;
  for (let t = 0; t < 105; t++) {
    const lrs = plan.lrs(t);
    [0.001, 0.002, 0.004].forEach((base, g) => close(lrs[g], base * ga[t] / 0.02, 1e-12, 0, `lrs(${t})[${g}]`));
  }
  assert.throws(() => plan.momentum(3), tl.UnsupportedError); // STLR has none
  const gb = GOLDEN.fastai_text;
  // Past the end the last stage continues (the golden has 40 points for 37 steps).
  for (let u = 0; u < gb.lr.length; u++) {
    const lrs = plan.lrs(105 + u);
    for (let g = 0; g < 3; g++) close(lrs[g], gb.lr[u], 1e-12, 0, `lrs(${105 + u})[${g}]`);
    close(plan.momentum(105 + u), gb.mom[u], 1e-12, 0, `momentum(${105 + u})`);
  }
  plan.close();
});

test('experimental.planPreset ULMFiT: gradual unfreezing, each stage STLR as ULMFiT, rates / 2.6^k', () => {
  const plan = tl.experimental.planPreset('ulmfit', { numGroups: 3, stageSteps: 1000, finalSteps: 1000 });
  assert.strictEqual(plan.numStages, 3);
  const want = [[false, false, true], [false, true, true], [true, true, true]];
  want.forEach((w, s) => assert.deepStrictEqual([0, 1, 2].map((g) => plan.groupTrainable(s, g)), w));
  const g = GOLDEN.stlr_default; // lr_max 0.01, 1000 steps, cut_frac 0.1, ratio 32: the preset's defaults
  for (let t = 0; t < 3000; t += 7) {
    const lrs = plan.lrs(t);
    const u = t % 1000;
    for (let k = 0; k < 3; k++) close(lrs[k], g.lr[u] / 2.6 ** (2 - k), 1e-12, 0, `lrs(${t})[${k}]`);
  }
  plan.close();
});

test('experimental.planPreset ULMFiT with stageLrs: stage k peaks at stageLrs[k]', () => {
  const tops = [0.01, 0.005, 0.002];
  const plan = tl.experimental.planPreset('ulmfit', { numGroups: 3, stageSteps: 1000, finalSteps: 1000, stageLrs: tops });
  const g = GOLDEN.stlr_default; // the same STLR shape scaled from lr_max 0.01
  for (let t = 0; t < 3000; t += 11) {
    const lrs = plan.lrs(t);
    const k = Math.floor(t / 1000);
    for (let j = 0; j < 3; j++) {
      close(lrs[j], (g.lr[t % 1000] / 0.01) * tops[k] / 2.6 ** (2 - j), 1e-12, 0, `lrs(${t})[${j}]`);
    }
  }
  plan.close();
  assert.throws(() => tl.experimental.planPreset('ulmfit', { numGroups: 3, stageSteps: 5, finalSteps: 5, stageLrs: [0.01] }),
    /n_stage_lrs 1/);
});

test('experimental.planPreset: chain-thaw, fine_tune, feature extraction stages', () => {
  const ct = tl.experimental.planPreset('chainThaw', { numGroups: 3, stageSteps: 5, finalSteps: 8 });
  assert.strictEqual(ct.numStages, 4);
  const want = [[false, false, true], [true, false, false], [false, true, false], [true, true, true]];
  want.forEach((w, s) => assert.deepStrictEqual([0, 1, 2].map((g) => ct.groupTrainable(s, g)), w));
  assert.deepStrictEqual(Array.from(ct.lrs(12)), [1e-3, 1e-3, 1e-3]);
  ct.close();
  const ft = tl.experimental.planPreset('fineTune', { numGroups: 2, stageSteps: 20, finalSteps: 50 });
  assert.strictEqual(ft.numStages, 2);
  close(ft.momentum(0), 0.95, 1e-15); // fastai's moms (0.95, 0.85, 0.95)
  ft.close();
  const fe = tl.experimental.planPreset('featureExtraction', { numGroups: 2, finalSteps: 30 });
  assert.strictEqual(fe.numStages, 1);
  assert.deepStrictEqual([fe.groupTrainable(0, 0), fe.groupTrainable(0, 1)], [false, true]);
  fe.close();
});

test('Plan.apply puts freezing, rates, momentum and stage resets into an optimizer', () => {
  const m = new tl.Model({ seed: 1 });
  m.addLinear('a', 3, 4);
  m.addLinear('b', 4, 2);
  const opt = new tl.Optimizer(m, { kind: 'sgd', lr: 0.1, momentum: 0.9 });
  const plan = tl.experimental.planPreset('fineTune', { numGroups: 2, stageSteps: 4, finalSteps: 6 });
  const x = new Float32Array(6).fill(0.5);
  for (let step = 0; step < 10; step++) {
    assert.strictEqual(plan.apply(opt, step), step === 0 || step === 4, `stage started at ${step}`);
    assert.strictEqual(Number(opt.stepCount), step < 4 ? step : step - 4); // state reset at stage 1
    assert.deepStrictEqual([m.groupTrainable(0), m.groupTrainable(1)], [step >= 4, true]);
    const lrs = plan.lrs(step);
    for (let g = 0; g < 2; g++) {
      assert.strictEqual(opt.lr(g), lrs[g]);
      assert.strictEqual(opt.hparam(g, 'momentum'), plan.momentum(step));
    }
    const { dims } = m.forward(x, [2, 3]);
    opt.zeroGrad();
    m.backward(new Float32Array(4).fill(0.1), dims);
    opt.step();
  }
  assert.strictEqual(plan.apply(opt, 7), false); // resuming mid-stage keeps the state
  assert.strictEqual(Number(opt.stepCount), 6);
  const three = tl.experimental.planPreset('ulmfit', { numGroups: 3, stageSteps: 4, finalSteps: 6 });
  assert.throws(() => three.apply(opt, 0), (e) => e instanceof tl.ShapeError && /tl_plan_apply/.test(e.message));
  three.close();
  plan.close();
  opt.close();
  m.close();
});

test('bad input: stages, presets, steps, closed handles', () => {
  const s = tl.Schedule.constant({ lr: 0.1 });
  const plan = new tl.Plan(2);
  assert.throws(() => new tl.Plan(0), (e) => e instanceof tl.InvalidArgumentError && /tl_plan_create/.test(e.message));
  assert.throws(() => new tl.Plan(-1), /Plan: numGroups must be a non-negative integer/);
  assert.throws(() => plan.lrs(0), (e) => e instanceof tl.StateError && /tl_plan_lrs/.test(e.message)); // no stage
  assert.throws(() => plan.addStage({ steps: 0, schedule: s }), /tl_plan_add_stage.*steps/);
  assert.throws(() => plan.addStage({ steps: 5 }), /tl_plan_add_stage/); // no schedule
  assert.throws(() => plan.addStage({ steps: 5, schedule: {} }), /Plan.addStage: schedule must be a Schedule/);
  assert.throws(() => plan.addStage({ steps: 5, sched: s }), /unknown option sched/);
  assert.throws(() => plan.addStage({ steps: 5, schedule: s, baseLrs: [0.1] }), /baseLrs has 1 elements, expected 2/);
  assert.throws(() => plan.addStage({ steps: 5, schedule: s, baseLrs: [0.1, -1] }), /tl_plan_add_stage/);
  assert.throws(() => plan.addStage({ steps: 5, schedule: s, freeze: 'only' }), /freeze must be 'to' or 'onlyGroup'/);
  assert.throws(() => plan.addStage({ steps: 5, schedule: s, freeze: 'onlyGroup', freezeArg: 2 }), /tl_plan_add_stage/);
  assert.throws(() => plan.addStage({ steps: -5, schedule: s }), /steps must be a non-negative integer/);
  assert.throws(() => plan.addStage({ steps: 5, schedule: s, stepz: 1 }), /unknown option stepz/);
  assert.throws(() => plan.addStage(null), /stage must be an object/);
  assert.strictEqual(plan.numStages, 0); // nothing was added by a failed call
  plan.addStage({ steps: 5, schedule: s });
  assert.throws(() => plan.stageBounds(1), /tl_plan_stage_bounds/);
  assert.throws(() => plan.groupTrainable(0, 2), /tl_plan_group_trainable/);
  assert.throws(() => plan.lrs(-1), /Plan.lrs: step must be a non-negative integer/);
  assert.throws(() => plan.apply({}, 0), /Plan.apply: optimizer must be an Optimizer/);
  s.close();
  assert.throws(() => plan.addStage({ steps: 5, schedule: s }), tl.ClosedError);
  plan.close();
  assert.throws(() => plan.lrs(0), (e) => e instanceof tl.ClosedError && /plan is closed/.test(e.message));
  assert.throws(() => tl.experimental.planPreset('gradual', { numGroups: 2 }), /preset must be one of 'ulmfit'/);
  assert.throws(() => tl.experimental.planPreset('ulmfit', { numGroups: 0, stageSteps: 1, finalSteps: 1 }),
    (e) => e instanceof tl.InvalidArgumentError && /tl_plan_preset_create/.test(e.message));
  assert.throws(() => tl.experimental.planPreset('ulmfit', { numGroups: 2, stageSteps: 1, finalSteps: 1, lrr: 1 }),
    /experimental.planPreset: unknown option lrr/);
  assert.throws(() => { tl.experimental.foo = 1; }, TypeError); // frozen namespace (strict mode)
});
