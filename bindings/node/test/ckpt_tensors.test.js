'use strict';
const test = require('node:test');
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const tl = require('..');
const { golden } = require('./helpers');

// tests/fixtures/ckpt_golden.h: a checkpoint written by gen_ckpt.py, an
// independent Python writer of docs/format.md (its TENSORS, GROUPS, VOCAB,
// META, OPTIM, STEP and RNG are what the test below builds).
const TINY = Uint8Array.from(golden('ckpt_golden.h').ckpt_golden_tiny);
const RNG = new Uint8Array(new BigUint64Array([1n, 2n, 3n, 4n]).buffer); // struct.pack('<4Q', 1, 2, 3, 4)

test('tensors, groups, vocabulary, metadata and sections built in JS serialize to gen_ckpt.py\'s bytes', () => {
  const ck = new tl.Checkpoint();
  ck.addTensor('w', new Float32Array([0.5, -1.0, 2.0, 3.25, -0.125, 1e-3]), [2, 3]);
  ck.addTensor('ids', new BigInt64Array([1n, -2n]));
  ck.addTensor('mask', new Uint8Array([1, 0, 1]), [3]);
  ck.addTensor('b', new Float64Array([3.5]), []); // a scalar
  ck.setTensorGroup(0, 0);
  ck.setTensorGroup('b', 1);
  ck.vocab = ['<unk>', 'the', ''];
  ck.setMeta('arch', 'AWD_LSTM');
  ck.setMeta('lang', 'en');
  ck.setSection('optim', 2, [1, 2, 3]);
  ck.step = 42;
  ck.setSection('rng', 1, RNG);
  assert.deepStrictEqual(ck.toBuffer(), TINY);
  ck.close();
});

test('the golden checkpoint reads back: tensor info, data as typed arrays, vocabulary, sections', () => {
  const ck = tl.Checkpoint.fromBuffer(TINY, { verifyDataCrc: true });
  assert.deepStrictEqual(ck.tensorNames(), ['w', 'ids', 'mask', 'b']);
  assert.strictEqual(ck.findTensor('mask'), 2);
  assert.strictEqual(ck.hasTensor('nope'), false);
  assert.deepStrictEqual(ck.tensorInfo('w'), { name: 'w', dtype: 'f32', shape: [2, 3], numel: 6, nbytes: 24, group: 0 });
  assert.deepStrictEqual(ck.tensorInfo(3), { name: 'b', dtype: 'f64', shape: [], numel: 1, nbytes: 8, group: 1 });
  assert.strictEqual(ck.tensorInfo('ids').group, null);
  assert.deepStrictEqual(ck.tensorData('w'), new Float32Array([0.5, -1.0, 2.0, 3.25, -0.125, 1e-3]));
  assert.deepStrictEqual(ck.tensorData('ids'), new BigInt64Array([1n, -2n]));
  assert.deepStrictEqual(ck.tensorData(2), new Uint8Array([1, 0, 1]));
  assert.deepStrictEqual(ck.tensorData('b'), new Float64Array([3.5]));
  const copy = ck.tensorData('w');
  copy[0] = 99; // a copy: the checkpoint keeps its value
  assert.strictEqual(ck.tensorData('w')[0], 0.5);
  assert.deepStrictEqual(ck.vocab, ['<unk>', 'the', '']);
  assert.deepStrictEqual(ck.meta(), { arch: 'AWD_LSTM', lang: 'en' });
  assert.deepStrictEqual(ck.getSection('optim'), { subkind: 2, bytes: new Uint8Array([1, 2, 3]) });
  assert.deepStrictEqual(ck.getSection('rng'), { subkind: 1, bytes: RNG });
  ck.removeTensor('ids');
  assert.deepStrictEqual(ck.tensorNames(), ['w', 'mask', 'b']);
  ck.clearSection('optim');
  assert.strictEqual(ck.getSection('optim'), null);
  ck.vocab = null;
  assert.strictEqual(ck.vocab, null);
  ck.close();
  // A flipped data byte: a FormatError with CRC checks, accepted without.
  const bad = TINY.slice();
  const at = TINY.length - 1; // the last section's payload
  bad[at] ^= 1;
  assert.throws(() => tl.Checkpoint.fromBuffer(bad), tl.FormatError);
  tl.Checkpoint.fromBuffer(bad, { verifyDataCrc: false }).close();
  assert.throws(() => tl.Checkpoint.fromBuffer(TINY, { maxSize: 100 }), (e) => e instanceof tl.Error && /tl_ckpt_load_buffer/.test(e.message));
});

test('vocabulary remapping is fastai\'s match_embeds (the values of tests/ckpt/ckpt_model_vocab.c)', () => {
  const ck = new tl.Checkpoint();
  ck.vocab = ['a', 'b', 'c', 'b'];
  ck.addTensor('emb.weight', new Float32Array([1, 10, 2, 20, 3, 30, 4, 40]), [4, 2]);
  ck.addTensor('dec.bias', new Float32Array([0.5, -1, 2, 4]));
  const isNew = ck.remapVocab(['c', 'x', 'b', 'a', 'y'], ['emb.weight', 'dec.bias']);
  assert.deepStrictEqual(isNew, new Uint8Array([0, 1, 0, 0, 1]));
  // c -> row 2; x, y -> the mean; b -> row 3 (the last "b"); a -> row 0.
  assert.deepStrictEqual(ck.tensorData('emb.weight'), new Float32Array([3, 30, 2.5, 25, 4, 40, 1, 10, 2.5, 25]));
  assert.deepStrictEqual(ck.tensorData('dec.bias'), new Float32Array([2, 1.375, 4, 0.5, 1.375]));
  assert.deepStrictEqual(ck.tensorInfo('emb.weight').shape, [5, 2]);
  assert.deepStrictEqual(ck.vocab, ['c', 'x', 'b', 'a', 'y']);
  assert.throws(() => ck.remapVocab(['a'], ['nope']), (e) => e instanceof tl.NotFoundError && /'nope'/.test(e.message));
  assert.deepStrictEqual(ck.vocab, ['c', 'x', 'b', 'a', 'y']); // unchanged on error
  ck.close();
});

function encoder(seed, head = 'fc') {
  const m = new tl.Model({ seed });
  m.addEmbedding('emb', 6, 3).addLinear(head, 3, 2);
  return m;
}

test('load options: prefix, name map, non-strict with a report, strict failures leave the model unchanged', () => {
  const src = encoder(1);
  const ck = new tl.Checkpoint();
  ck.storeModel(src, '0.'); // fastai's SequentialRNN: the encoder is "0."
  // prefix: "0." tensors fill the parameters of the same name.
  const a = encoder(2);
  ck.restoreModel(a, { prefix: '0.' });
  assert.deepStrictEqual(a.getParam('emb.weight'), src.getParam('emb.weight'));
  assert.deepStrictEqual(a.getParam('fc.bias'), src.getParam('fc.bias'));
  // Strict without the prefix: NotFoundError naming what is missing, model unchanged.
  const b = encoder(3);
  const before = b.getParam('emb.weight');
  assert.throws(() => ck.restoreModel(b), (e) => e instanceof tl.NotFoundError && /tl_ckpt_restore_model/.test(e.message));
  assert.deepStrictEqual(b.getParam('emb.weight'), before);
  // A renamed head, non-strict: the map fills head.weight; the report lists the rest.
  const c = encoder(4, 'head');
  const seen = [];
  ck.restoreModel(c, { prefix: '0.', map: { 'fc.weight': 'head.weight' }, strict: false,
    report: (issue, name) => seen.push(`${issue} ${name}`) });
  assert.deepStrictEqual(c.getParam('head.weight'), src.getParam('fc.weight'));
  assert.deepStrictEqual(c.getParam('emb.weight'), src.getParam('emb.weight'));
  assert.deepStrictEqual(seen.sort(), ['missing head.bias', 'unexpected 0.fc.bias']);
  // The same map as a Map and as pairs, strict with the bias mapped too.
  for (const map of [new Map([['fc.weight', 'head.weight'], ['fc.bias', 'head.bias']]),
    [['fc.weight', 'head.weight'], ['fc.bias', 'head.bias']]]) {
    const d = encoder(5, 'head');
    ck.restoreModel(d, { prefix: '0.', map });
    assert.deepStrictEqual(d.getParam('head.bias'), src.getParam('fc.bias'));
    d.close();
  }
  // Model.load takes the same options.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-node-ck2-'));
  try {
    const file = path.join(dir, 'enc.tlc');
    ck.save(file);
    const e = encoder(6);
    e.load(file, { prefix: '0.', restoreRng: false });
    assert.deepStrictEqual(e.getParam('fc.weight'), src.getParam('fc.weight'));
    const loaded = tl.Checkpoint.load(file, { verifyDataCrc: true, maxSize: 1 << 20 });
    assert.deepStrictEqual(loaded.tensorNames(), ['0.emb.weight', '0.fc.weight', '0.fc.bias']);
    loaded.close();
    e.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  [src, a, b, c].forEach((m) => m.close());
  ck.close();
});

test('a throwing report callback: caught at the C boundary, thrown after the load, once', () => {
  const src = encoder(1);
  const ck = new tl.Checkpoint();
  ck.storeModel(src, '0.');
  const m = encoder(2, 'head');
  let calls = 0;
  const boom = new RangeError('report failed');
  assert.throws(() => ck.restoreModel(m, { prefix: '0.', strict: false, report: () => { calls++; throw boom; } }),
    (e) => e === boom);
  assert.strictEqual(calls, 1); // later reports are skipped once one has thrown
  // Strict and failing: the JS error wins over the NotFoundError, model unchanged.
  const before = m.getParam('emb.weight');
  assert.throws(() => ck.restoreModel(m, { report: () => { throw boom; } }), (e) => e === boom);
  assert.deepStrictEqual(m.getParam('emb.weight'), before);
  // The binding still works afterwards (the callback was unregistered).
  ck.restoreModel(m, { prefix: '0.', strict: false, report: () => {} });
  [src, m].forEach((x) => x.close());
  ck.close();
});

test('bad input: tensors, vocabularies, sections, load options', () => {
  const ck = new tl.Checkpoint();
  assert.throws(() => ck.addTensor('x', [1, 2]), /Checkpoint.addTensor: data must be a Float32Array, Float64Array/);
  assert.throws(() => ck.addTensor('x', new Int16Array(2)), /data must be a Float32Array/);
  assert.throws(() => ck.addTensor('x', new Float32Array(6), [2, 2]), (e) => e instanceof tl.ShapeError && /shape \[2,2\] needs 4/.test(e.message));
  assert.throws(() => ck.addTensor('x', new Float32Array(2), [-2]), /shape\[0\] must be a non-negative integer/);
  assert.throws(() => ck.addTensor('x', new Float32Array(1), new Array(9).fill(1)), /at most 8/);
  assert.throws(() => ck.addTensor('', new Float32Array(1)), (e) => e instanceof tl.InvalidArgumentError && /tl_ckpt_add_tensor/.test(e.message));
  assert.throws(() => ck.addTensor('a\0b', new Float32Array(1)), /contains a NUL/);
  ck.addTensor('x', new Float32Array(2));
  assert.throws(() => ck.addTensor('x', new Float32Array(2)), /tl_ckpt_add_tensor.*x/);
  assert.throws(() => ck.findTensor('y'), (e) => e instanceof tl.NotFoundError && /tl_ckpt_find_tensor/.test(e.message));
  assert.throws(() => ck.tensorInfo(5), /tl_ckpt_tensor_info/);
  assert.throws(() => ck.tensorData(-1), /index must be a non-negative integer/);
  assert.throws(() => ck.setTensorGroup(0, 0xFFFFFFFF), /group must be below/);
  assert.throws(() => { ck.vocab = 'abc'; }, /tokens must be an Array of strings/);
  assert.throws(() => { ck.vocab = ['a', 3]; }, /tokens\[1\] must be a string/);
  assert.throws(() => ck.remapVocab(['a'], ['x']), (e) => e instanceof tl.NotFoundError); // no vocabulary
  ck.vocab = ['a', 'b'];
  assert.throws(() => ck.remapVocab([], ['x']), (e) => e instanceof tl.InvalidArgumentError && /tl_ckpt_remap_vocab/.test(e.message));
  assert.throws(() => ck.setSection('vocab', 0, []), /kind must be 'optim' or 'rng'/);
  assert.throws(() => ck.setSection('rng', 2 ** 32, []), /uint32_t/);
  assert.throws(() => ck.setSection('rng', 0, new Int8Array(2)), /bytes must be a Uint8Array/);
  const m = encoder(1);
  assert.throws(() => ck.restoreModel(m, { strict: false, report: 'no' }), /report must be a function/);
  assert.throws(() => ck.restoreModel(m, { map: 'fc.weight' }), /map must be an object, a Map or an Array/);
  assert.throws(() => ck.restoreModel(m, { map: [['a']] }), /map entry 0 must be a \[from, to\] pair/);
  assert.throws(() => ck.restoreModel(m, { mapN: 3 }), /unknown option mapN/);
  assert.throws(() => ck.restoreModel(m, { strickt: false }), /Checkpoint.restoreModel: unknown option strickt/);
  assert.throws(() => ck.restoreModel(m, { prefix: 5 }), /prefix must be a string/);
  assert.throws(() => ck.restoreModel(m, { map: { x: 'no.param' } }),
    (e) => e instanceof tl.InvalidArgumentError && /tl_ckpt_restore_model/.test(e.message));
  assert.throws(() => tl.Checkpoint.fromBuffer(TINY, { verifyCrc: false }), /unknown option verifyCrc/);
  assert.throws(() => tl.Checkpoint.fromBuffer(TINY, { maxSize: -1 }), /maxSize must be a non-negative integer/);
  m.close();
  ck.close();
  assert.throws(() => ck.tensorNames(), tl.ClosedError);
  assert.throws(() => ck.vocab, tl.ClosedError);
});
