'use strict';
// Fine-tuning a small sequence classifier in Node (ULMFiT-style), the Node
// counterpart of examples/freeze_unfreeze.c:
//   1. "pretrain" an encoder (embedding -> LSTM) with a throw-away head on a
//      source task (does token 5 occur?), and save it to a checkpoint;
//   2. build the target classifier (does token 7 occur?): the encoder
//      restored from the checkpoint, a new head (concat pooling -> linear);
//   3. gradual unfreezing: head only, then LSTM + head, then everything,
//      each stage with slanted triangular rates and ULMFiT's discriminative
//      rates lr / 2.6^k over the groups [embedding, LSTM, head].
// Prints the loss per stage and the held-out accuracy.
//
// Run: TL_LIBRARY=build/lib/libtl.so node bindings/node/examples/fine_tune.js
const os = require('os');
const path = require('path');
const fs = require('fs');
const tl = require('..');

const V = 20; const T = 12; const B = 32; const E = 16; const H = 24;

// A small deterministic generator for the data (libtl seeds its own).
let state = 12345n;
function rand() {
  state = (state * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
  return Number(state >> 33n);
}

// A batch of B sequences (time-major ids, lengths) labelled 1 when `token`
// occurs in the sequence.
function batch(token) {
  const ids = new BigInt64Array(T * B);
  const lengths = [];
  const labels = new BigInt64Array(B);
  for (let b = 0; b < B; b++) {
    const len = 4 + (rand() % (T - 3));
    const want = rand() % 2;
    let has = false;
    for (let t = 0; t < len; t++) {
      let tok = 1 + (rand() % (V - 1));
      if (tok === token && !want) tok = token + 1;
      has = has || tok === token;
      ids[t * B + b] = BigInt(tok);
    }
    if (want && !has) ids[(rand() % len) * B + b] = BigInt(token);
    lengths.push(len);
    labels[b] = BigInt(want);
  }
  return { ids, lengths, labels };
}

function encoder(seed) {
  const enc = new tl.Model({ seed });
  enc.addEmbedding('emb', V, E, { paddingIdx: 0 });
  enc.addLstm('rnn', E, H, 1, { weightP: 0.1 });
  return enc; // layers start in groups of their own: emb 0, rnn 1
}

function head(seed) {
  const h = new tl.Model({ seed });
  h.addConcatPool('pool');
  h.addLinear('fc', 3 * H, 2);
  h.setGroup('fc', 0); // one group for the whole head (pooling has no parameters)
  return h;
}

// One training step of encoder + head on a batch; returns the loss.
function step(enc, hd, opt, data) {
  enc.setLengths(null);
  const f = enc.forwardIds(data.ids, [T, B]);
  hd.setLengths(data.lengths);
  const y = hd.forward(f.output, f.dims);
  const { loss, dlogits } = tl.crossEntropy(y.output, data.labels, 2);
  opt.zeroGrad();
  const dh = hd.backward(dlogits, y.dims, { inputGrad: true });
  enc.backward(dh, f.dims);
  opt.clipGradNorm(1.0);
  opt.step();
  return loss;
}

function evaluate(enc, hd, data) {
  enc.eval();
  hd.eval();
  const f = enc.forwardIds(data.ids, [T, B]);
  hd.setLengths(data.lengths);
  const y = hd.forward(f.output, f.dims);
  enc.train();
  hd.train();
  return tl.accuracy(y.output, data.labels, 2);
}

function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-node-'));
  const ckptPath = path.join(dir, 'encoder.tlc');
  try {
    // 1. Source task.
    const src = encoder(1);
    const srcHead = head(2);
    const srcOpt = new tl.Optimizer([src, srcHead], { kind: 'adam', lr: 3e-3 });
    let loss = 0;
    for (let i = 0; i < 60; i++) loss = step(src, srcHead, srcOpt, batch(5));
    console.log(`source task: loss ${loss.toFixed(4)}, accuracy ${evaluate(src, srcHead, batch(5)).toFixed(3)}`);
    src.save(ckptPath);
    srcOpt.close();
    srcHead.close();
    src.close();

    // 2. Target classifier from the saved encoder.
    const enc = encoder(3);
    enc.load(ckptPath);
    const hd = head(4);
    const opt = new tl.Optimizer([enc, hd], { kind: 'adam', lr: 1e-3 });
    const heldOut = batch(7);
    const before = evaluate(enc, hd, heldOut);

    // 3. Gradual unfreezing: freezeTo(-1), (-2), (0) over [emb, rnn, head].
    const stages = [{ freezeTo: -1, lr: 2e-2, steps: 60 }, { freezeTo: -2, lr: 1e-2, steps: 60 },
      { freezeTo: 0, lr: 1e-2, steps: 60 }];
    for (const s of stages) {
      opt.freezeTo(s.freezeTo);
      const sched = tl.Schedule.stlr({ lrMax: s.lr, totalSteps: s.steps });
      const base = tl.lrsFactor(opt.numGroups, s.lr);
      let first = 0;
      for (let i = 0; i < s.steps; i++) {
        opt.setLrs(sched.groupLrs(base, i));
        loss = step(enc, hd, opt, batch(7));
        if (i === 0) first = loss;
      }
      sched.close();
      const trains = [0, 1, 2].map((g) => (enc.numGroups > g ? enc.groupTrainable(g) : hd.groupTrainable(0)));
      console.log(`freezeTo(${s.freezeTo}): trainable [emb, rnn, head] = [${trains}], loss ${first.toFixed(4)} -> ${loss.toFixed(4)}`);
    }
    const after = evaluate(enc, hd, heldOut);
    console.log(`held-out accuracy: ${before.toFixed(3)} before fine-tuning, ${after.toFixed(3)} after`);
    opt.close();
    hd.close();
    enc.close();
    return { before, after, loss };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) main();
module.exports = { main };
