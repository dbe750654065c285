'use strict';
const test = require('node:test');
const assert = require('assert');
const tl = require('..');
const { golden, close } = require('./helpers');

// tests/fixtures/optim_golden.h (gen_optim.py): torch.optim on two linear
// layers a: Linear(3, 4) (group 0) and b: Linear(4, 2) (group 1), 5 steps
// with given gradients, the flat parameters after every step.
const G = golden('optim_golden.h');
const N = 26;

function twoLayers() {
  const m = new tl.Model();
  m.addLinear('a', 3, 4);
  m.addLinear('b', 4, 2);
  return m;
}

const CASES = {
  sgd: { kind: 'sgd', lr: [0.1, 0.05] },
  sgd_mom_wd: { kind: 'sgd', lr: [0.1, 0.05], momentum: 0.9, weightDecay: 0.01 },
  sgd_nesterov: { kind: 'sgd', lr: [0.1, 0.05], momentum: 0.9, nesterov: true, weightDecay: 0.01 },
  adam: { kind: 'adam', lr: [1e-2, 3e-3], momentum: 0.9, beta2: 0.99, eps: 1e-5, weightDecay: 0.01 },
  adamw: { kind: 'adamw', lr: [1e-2, 3e-3], momentum: 0.9, beta2: 0.99, eps: 1e-5, weightDecay: 0.1 },
  adam_frozen: { kind: 'adam', lr: [1e-2, 3e-3], momentum: 0.9, beta2: 0.99, eps: 1e-5, weightDecay: 0.01, frozen: true },
  adam_masked: { kind: 'adam', lr: [1e-2, 3e-3], momentum: 0.9, beta2: 0.99, eps: 1e-5, weightDecay: 0.01, masked: true },
  sgd_clip: { kind: 'sgd', lr: [0.1, 0.05], momentum: 0.9, clip: 0.5 },
};

for (const [name, cfg] of Object.entries(CASES)) {
  test(`optimizer ${name} matches torch.optim for 5 steps (parameters and gradients through the zero-copy views)`, () => {
    const m = twoLayers();
    const { kind, lr, frozen, masked, clip, ...rest } = cfg;
    const opt = new tl.Optimizer(m, { kind, lr: lr[0], ...rest });
    opt.setLr(1, lr[1]);
    assert.strictEqual(opt.lr(1), lr[1]);
    if (frozen) m.freeze();
    if (masked) m.setParamMask('a.weight', new Uint8Array(G.optim_mask));
    const w = m.params();
    const g = m.grads();
    assert.strictEqual(w.length, N);
    w.set(G.optim_p0);
    for (let t = 0; t < 5; t++) {
      g.set(G.optim_grads.slice(t * N, (t + 1) * N));
      if (clip) close(opt.clipGradNorm(clip), G.optim_sgd_clip_norms[t], 1e-6, 1e-12, `norm ${t}`);
      opt.step();
      for (let i = 0; i < N; i++) {
        close(w[i], G[`optim_${name}_f32`][t * N + i], 1e-5, 1e-2, `step ${t} w[${i}] vs float32 torch`);
        close(w[i], G[`optim_${name}_f64`][t * N + i], 1e-6, 1e-1, `step ${t} w[${i}] vs float64 torch`);
      }
    }
    assert.strictEqual(opt.stepCount, 5);
    // The per-parameter views see the same memory.
    assert.deepStrictEqual(Array.from(m.param('b.bias')), Array.from(w.subarray(24, 26)));
    assert.deepStrictEqual(Array.from(m.getParam('a.weight')), Array.from(w.subarray(0, 12)));
    opt.close();
    m.close();
  });
}

test('optimizer state round trip: continuing from saved state is bit-identical', () => {
  const run = (restoreAt) => {
    const m = twoLayers();
    const opt = new tl.Optimizer(m, { kind: 'adamw', lr: 1e-2 });
    const w = m.params();
    const g = m.grads();
    w.set(G.optim_p0);
    let saved = null;
    for (let t = 0; t < 5; t++) {
      if (t === restoreAt) {
        saved = { state: opt.stateSave(), w: w.slice() };
        opt.resetState();
        w.fill(0);
        opt.stateLoad(saved.state);
        w.set(saved.w);
      }
      g.set(G.optim_grads.slice(t * N, (t + 1) * N));
      opt.step();
    }
    return w.slice();
  };
  assert.deepStrictEqual(run(3), run(-1));
});

test('groups, hyperparameters and freezing through the optimizer', () => {
  const a = twoLayers();
  const head = new tl.Model();
  head.addLinear('h', 2, 2);
  const opt = new tl.Optimizer([a, head], { kind: 'sgd', lr: 0.1, momentum: 0.5 });
  assert.strictEqual(opt.numGroups, 3);
  opt.setLrs(tl.lrsFactor(3, 0.01));
  close(opt.lr(0), 0.01 / 2.6 / 2.6, 1e-15);
  assert.strictEqual(opt.hparam(2, 'momentum'), 0.5);
  opt.setHparam(2, 'weightDecay', 0.25);
  assert.strictEqual(opt.hparam(2, 'weightDecay'), 0.25);
  opt.freezeTo(-1);
  assert.deepStrictEqual([a.groupTrainable(0), a.groupTrainable(1), head.groupTrainable(0)], [false, false, true]);
  opt.freezeTo(0);
  assert.strictEqual(a.groupTrainable(0), true);
  // Bad input: clear exceptions naming the function and the argument.
  assert.throws(() => opt.setLrs([0.1, 0.2]), (e) => e instanceof tl.ShapeError && /tl_optim_set_lrs/.test(e.message));
  assert.throws(() => opt.setLrs(new Float32Array(3)), /lrs must be a Float64Array/);
  assert.throws(() => opt.setLr(7, 0.1), (e) => e instanceof tl.InvalidArgumentError && /tl_optim_set_group_hparam/.test(e.message));
  assert.throws(() => opt.setLr(0, -1), tl.InvalidArgumentError);
  assert.throws(() => opt.hparam(0, 'beta3'), /which must be one of/);
  assert.throws(() => opt.stateLoad(new Uint8Array(3)), tl.Error);
  assert.throws(() => new tl.Optimizer([a, a]), (e) => e instanceof tl.Error && /tl_optim_create/.test(e.message));
  assert.throws(() => new tl.Optimizer([]), /at least one Model/);
  assert.throws(() => new tl.Optimizer([a, {}]), /models\[1\] must be a Model/);
  assert.throws(() => new tl.Optimizer(a, { kind: 'rmsprop' }), /kind must be one of sgd, adam, adamw/);
  assert.throws(() => new tl.Optimizer(a, { learningRate: 1 }), /unknown option learningRate/);
  opt.close();
  assert.throws(() => opt.step(), (e) => e instanceof tl.ClosedError && /Optimizer.step: the optimizer is closed/.test(e.message));
  head.close();
  assert.throws(() => new tl.Optimizer(head), tl.ClosedError);
  a.close();
});
