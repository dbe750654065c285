'use strict';
const test = require('node:test');
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const tl = require('..');

function net(seed) {
  const m = new tl.Model({ seed });
  m.addEmbedding('emb', 10, 4).addLstm('rnn', 4, 5, 1).addLinear('fc', 5, 2);
  return m;
}

function trainSteps(m, opt, n) {
  const ids = new BigInt64Array([1n, 2n, 3n, 4n, 5n, 6n]);
  const y = new BigInt64Array([0n, 1n, 1n, 0n, 1n, 0n]);
  for (let i = 0; i < n; i++) {
    const r = m.forwardIds(ids, [3, 2]);
    const { dlogits } = tl.crossEntropy(r.output, y, 2);
    opt.zeroGrad();
    m.backward(dlogits, r.dims);
    opt.step();
  }
}

test('model + optimizer checkpoint (file and buffer): resuming is bit-identical to not stopping', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-node-ckpt-'));
  try {
    // Reference: 6 uninterrupted steps.
    const ref = net(11);
    const refOpt = new tl.Optimizer(ref, { kind: 'adam', lr: 1e-2 });
    trainSteps(ref, refOpt, 6);
    // 3 steps, a checkpoint, then 3 more steps in fresh objects.
    const a = net(11);
    const aOpt = new tl.Optimizer(a, { kind: 'adam', lr: 1e-2 });
    trainSteps(a, aOpt, 3);
    const ck = new tl.Checkpoint();
    ck.storeModel(a);
    ck.storeOptimizer(aOpt);
    ck.setMeta('task', 'node test');
    ck.step = 3;
    const file = path.join(dir, 'run.tlc');
    ck.save(file);
    const bytes = ck.toBuffer();
    assert.deepStrictEqual(new Uint8Array(fs.readFileSync(file)), bytes);
    for (const loaded of [tl.Checkpoint.load(file), tl.Checkpoint.fromBuffer(bytes)]) {
      assert.strictEqual(loaded.getMeta('task'), 'node test');
      assert.strictEqual(Number(loaded.step), 3);
      assert.strictEqual(loaded.tensorCount, 7);
      const b = net(99); // other initial weights, overwritten by the restore
      const bOpt = new tl.Optimizer(b, { kind: 'adam', lr: 1e-2 });
      loaded.restoreModel(b);
      loaded.restoreOptimizer(bOpt);
      assert.strictEqual(bOpt.stepCount, 3);
      trainSteps(b, bOpt, 3);
      assert.deepStrictEqual(b.params().slice(), ref.params().slice());
      loaded.close();
    }
    // Model.save / Model.load.
    const mfile = path.join(dir, 'model.tlc');
    ref.save(mfile);
    const c = net(5);
    c.load(mfile);
    assert.deepStrictEqual(c.params().slice(), ref.params().slice());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('bad checkpoints and mismatched models: clear exceptions', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-node-ckpt-'));
  try {
    assert.throws(() => tl.Checkpoint.load(path.join(dir, 'missing.tlc')), (e) => e instanceof tl.IOFailure && /missing.tlc/.test(e.message));
    const junk = path.join(dir, 'junk.tlc');
    fs.writeFileSync(junk, Buffer.alloc(200, 7));
    assert.throws(() => tl.Checkpoint.load(junk), tl.FormatError);
    assert.throws(() => tl.Checkpoint.fromBuffer(new Uint8Array(10)), (e) => e instanceof tl.FormatError && /tl_ckpt_load_buffer/.test(e.message));
    assert.throws(() => tl.Checkpoint.fromBuffer('bytes'), /bytes must be a Uint8Array/);
    const m = net(1);
    const ck = new tl.Checkpoint();
    ck.storeModel(m);
    const other = new tl.Model();
    other.addLinear('fc', 5, 3);
    const before = other.params().slice();
    assert.throws(() => ck.restoreModel(other), (e) => e instanceof tl.Error && /tl_ckpt_restore_model/.test(e.message));
    assert.deepStrictEqual(other.params().slice(), before); // unchanged on error
    assert.throws(() => ck.getMeta('absent'), tl.NotFoundError);
    assert.throws(() => ck.storeModel({}), /model must be a Model/);
    assert.throws(() => ck.storeModel(m), (e) => e instanceof tl.InvalidArgumentError && /tl_ckpt_store_model/.test(e.message));
    ck.close();
    assert.throws(() => ck.toBuffer(), tl.ClosedError);
    assert.throws(() => m.load(junk), tl.FormatError);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
