'use strict';
const test = require('node:test');
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const tl = require('..');
const { ROOT, close } = require('./helpers');

// tests/plan/test_plan.c's fixture: a linear layer on a fixed batch, SGD,
// and a synthetic loss of the current rate, so the range test's record and
// suggestions can be compared with fastai's (sched_golden.json, lr_find).
const B = 8; const F = 3; const C = 2;
const GOLDEN = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests', 'fixtures', 'sched_golden.json'), 'utf8')).lr_find;

function synthLoss(lr) {
  const x = Math.log10(lr);
  return 2.0 - 1.0 / (1.0 + Math.exp(-2.0 * (x + 4.0))) + Math.exp(3.0 * (x + 0.5)) + 0.02 * Math.sin(7.0 * x);
}

function fixture() {
  const m = new tl.Model({ seed: 5 });
  m.addLinear('fc', F, C);
  const opt = new tl.Optimizer(m, { kind: 'sgd', lr: 0.05, momentum: 0.9 });
  const x = Float32Array.from({ length: B * F }, (_, i) => Math.sin(i + 1));
  const y = BigInt64Array.from({ length: B }, (_, b) => BigInt(b % C));
  const step = () => {
    const r = m.forward(x, [B, F]);
    const { loss, dlogits } = tl.crossEntropy(r.output, y, C);
    opt.zeroGrad();
    m.backward(dlogits, r.dims);
    opt.step();
    return loss;
  };
  return { m, opt, step };
}

function snapshot(f) {
  return { w: f.m.params().slice(), state: f.opt.stateSave(), lr: f.opt.lr(0), steps: f.opt.stepCount };
}

for (const g of GOLDEN) {
  test(`lrFind (${g.name}) matches fastai's LRFinder and restores the training state`, () => {
    const f = fixture();
    f.step(); // a non-trivial optimizer state
    const before = snapshot(f);
    const [startLr, endLr, numIt, beta, stopFactor] = g.opts;
    let calls = 0;
    const r = tl.lrFind(f.opt, () => { calls++; f.step(); return synthLoss(f.opt.lr(0)); },
      { startLr, endLr, numIt, beta, stopFactor });
    assert.strictEqual(r.lrs.length, g.lrs.length);
    assert.strictEqual(calls, g.lrs.length);
    assert.strictEqual(r.diverged, g.diverged);
    r.lrs.forEach((v, i) => close(v, g.lrs[i], 1e-14, 0, `lrs[${i}]`));
    r.losses.forEach((v, i) => close(v, g.losses[i], 1e-12, 0, `losses[${i}]`));
    close(r.suggestions.minimum, g.suggest[0], 1e-14);
    close(r.suggestions.steep, g.suggest[1], 1e-14);
    close(r.suggestions.valley, g.suggest[2], 1e-14);
    assert.deepStrictEqual(snapshot(f), before);
  });
}

test('a throwing JS callback never crosses the C frames: caught, a status, thrown again, state restored', () => {
  const f = fixture();
  f.step();
  const before = snapshot(f);
  let calls = 0;
  const boom = new RangeError('the data loader failed');
  assert.throws(() => tl.lrFind(f.opt, () => {
    if (++calls === 4) throw boom;
    f.step();
    return synthLoss(f.opt.lr(0));
  }, { numIt: 20 }), (e) => e === boom);
  assert.strictEqual(calls, 4);
  assert.deepStrictEqual(snapshot(f), before);
  // A callback that throws something that is not an Error, or returns no
  // number, or uses a closed object: the same path.
  assert.throws(() => tl.lrFind(f.opt, () => { throw 42; }, { numIt: 5 }), (e) => e === 42);
  assert.throws(() => tl.lrFind(f.opt, () => 'loss', { numIt: 5 }),
    (e) => e instanceof TypeError && /stepFn must return a number/.test(e.message));
  const closed = new tl.Model();
  closed.close();
  assert.throws(() => tl.lrFind(f.opt, () => closed.zeroGrad(), { numIt: 5 }), tl.ClosedError);
  assert.deepStrictEqual(snapshot(f), before);
  // Closing the optimizer from inside its own range test: the free waits
  // for tl_lr_find to return (under ASan a use after free would abort).
  const g = fixture();
  assert.throws(() => tl.lrFind(g.opt, () => { g.opt.close(); return g.step(); }, { numIt: 5 }),
    (e) => e instanceof tl.ClosedError);
  assert.strictEqual(g.opt.closed, true);
  assert.strictEqual(g.opt._state.ptr, null);
  // And the binding still works afterwards.
  const r = tl.lrFind(f.opt, () => { f.step(); return synthLoss(f.opt.lr(0)); }, { numIt: 30, startLr: 1e-5, endLr: 1, beta: 0.9 });
  assert.strictEqual(r.lrs.length, 30);
  assert.throws(() => tl.lrFind(f.opt, 'step'), /stepFn must be a function/);
  assert.throws(() => tl.lrFind(f.opt, f.step, { numIt: 5, endLr: 1e-9 }), (e) => e instanceof tl.InvalidArgumentError && /tl_lr_find/.test(e.message));
  assert.throws(() => tl.lrFind(f.opt, f.step, { iterations: 5 }), /unknown option iterations/);
});
