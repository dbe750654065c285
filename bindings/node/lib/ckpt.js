'use strict';
// tl.Checkpoint (include/tl/ckpt.h): a model's parameters, an optimizer's
// state, metadata and a step, saved to a file or a buffer.
const { c, raw, fail, size, string, typed, typeName } = require('./native');
const { Handle } = require('./handle');
const { Model } = require('./model');
const { Optimizer } = require('./optim');

class Checkpoint extends Handle {
  constructor(ptr) {
    let p = ptr;
    if (p === undefined) {
      const out = [null];
      c.tl_ckpt_create(out);
      p = out[0];
    }
    super(p, raw.tl_ckpt_free, 'checkpoint');
  }

  static load(path) {
    const fn = 'Checkpoint.load';
    const out = [null];
    c.tl_ckpt_load(out, string(path, fn, 'path'), null);
    return new Checkpoint(out[0]);
  }

  static fromBuffer(bytes) {
    const fn = 'Checkpoint.fromBuffer';
    const b = typed(Uint8Array, bytes, fn, 'bytes');
    const out = [null];
    c.tl_ckpt_load_buffer(out, b, b.length, null);
    return new Checkpoint(out[0]);
  }

  save(path) {
    const fn = 'Checkpoint.save';
    c.tl_ckpt_save(this._live(fn), string(path, fn, 'path'));
  }

  toBuffer() {
    const fn = 'Checkpoint.toBuffer';
    const n = [0];
    c.tl_ckpt_serialized_size(n, this._live(fn));
    const buf = new Uint8Array(Number(n[0]));
    const written = [0];
    c.tl_ckpt_save_buffer(buf, buf.length, written, this._live(fn));
    return buf.subarray(0, Number(written[0]));
  }

  storeModel(model, prefix = null) {
    const fn = 'Checkpoint.storeModel';
    if (!(model instanceof Model)) fail(fn, `model must be a Model, got ${typeName(model)}`);
    c.tl_ckpt_store_model(this._live(fn), model._live(fn), prefix === null ? null : string(prefix, fn, 'prefix'));
  }

  // Strict: every parameter filled and every tensor used, else NotFoundError
  // and the model is unchanged.
  restoreModel(model) {
    const fn = 'Checkpoint.restoreModel';
    if (!(model instanceof Model)) fail(fn, `model must be a Model, got ${typeName(model)}`);
    c.tl_ckpt_restore_model(model._live(fn), this._live(fn), null);
  }

  storeOptimizer(optimizer) {
    const fn = 'Checkpoint.storeOptimizer';
    if (!(optimizer instanceof Optimizer)) fail(fn, `optimizer must be an Optimizer, got ${typeName(optimizer)}`);
    c.tl_ckpt_store_optim(this._live(fn), optimizer._live(fn));
  }

  restoreOptimizer(optimizer) {
    const fn = 'Checkpoint.restoreOptimizer';
    if (!(optimizer instanceof Optimizer)) fail(fn, `optimizer must be an Optimizer, got ${typeName(optimizer)}`);
    c.tl_ckpt_restore_optim(optimizer._live(fn), this._live(fn));
  }

  setMeta(key, value) {
    const fn = 'Checkpoint.setMeta';
    c.tl_ckpt_set_meta(this._live(fn), string(key, fn, 'key'), string(value, fn, 'value'));
  }

  getMeta(key) {
    const fn = 'Checkpoint.getMeta';
    const out = [null];
    c.tl_ckpt_get_meta(out, this._live(fn), string(key, fn, 'key'));
    return out[0];
  }

  get step() {
    const out = [0];
    c.tl_ckpt_get_step(out, this._live('Checkpoint.step'));
    return out[0];
  }

  set step(v) {
    const fn = 'Checkpoint.step';
    c.tl_ckpt_set_step(this._live(fn), typeof v === 'bigint' ? v : size(v, fn, 'step'));
  }

  get tensorCount() {
    const out = [0];
    c.tl_ckpt_tensor_count(out, this._live('Checkpoint.tensorCount'));
    return Number(out[0]);
  }
}

module.exports = { Checkpoint };
