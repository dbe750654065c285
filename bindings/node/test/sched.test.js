'use strict';
const test = require('node:test');
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const tl = require('..');
const { ROOT, close } = require('./helpers');

// tests/fixtures/sched_golden.json: PyTorch's schedulers and the ULMFiT /
// fastai formulas, per step (gen_sched.py).
const GOLDEN = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests', 'fixtures', 'sched_golden.json'), 'utf8')).schedules;

// The parameter vector p of each kind, as tests/sched reads it.
const BUILD = {
  stlr: (p) => tl.Schedule.stlr({ lrMax: p[0], totalSteps: p[1], cutFrac: p[2], ratio: p[3] }),
  cosine: (p) => tl.Schedule.cosine({ baseLr: p[0], tMax: p[1], etaMin: p[2] }),
  one_cycle: (p) => tl.Schedule.oneCycle({ maxLr: p[0], totalSteps: p[1], pctStart: p[2], divFactor: p[3],
    finalDivFactor: p[4], threePhase: p[5] !== 0, anneal: p[6] === 0 ? 'cos' : 'linear',
    cycleMomentum: p[7] !== 0, baseMomentum: p[8], maxMomentum: p[9] }),
  fastai: (p) => tl.Schedule.fastaiOneCycle({ lrMax: p[0], totalSteps: p[1], pctStart: p[2], div: p[3],
    divFinal: p[4], moms: [p[5], p[6], p[7]] }),
  linear: (p) => tl.Schedule.linear({ baseLr: p[0], startFactor: p[1], endFactor: p[2], totalIters: p[3] }),
  constant: (p) => tl.Schedule.constant({ lr: p[0], factor: p[1], totalIters: p[2] }),
  step: (p) => tl.Schedule.step({ baseLr: p[0], stepSize: p[1], gamma: p[2] }),
  exponential: (p) => tl.Schedule.exponential({ baseLr: p[0], gamma: p[1] }),
  cyclic: (p) => tl.Schedule.cyclic({ baseLr: p[0], maxLr: p[1], stepSizeUp: p[2], stepSizeDown: p[3],
    mode: ['triangular', 'triangular2', 'expRange'][p[4]], gamma: p[5], cycleMomentum: p[6] !== 0,
    baseMomentum: p[7], maxMomentum: p[8] }),
  restarts: (p) => tl.Schedule.cosineRestarts({ baseLr: p[0], t0: p[1], tMult: p[2], etaMin: p[3] }),
  multi_step: (p) => tl.Schedule.multiStep({ baseLr: p[0], gamma: p[1], milestones: p.slice(3, 3 + p[2]) }),
  // The children are closed at once: the sequential schedule holds copies.
  sequential: (p, g) => {
    const kids = g.children.map((k) => BUILD[k.kind](k.p));
    try {
      return tl.Schedule.sequential(kids, g.milestones);
    } finally {
      kids.forEach((k) => k.close());
    }
  },
};

test('every schedule the binding builds matches its reference at every step', () => {
  let cases = 0;
  for (const g of GOLDEN) {
    const s = BUILD[g.kind](g.p, g);
    try {
      g.lr.forEach((want, t) => close(s.lr(t), want, 1e-9, 1e-15, `${g.name} lr(${t})`));
      if (g.mom) g.mom.forEach((want, t) => close(s.momentum(t), want, 1e-9, 1e-15, `${g.name} momentum(${t})`));
      assert.strictEqual(s.hasMomentum, Boolean(g.mom), g.name);
    } finally {
      s.close();
    }
    cases++;
  }
  assert.strictEqual(cases, GOLDEN.length); // every kind in the file is wrapped
  assert.ok(cases >= 27, `only ${cases} golden cases ran`);
});

test('STLR: ULMFiT peak at cut, lowest rate lr_max / ratio, kind and length', () => {
  const s = tl.Schedule.stlr({ lrMax: 0.01, totalSteps: 100 });
  assert.strictEqual(s.kind, 'stlr');
  assert.strictEqual(s.totalSteps, 100);
  close(s.lr(10), 0.01, 1e-15); // cut = floor(0.1 * 100)
  close(s.lr(0), 0.01 / 32, 1e-15);
  close(s.lr(5), 0.01 * (1 + 0.5 * 31) / 32, 1e-15);
  close(s.multiplier(10), 1, 1e-15);
  const g = s.groupLrs([0.001, 0.01], 10);
  assert.ok(g instanceof Float64Array);
  close(g[0], 0.001, 1e-15);
  close(g[1], 0.01, 1e-15);
  assert.throws(() => s.momentum(0), (e) => e instanceof tl.UnsupportedError && /tl_sched_momentum/.test(e.message));
  s.close();
});

test('discriminative rates: lrsFactor, lrsSlice, lrsEven', () => {
  const f = tl.lrsFactor(3, 0.01);
  close(f[2], 0.01, 1e-15);
  close(f[1], 0.01 / 2.6, 1e-15);
  close(f[0], 0.01 / 2.6 / 2.6, 1e-15);
  assert.deepStrictEqual(Array.from(tl.lrsSlice(3, 0.01)), [0.001, 0.001, 0.01]);
  const e = tl.lrsEven(3, 1e-4, 1e-2);
  close(e[1], 1e-3, 1e-15);
});

test('bad input: unknown options, wrong types, rules broken, use after close', () => {
  assert.throws(() => tl.Schedule.stlr({ totalSteps: 0 }),
    (e) => e instanceof tl.InvalidArgumentError && /tl_sched_stlr_create/.test(e.message));
  assert.throws(() => tl.Schedule.stlr({ totalStep: 10 }), /Schedule.stlr: unknown option totalStep/);
  assert.throws(() => tl.Schedule.stlr({ totalSteps: -5 }), tl.InvalidArgumentError);
  assert.throws(() => tl.Schedule.stlr({ lrMax: '0.1', totalSteps: 5 }), /lrMax must be a number/);
  assert.throws(() => tl.Schedule.fastaiOneCycle({ totalSteps: 5, moms: [1, 2] }), /moms has 2 elements, expected 3/);
  assert.throws(() => new tl.Schedule(), tl.InvalidArgumentError);
  const s = tl.Schedule.cosine({ tMax: 10 });
  assert.throws(() => s.lr(-1), /Schedule.lr: step must be a non-negative integer/);
  assert.throws(() => s.lr(1.5), tl.InvalidArgumentError);
  s.close();
  s.close(); // idempotent
  assert.throws(() => s.lr(1), (e) => e instanceof tl.ClosedError && e instanceof tl.StateError && /schedule is closed/.test(e.message));
});

test('cyclic, cosine restarts, multi-step, sequential: kinds, lengths, restarts land exactly', () => {
  const cy = tl.Schedule.cyclic({ baseLr: 0.001, maxLr: 0.006, stepSizeUp: 4 });
  assert.strictEqual(cy.kind, 'cyclic');
  assert.ok(cy.hasMomentum);
  close(cy.lr(4), 0.006, 1e-15); // the top of the triangle
  close(cy.momentum(4), 0.8, 1e-15); // momentum cycles inversely
  close(cy.lr(8), 0.001, 1e-15);
  const re = tl.Schedule.cosineRestarts({ baseLr: 0.02, t0: 10, tMult: 2 });
  assert.strictEqual(re.kind, 'cosineRestarts');
  close(re.lr(10), 0.02, 1e-15); // first restart
  close(re.lr(30), 0.02, 1e-15); // second restart: 10 + 20
  const ms = tl.Schedule.multiStep({ baseLr: 1, gamma: 0.5, milestones: [2, 2n, 5] });
  assert.strictEqual(ms.kind, 'multiStep');
  assert.deepStrictEqual([0, 1, 2, 4, 5].map((t) => ms.lr(t)), [1, 1, 0.25, 0.25, 0.125]); // a repeated milestone applies gamma twice
  const warm = tl.Schedule.linear({ baseLr: 0.1, startFactor: 0.5, endFactor: 1, totalIters: 4 });
  const seq = tl.Schedule.sequential([warm, cy], [4]);
  warm.close(); // the sequential schedule holds a copy
  assert.strictEqual(seq.kind, 'sequential');
  close(seq.lr(0), 0.05, 1e-15);
  close(seq.lr(4), 0.001, 1e-15); // cyclic from its own step 0
  close(seq.momentum(8), 0.8, 1e-15); // the active child's momentum
  assert.throws(() => seq.momentum(0), tl.UnsupportedError); // linear has none
  const one = tl.Schedule.sequential([ms]);
  assert.strictEqual(one.lr(5), 0.125);
  [cy, re, ms, seq, one].forEach((s) => s.close());
});

test('bad input: cyclic mode, milestones, sequential children and milestones', () => {
  assert.throws(() => tl.Schedule.cyclic({ mode: 'exp_range' }), /Schedule.cyclic: mode must be 'triangular', 'triangular2' or 'expRange'/);
  assert.throws(() => tl.Schedule.cyclic({ stepSizeUp: 0 }),
    (e) => e instanceof tl.InvalidArgumentError && /tl_sched_cyclic_create/.test(e.message) && /step_size_up/.test(e.message));
  assert.throws(() => tl.Schedule.cyclic({ stepSizeDown: -1 }), /Schedule.cyclic: stepSizeDown must be a non-negative integer/);
  assert.throws(() => tl.Schedule.cosineRestarts({ t0: 0 }), (e) => e instanceof tl.InvalidArgumentError && /tl_sched_cosine_restarts_create/.test(e.message));
  assert.throws(() => tl.Schedule.cosineRestarts({ t0: 5, tMult: 0 }), /tl_sched_cosine_restarts_create.*t_mult/);
  assert.throws(() => tl.Schedule.cosineRestarts({ tZero: 5 }), /Schedule.cosineRestarts: unknown option tZero/);
  assert.throws(() => tl.Schedule.multiStep({}), (e) => e instanceof tl.InvalidArgumentError && /tl_sched_multi_step_create/.test(e.message));
  assert.throws(() => tl.Schedule.multiStep({ milestones: [3, 1] }), /tl_sched_multi_step_create.*milestones/);
  assert.throws(() => tl.Schedule.multiStep({ milestones: [1, -2] }), /Schedule.multiStep: milestones\[1\] must be a non-negative integer/);
  assert.throws(() => tl.Schedule.multiStep({ milestones: new Float64Array([1]) }), /milestones must be an Array of steps or a BigUint64Array/);
  assert.throws(() => tl.Schedule.multiStep({ milestones: [1], nMilestones: 1000 }), /unknown option nMilestones/);
  const a = tl.Schedule.constant({ lr: 0.1 });
  const b = tl.Schedule.exponential({ baseLr: 0.1, gamma: 0.9 });
  assert.throws(() => tl.Schedule.sequential([]), /Schedule.sequential: schedules is empty/);
  assert.throws(() => tl.Schedule.sequential(a), /schedules must be an Array of Schedule/);
  assert.throws(() => tl.Schedule.sequential([a, {}], [1]), /schedules\[1\] must be a Schedule/);
  assert.throws(() => tl.Schedule.sequential([a, b]), /milestones has 0 elements, expected 1/);
  assert.throws(() => tl.Schedule.sequential([a, b, a], [4, 4]),
    (e) => e instanceof tl.InvalidArgumentError && /tl_sched_sequential_create/.test(e.message));
  assert.throws(() => tl.Schedule.sequential([a, b], [0]), /tl_sched_sequential_create/);
  b.close();
  assert.throws(() => tl.Schedule.sequential([a, b], [3]), tl.ClosedError);
  a.close();
});
