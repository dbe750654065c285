'use strict';
// tl.Checkpoint (include/tl/ckpt.h): a model's parameters, an optimizer's
// state, metadata and a step, saved to a file or a buffer.
const { koffi, c, raw, fail, size, string, typed, typeName } = require('./native');
const { withLoadOptions, ckptLoadOptions } = require('./loadopts');
const { NotFoundError } = require('./errors');
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

  // options: { verifyDataCrc (default true), maxSize (default 0: no limit) }.
  static load(path, options) {
    const fn = 'Checkpoint.load';
    const out = [null];
    c.tl_ckpt_load(out, string(path, fn, 'path'), ckptLoadOptions(options, fn));
    return new Checkpoint(out[0]);
  }

  static fromBuffer(bytes, options) {
    const fn = 'Checkpoint.fromBuffer';
    const b = typed(Uint8Array, bytes, fn, 'bytes');
    const out = [null];
    c.tl_ckpt_load_buffer(out, b, b.length, ckptLoadOptions(options, fn));
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

  // Strict by default: every parameter filled and every tensor used, else
  // NotFoundError and the model is unchanged. options: { strict, prefix,
  // map ({tensorName: paramName}, a Map or [from, to] pairs), restoreRng,
  // report(issue, name) } (lib/loadopts.js).
  restoreModel(model, options) {
    const fn = 'Checkpoint.restoreModel';
    if (!(model instanceof Model)) fail(fn, `model must be a Model, got ${typeName(model)}`);
    const m = model._live(fn);
    const ck = this._live(fn);
    withLoadOptions(options, fn, (o) => c.tl_ckpt_restore_model(m, ck, o));
  }

  // ---- tensors ----

  // Adds a tensor, copied; its dtype follows the typed array (Float32Array
  // f32, Float64Array f64, BigInt64Array i64, Uint8Array u8, Int32Array
  // i32). shape defaults to [data.length]; [] is a scalar.
  addTensor(name, data, shape) {
    const fn = 'Checkpoint.addTensor';
    const ptr = this._live(fn);
    const dtype = DTYPES.findIndex((d) => d && data instanceof d.T);
    if (dtype < 0) {
      fail(fn, `data must be a Float32Array, Float64Array, BigInt64Array, Uint8Array or Int32Array, got ${typeName(data)}`);
    }
    const dims = shape === undefined ? [data.length] : shape;
    if (!Array.isArray(dims)) fail(fn, `shape must be an Array of sizes, got ${typeName(dims)}`);
    if (dims.length > 8) fail(fn, `shape has ${dims.length} dimensions, at most 8 are allowed`);
    const s = new BigUint64Array(dims.length);
    let numel = 1;
    dims.forEach((d, i) => { const v = size(d, fn, `shape[${i}]`); s[i] = BigInt(v); numel *= v; });
    if (numel !== data.length) shapeFail(fn, `data has ${data.length} elements, shape ${JSON.stringify(dims)} needs ${numel}`);
    c.tl_ckpt_add_tensor(ptr, string(name, fn, 'name'), dtype, dims.length, dims.length ? s : null,
      data.length ? data : null);
  }

  // The index of a tensor by name (NotFoundError when there is none).
  findTensor(name) {
    const fn = 'Checkpoint.findTensor';
    const out = [0];
    c.tl_ckpt_find_tensor(out, this._live(fn), string(name, fn, 'name'));
    return Number(out[0]);
  }

  // Whether a tensor of that name exists.
  hasTensor(name) {
    try {
      this.findTensor(name);
      return true;
    } catch (e) {
      if (e instanceof NotFoundError) return false;
      throw e;
    }
  }

  _index(which, fn) {
    return typeof which === 'string' ? this.findTensor(which) : size(which, fn, 'index');
  }

  // { name, dtype: 'f32' | 'f64' | 'i64' | 'u8' | 'i32', shape, numel,
  // nbytes, group (null: none) } of a tensor by index or name.
  tensorInfo(which) {
    const fn = 'Checkpoint.tensorInfo';
    const ptr = this._live(fn);
    const out = [{ version: 1, name: null, dtype: 0, rank: 0, shape: new Array(8).fill(0), numel: 0, nbytes: 0,
      group: 0 }];
    c.tl_ckpt_tensor_info(out, ptr, this._index(which, fn));
    const d = out[0];
    const rank = Number(d.rank);
    return { name: d.name, dtype: DTYPES[d.dtype] ? DTYPES[d.dtype].name : d.dtype,
      shape: Array.from(d.shape).slice(0, rank).map(Number), numel: Number(d.numel), nbytes: Number(d.nbytes),
      group: d.group === NO_GROUP ? null : d.group };
  }

  // A copy of a tensor's elements as the typed array of its dtype.
  tensorData(which) {
    const fn = 'Checkpoint.tensorData';
    const ptr = this._live(fn);
    const index = this._index(which, fn);
    const info = this.tensorInfo(index);
    const T = DTYPES.find((d) => d && d.name === info.dtype).T;
    if (info.numel === 0) return new T(0);
    const out = [null];
    c.tl_ckpt_tensor_data(out, ptr, index);
    return new T(koffi.view(out[0], info.nbytes)).slice();
  }

  // The names of all tensors, in order.
  tensorNames() {
    const n = this.tensorCount;
    const names = [];
    for (let i = 0; i < n; i++) names.push(this.tensorInfo(i).name);
    return names;
  }

  removeTensor(which) {
    const fn = 'Checkpoint.removeTensor';
    const ptr = this._live(fn);
    c.tl_ckpt_remove_tensor(ptr, this._index(which, fn));
  }

  // Layer group of a tensor (null: no group).
  setTensorGroup(which, group) {
    const fn = 'Checkpoint.setTensorGroup';
    const ptr = this._live(fn);
    const index = this._index(which, fn);
    let g = NO_GROUP;
    if (group !== null) {
      g = size(group, fn, 'group');
      if (g >= NO_GROUP) fail(fn, `group must be below ${NO_GROUP}, got ${g}`);
    }
    c.tl_ckpt_set_tensor_group(ptr, index, g);
  }

  // ---- vocabulary ----

  // The tokens, or null when the checkpoint has no vocabulary section.
  get vocab() {
    const fn = 'Checkpoint.vocab';
    const ptr = this._live(fn);
    const n = [0];
    try {
      c.tl_ckpt_vocab_size(n, ptr);
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      throw e;
    }
    const out = [];
    const t = [null];
    for (let i = 0; i < Number(n[0]); i++) {
      c.tl_ckpt_vocab_token(t, ptr, i);
      out.push(t[0]);
    }
    return out;
  }

  // Replaces the vocabulary (null removes the section).
  set vocab(tokens) {
    const fn = 'Checkpoint.vocab';
    const ptr = this._live(fn);
    if (tokens === null) {
      c.tl_ckpt_clear_vocab(ptr);
      return;
    }
    const t = stringArray(tokens, fn, 'tokens');
    c.tl_ckpt_set_vocab(ptr, t.length ? t : null, t.length);
  }

  // fastai's match_embeds: the vocabulary becomes newVocab and each tensor
  // in `names` (embedding, untied decoder weight, decoder bias) gets one row
  // per new token, the old row of that token or the mean of the old rows.
  // Returns a Uint8Array, 1 for the new tokens (Model.setParamMask trains
  // only those rows).
  remapVocab(newVocab, names) {
    const fn = 'Checkpoint.remapVocab';
    const ptr = this._live(fn);
    const v = stringArray(newVocab, fn, 'newVocab');
    const n = stringArray(names, fn, 'names');
    const isNew = new Uint8Array(v.length);
    c.tl_ckpt_remap_vocab(v.length ? isNew : null, ptr, v.length ? v : null, v.length, n.length ? n : null, n.length);
    return isNew;
  }

  // ---- metadata and opaque sections ----

  // Every metadata entry, in the order keys were first set.
  meta() {
    const fn = 'Checkpoint.meta';
    const ptr = this._live(fn);
    const n = [0];
    c.tl_ckpt_meta_count(n, ptr);
    const out = {};
    const k = [null];
    const v = [null];
    for (let i = 0; i < Number(n[0]); i++) {
      c.tl_ckpt_meta_at(k, v, ptr, i);
      out[k[0]] = v[0];
    }
    return out;
  }

  // kind 'optim' or 'rng'; bytes copied.
  setSection(kind, subkind, bytes) {
    const fn = 'Checkpoint.setSection';
    const ptr = this._live(fn);
    const k = sectionKind(kind, fn);
    const sub = size(subkind, fn, 'subkind');
    if (sub > 0xFFFFFFFF) fail(fn, `subkind = ${sub} is outside the range of uint32_t`);
    const b = typed(Uint8Array, bytes, fn, 'bytes');
    c.tl_ckpt_set_section(ptr, k, sub, b.length ? b : null, b.length);
  }

  // { subkind, bytes (a copy) } of a section, or null when absent.
  getSection(kind) {
    const fn = 'Checkpoint.getSection';
    const ptr = this._live(fn);
    const k = sectionKind(kind, fn);
    const p = [null];
    const n = [0];
    const sub = [0];
    try {
      c.tl_ckpt_get_section(p, n, sub, ptr, k);
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      throw e;
    }
    const len = Number(n[0]);
    return { subkind: sub[0], bytes: len ? new Uint8Array(koffi.view(p[0], len)).slice() : new Uint8Array(0) };
  }

  clearSection(kind) {
    const fn = 'Checkpoint.clearSection';
    c.tl_ckpt_clear_section(this._live(fn), sectionKind(kind, fn));
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

// Index = tl_ckpt_dtype (values on disk).
const DTYPES = [null, { name: 'f32', T: Float32Array }, { name: 'f64', T: Float64Array },
  { name: 'i64', T: BigInt64Array }, { name: 'u8', T: Uint8Array }, { name: 'i32', T: Int32Array }];
const NO_GROUP = 0xFFFFFFFF;
const SECTIONS = { optim: 4, rng: 6 };

function sectionKind(kind, fn) {
  if (!Object.hasOwn(SECTIONS, kind)) fail(fn, `kind must be 'optim' or 'rng', got ${kind}`);
  return SECTIONS[kind];
}

function stringArray(v, fn, arg) {
  if (!Array.isArray(v)) fail(fn, `${arg} must be an Array of strings, got ${typeName(v)}`);
  return v.map((s, i) => string(s, fn, `${arg}[${i}]`));
}

function shapeFail(fn, msg) {
  const { ShapeError, Status } = require('./errors');
  throw new ShapeError(`${fn}: ${msg}`, Status.SHAPE, fn);
}

module.exports = { Checkpoint };
