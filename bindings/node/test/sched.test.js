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
};

test('every schedule the binding builds matches its reference at every step', () => {
  let cases = 0;
  for (const g of GOLDEN) {
    if (!BUILD[g.kind]) continue;
    const s = BUILD[g.kind](g.p);
    try {
      g.lr.forEach((want, t) => close(s.lr(t), want, 1e-9, 1e-15, `${g.name} lr(${t})`));
      if (g.mom) g.mom.forEach((want, t) => close(s.momentum(t), want, 1e-9, 1e-15, `${g.name} momentum(${t})`));
      assert.strictEqual(s.hasMomentum, Boolean(g.mom), g.name);
    } finally {
      s.close();
    }
    cases++;
  }
  assert.ok(cases >= 18, `only ${cases} golden cases ran`);
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
