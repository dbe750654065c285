'use strict';
const test = require('node:test');
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const v8 = require('v8');
const vm = require('vm');
const tl = require('..');
const { ROOT } = require('./helpers');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

// Lets FinalizationRegistry callbacks run: collect, then yield to the loop.
async function collect() {
  for (let i = 0; i < 5; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
}

const handle = require('../lib/handle');

test('close() frees once; every later call is a ClosedError naming the call', () => {
  const m = new tl.Model();
  const s = tl.Schedule.constant();
  const ck = new tl.Checkpoint();
  for (const h of [m, s, ck]) {
    assert.strictEqual(h.closed, false);
    h.close();
    h.close();
    assert.strictEqual(h.closed, true);
  }
  assert.throws(() => m.addLinear('a', 1, 1), /Model.addLinear: the model is closed/);
  assert.throws(() => s.lr(0), /Schedule.lr: the schedule is closed/);
  assert.throws(() => ck.setMeta('a', 'b'), /Checkpoint.setMeta: the checkpoint is closed/);
});

test('an optimizer keeps its models alive in C after the JS models are closed', () => {
  const m = new tl.Model();
  m.addLinear('fc', 2, 2);
  const w = m.params();
  const opt = new tl.Optimizer(m, { kind: 'sgd', lr: 1 });
  const g = m.grads();
  m.close();
  g.fill(1);
  const before = w.slice();
  opt.step();
  assert.deepStrictEqual(Array.from(w), Array.from(before, (v) => Math.fround(v - 1)));
  opt.close();
});

test('the FinalizationRegistry frees what was never closed, views first keeping memory alive', async () => {
  // Count frees through the state records (the C free is real: run under
  // ASan, a double free or a use after free would abort the test process).
  let freed = 0;
  let viewModelFreed = false;
  const counted = (m) => {
    const inner = m._state.free;
    m._state.free = (p) => { freed++; inner(p); };
    return m;
  };
  (() => {
    for (let i = 0; i < 20; i++) counted(new tl.Model()).addLinear('fc', 8, 8);
    const m = new tl.Model();
    m.addLinear('fc', 64, 64);
    const inner = m._state.free;
    m._state.free = (p) => { viewModelFreed = true; inner(p); };
    globalThis.__view = m.param('fc.weight');
    globalThis.__view.fill(0.25);
  })();
  await collect();
  // The unreferenced models are gone (V8 may keep the odd one a little
  // longer: the last object made can linger in a register or an inline
  // cache); the one with a live view is not.
  assert.ok(freed >= 18, `only ${freed} of 20 unreferenced models were freed`);
  assert.strictEqual(viewModelFreed, false, 'a model was freed while a view of it was alive');
  assert.ok(globalThis.__view.every((v) => v === 0.25), 'the view changed under us');
  delete globalThis.__view;
  await collect();
  assert.strictEqual(viewModelFreed, true, 'the model behind the dropped view was not freed');
  assert.ok(handle.Handle);
});

test('TypeScript declarations cover every export', () => {
  const dts = fs.readFileSync(path.join(ROOT, 'bindings', 'node', 'index.d.ts'), 'utf8');
  for (const name of Object.keys(tl)) {
    assert.ok(new RegExp(`export (declare )?(const|function|class|namespace|let) ${name}\\b`).test(dts), `index.d.ts does not declare ${name}`);
  }
  for (const name of Object.keys(tl.metrics)) {
    assert.ok(new RegExp(`function ${name}\\(`).test(dts), `index.d.ts does not declare metrics.${name}`);
  }
});

test('struct versions equal the headers\' TL_*_VERSION', () => {
  const { VERSIONS } = require('../lib/native');
  const headers = fs.readdirSync(path.join(ROOT, 'include', 'tl')).map((f) => fs.readFileSync(path.join(ROOT, 'include', 'tl', f), 'utf8')).join('\n');
  for (const [name, v] of Object.entries(VERSIONS)) {
    const m = new RegExp(`#define TL_${name} (\\d+)`).exec(headers);
    assert.ok(m, `TL_${name} is not in include/tl`);
    assert.strictEqual(Number(m[1]), v, `TL_${name}`);
  }
  assert.match(tl.version, /^\d+\.\d+\.\d+/);
});

test('every struct the binding declares has the C layout (tests/layout/print_layout)', (t) => {
  const { koffi, STRUCTS, VERSIONS } = require('../lib/native');
  const exe = process.env.TL_LAYOUT_PROGRAM ||
    path.resolve(path.dirname(tl.libraryPath), '..', 'tests', 'layout', 'print_layout');
  if (!fs.existsSync(exe)) {
    t.skip(`${exe} not built`);
    return;
  }
  const layout = JSON.parse(require('child_process').execFileSync(exe, { encoding: 'utf8' }));
  assert.ok(Object.keys(STRUCTS).length >= 16);
  for (const [name, type] of Object.entries(STRUCTS)) {
    const want = layout.structs[name];
    assert.ok(want, `${name} is not in print_layout's output`);
    assert.strictEqual(koffi.sizeof(type), want.size, `sizeof(${name})`);
    const fields = Object.keys(koffi.introspect(type).members);
    assert.deepStrictEqual(fields, want.fields.map((f) => f[0]), `fields of ${name}`);
    for (const [field, offset] of want.fields) assert.strictEqual(koffi.offsetof(type, field), offset, `${name}.${field}`);
  }
  for (const [name, v] of Object.entries(VERSIONS)) assert.strictEqual(layout.versions[`TL_${name}`], v, `TL_${name}`);
});

test('a missing library or one that is not libtl: a clear error at require', () => {
  const { spawnSync } = require('child_process');
  const load = (lib) => spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(__dirname, '..'))})`],
    { env: { ...process.env, TL_LIBRARY: lib }, encoding: 'utf8' });
  let r = load('/nonexistent/libtl.so');
  assert.notStrictEqual(r.status, 0);
  assert.match(r.stderr, /libtl was not found: set TL_LIBRARY .* Tried: \/nonexistent\/libtl.so/);
  r = load('libc.so.6');
  assert.notStrictEqual(r.status, 0);
  assert.match(r.stderr, /libc.so.6 is not libtl: it has no tl_version_number/);
});

test('the fine-tuning example learns the target task', () => {
  const log = console.log;
  const lines = [];
  console.log = (s) => lines.push(s);
  let r;
  try {
    r = require('../examples/fine_tune.js').main();
  } finally {
    console.log = log;
  }
  assert.strictEqual(lines.length, 5);
  assert.ok(r.before < 0.7, `accuracy before fine-tuning ${r.before}`);
  assert.ok(r.after >= 0.9, `accuracy after fine-tuning ${r.after}`);
  assert.ok(r.loss < 0.2, `final loss ${r.loss}`);
});
