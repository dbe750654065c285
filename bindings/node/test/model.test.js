'use strict';
const test = require('node:test');
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const tl = require('..');
const { close } = require('./helpers');

// README's quick start (examples/quickstart.c) in Node: same model (seed 0),
// same data, same AdamW loop.
function quickstart(log) {
  const m = new tl.Model();
  m.addLinear('fc', 2, 2);
  const opt = new tl.Optimizer(m, { kind: 'adamw', lr: 0.1 });
  const x = new Float32Array([1, 0, 0, 1, 1, 0.2, 0.1, 1]);
  const y = new BigInt64Array([0n, 1n, 0n, 1n]);
  const losses = [];
  for (let step = 0; step < 50; step++) {
    const r = m.forward(x, [4, 2]);
    const { loss, dlogits } = tl.crossEntropy(r.output, y, 2);
    opt.zeroGrad();
    m.backward(dlogits, r.dims);
    opt.step();
    losses.push(loss);
    if (step % 10 === 0) log.push(`step ${String(step).padStart(2)} loss ${loss.toFixed(4)}`);
  }
  const params = m.params().slice();
  opt.close();
  m.close();
  return { losses, params };
}

test('the quick start prints what the C example prints, and its loss decreases', (t) => {
  const log = [];
  const { losses } = quickstart(log);
  for (let i = 1; i < losses.length; i++) assert.ok(losses[i] < losses[i - 1], `loss rose at step ${i}`);
  assert.ok(losses[49] < 0.05 * losses[0]);
  // The C example built next to the library under test ($TL_LIBRARY is
  // <build>/lib/libtl.so): the same numbers from the same seed.
  const exe = path.resolve(path.dirname(tl.libraryPath), '..', 'examples', 'quickstart');
  if (!fs.existsSync(exe)) {
    t.skip(`${exe} not built`);
    return;
  }
  const out = execFileSync(exe, { encoding: 'utf8' }).trim().split('\n');
  assert.deepStrictEqual(log, out);
  // And the run is deterministic: twice the same parameters, bit for bit.
  assert.deepStrictEqual(quickstart([]).params, quickstart([]).params);
});

test('a linear stack computes relu(x W1^T + b1) W2^T + b2 (checked in float64)', () => {
  const m = new tl.Model({ seed: 7 });
  m.addLinear('l1', 3, 4, 'relu').addLinear('l2', 4, 2);
  assert.deepStrictEqual(m.layerNames(), ['l1', 'l2']);
  assert.deepStrictEqual(m.paramNames(), ['l1.weight', 'l1.bias', 'l2.weight', 'l2.bias']);
  assert.deepStrictEqual(m.paramShape('l1.weight'), [4, 3]);
  const [w1, b1, w2, b2] = m.paramNames().map((n) => m.getParam(n));
  const x = [0.5, -1, 2, 1.5, 0.25, -0.75];
  const r = m.forward(x, [2, 3]);
  assert.deepStrictEqual(r.dims, [2, 2]);
  for (let b = 0; b < 2; b++) {
    const h = [0, 1, 2, 3].map((j) => Math.max(0, b1[j] + [0, 1, 2].reduce((s, k) => s + x[b * 3 + k] * w1[j * 3 + k], 0)));
    for (let o = 0; o < 2; o++) {
      const want = b2[o] + h.reduce((s, hj, j) => s + hj * w2[o * 4 + j], 0);
      close(r.output[b * 2 + o], want, 1e-5, 1e-3, `y[${b}][${o}]`);
    }
  }
  // Backward: the bias gradient of the last layer is the column sum of dy.
  const dy = new Float32Array([1, 2, 3, 4]);
  const dx = m.backward(dy, r.dims, { inputGrad: true });
  assert.strictEqual(dx.length, 6);
  // dx = dy W2 (masked by relu') W1: checked in float64 from the weights.
  for (let b = 0; b < 2; b++) {
    const z = [0, 1, 2, 3].map((j) => b1[j] + [0, 1, 2].reduce((s, k) => s + x[b * 3 + k] * w1[j * 3 + k], 0));
    const dh = [0, 1, 2, 3].map((j) => (z[j] > 0 ? dy[b * 2] * w2[j] + dy[b * 2 + 1] * w2[4 + j] : 0));
    for (let k = 0; k < 3; k++) close(dx[b * 3 + k], dh.reduce((s, v, j) => s + v * w1[j * 3 + k], 0), 1e-5, 1e-3, `dx[${b}][${k}]`);
  }
  assert.deepStrictEqual(Array.from(m.grad('l2.bias')), [4, 6]);
  m.zeroGrad();
  assert.deepStrictEqual(Array.from(m.grad('l2.bias')), [0, 0]);
  m.close();
});

test('zero-copy views: writes reach the model, and the model\'s updates reach the views', () => {
  const m = new tl.Model();
  m.addLinear('fc', 2, 2);
  const w = m.param('fc.weight');
  const all = m.params();
  assert.strictEqual(w.buffer, all.buffer);
  w.set([1, 2, 3, 4]);
  assert.deepStrictEqual(Array.from(m.getParam('fc.weight')), [1, 2, 3, 4]);
  m.setParam('fc.bias', [0.5, -0.5]);
  assert.deepStrictEqual(Array.from(all.subarray(4)), [0.5, -0.5]);
  assert.deepStrictEqual(Array.from(m.forward([1, 1], [1, 2]).output), [3.5, 6.5]);
  // The structure is fixed while views are alive.
  assert.throws(() => m.addLinear('more', 2, 2), (e) => e instanceof tl.StateError && /Model.addLinear: views/.test(e.message));
  m.close();
  // The memory outlives close() while a view is reachable.
  assert.deepStrictEqual(Array.from(w), [1, 2, 3, 4]);
  w[0] = 9;
  assert.strictEqual(all[0], 9);
});

test('embedding -> LSTM -> linear on ids: shapes, eval determinism, modes', () => {
  const m = new tl.Model({ seed: 3 });
  m.addEmbedding('emb', 9, 4, { paddingIdx: 0 });
  m.addLstm('rnn', 4, 6, 2, { hiddenP: 0.2 });
  m.addLinear('fc', 6, 3);
  const ids = new BigInt64Array([1n, 2n, 3n, 0n, 4n, 5n]);
  m.eval();
  assert.strictEqual(m.training, false);
  const a = m.forwardIds(ids, [3, 2]);
  assert.deepStrictEqual(a.dims, [3, 2, 3]);
  assert.deepStrictEqual(m.forwardIds([1, 2, 3, 0, 4, 5], [3, 2]).output, a.output);
  // The padding row is zero and stays so.
  assert.deepStrictEqual(Array.from(m.param('emb.weight').subarray(0, 4)), [0, 0, 0, 0]);
  assert.strictEqual(m.mode, 'fine-tune');
  m.mode = 'feature-extract';
  assert.strictEqual(m.mode, 'feature-extract');
  assert.throws(() => m.train(), (e) => e instanceof tl.StateError && /tl_model_train/.test(e.message));
  m.mode = 'fine-tune';
  m.train();
  assert.strictEqual(m.training, true);
  assert.throws(() => m.forwardIds([1, 2, 99, 0, 4, 5], [3, 2]), (e) => e instanceof tl.InvalidArgumentError && /tl_model_forward_ids/.test(e.message));
  assert.throws(() => m.forwardIds(new Int32Array(6), [3, 2]), /ids must be a BigInt64Array/);
  assert.throws(() => m.forwardIds([1, 2, 3.5, 0, 4, 5], [3, 2]), /ids\[2\] must be an integer/);
  assert.throws(() => m.forward(new Float32Array(6), [3, 2]), (e) => e instanceof tl.StateError);
  const r = m.forwardIds(ids, [3, 2]);
  assert.throws(() => m.backward(new Float32Array(18), r.dims, { inputGrad: true }), /token ids, which have no gradient/);
  m.close();
});

test('bad input to the model: clear exceptions, never a crash', () => {
  const m = new tl.Model();
  m.addLinear('fc', 2, 2);
  assert.throws(() => m.forward(new Float64Array(4), [2, 2]), /Model.forward: x must be a Float32Array or an Array of numbers, got Float64Array/);
  assert.throws(() => m.forward(new Float32Array(4), [2, -2]), /dims\[1\] must be a non-negative integer/);
  assert.throws(() => m.forward(new Float32Array(4), [2, 2, 1, 1, 1]), /dims must have 1 to 4 entries/);
  assert.throws(() => m.forward(new Float32Array(3), [2, 2]), (e) => e instanceof tl.ShapeError && /x has 3 elements/.test(e.message));
  assert.throws(() => m.forward(new Float32Array(6), [2, 3]), (e) => e instanceof tl.ShapeError && e.function === 'tl_model_forward');
  assert.throws(() => m.forward([NaN, 0, 0, 0], [2, 2]), tl.NumericError);
  assert.throws(() => m.backward(new Float32Array(4), [2, 2]), (e) => e instanceof tl.StateError && /tl_model_backward/.test(e.message));
  assert.throws(() => m.setParam('fc.weight', [1, 2, 3]), tl.ShapeError);
  assert.throws(() => m.setParam('fc.weight', [1, 2, 3, Infinity]), tl.NumericError);
  assert.throws(() => m.setParam('fc.nope', [1]), (e) => e instanceof tl.NotFoundError && /fc.nope/.test(e.message));
  assert.throws(() => m.setParamMask('fc.weight', [1, 0]), tl.ShapeError);
  assert.throws(() => m.setParamMask('fc.weight', new Float32Array(4)), /mask must be a Uint8Array/);
  assert.throws(() => m.addLinear('fc', 2, 2), (e) => e instanceof tl.StateError && /a layer named 'fc' already exists/.test(e.message));
  assert.throws(() => m.addLinear('x', 2, 2, 'gelu'), /activation must be one of/);
  assert.throws(() => m.addLinear(7, 2, 2), /name must be a string/);
  assert.throws(() => m.addLinear('a\0b', 2, 2), /NUL/);
  assert.throws(() => m.addDropout('d', 1.5), tl.InvalidArgumentError);
  assert.throws(() => m.freezeTo(5), tl.InvalidArgumentError);
  assert.throws(() => m.freezeTo(1.5), /n must be an integer/);
  assert.throws(() => new tl.Model({ seed: -1 }), /seed must be a non-negative integer/);
  assert.throws(() => new tl.Model({ sead: 1 }), /unknown option sead/);
  assert.throws(() => tl.crossEntropy(new Float32Array(4), [0, 2], 2), (e) => e instanceof tl.InvalidArgumentError && /tl_cross_entropy/.test(e.message));
  assert.throws(() => tl.crossEntropy(new Float32Array(5), [0, 1], 2), tl.ShapeError);
  m.close();
  for (const call of [() => m.forward([1, 1], [1, 2]), () => m.params(), () => m.paramNames(), () => m.numLayers, () => m.save('/tmp/x')]) {
    assert.throws(call, (e) => e instanceof tl.ClosedError && /the model is closed/.test(e.message));
  }
});
