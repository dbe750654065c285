'use strict';
// tl.Model (include/tl/model.h) and the host-side losses.
const { koffi, c, raw, VERSIONS, fail, size, int64, number, string, typed, typeName } = require('./native');
const { Handle } = require('./handle');
const { StateError, ShapeError, Status } = require('./errors');

const ACTIVATIONS = { none: 0, relu: 1, tanh: 2, sigmoid: 3 };
const DROPOUTS = { standard: 0, locked: 1 };
const MODES = { 'fine-tune': 0, 'feature-extract': 1 };
const MAX_DIMS = 4;

function camelToSnake(k) {
  return k.replace(/[A-Z]/g, (m) => '_' + m.toLowerCase());
}

// Copies the caller's camelCase options into a struct filled by its _init
// function; an unknown key is refused (a typo must not pass silently).
function applyOptions(struct, opts, fn, conv = {}, names = {}) {
  if (opts === undefined || opts === null) return struct;
  if (typeof opts !== 'object') fail(fn, `options must be an object, got ${typeName(opts)}`);
  for (const [k, v] of Object.entries(opts)) {
    // names: the JS spelling of fields camelCase cannot reach (t0 for t_0).
    const field = Object.hasOwn(names, k) ? names[k] : camelToSnake(k);
    if (!(field in struct) || field === 'version') fail(fn, `unknown option ${k}`);
    if (conv[k]) struct[field] = conv[k](v, fn, k);
    else if (typeof struct[field] === 'number' || typeof struct[field] === 'bigint') {
      if (typeof v === 'boolean') struct[field] = v ? 1 : 0;
      else if (Number.isInteger(struct[field]) && field !== 'lr' && /^(stateful|nesterov|unbiased|three_phase|cycle_momentum)$/.test(field)) struct[field] = number(v, fn, k) ? 1 : 0;
      else struct[field] = number(v, fn, k);
    } else {
      struct[field] = v;
    }
  }
  return struct;
}

function initStruct(init, version, ...extra) {
  const out = [null];
  c[init](out, version, ...extra);
  return out[0];
}

function dimsArg(dims, fn, arg) {
  if (!Array.isArray(dims) && !ArrayBuffer.isView(dims)) fail(fn, `${arg} must be an Array of sizes, got ${typeName(dims)}`);
  if (dims.length < 1 || dims.length > MAX_DIMS) fail(fn, `${arg} must have 1 to ${MAX_DIMS} entries, got ${dims.length}`);
  const out = new BigUint64Array(dims.length);
  let numel = 1;
  for (let i = 0; i < dims.length; i++) {
    const d = size(typeof dims[i] === 'bigint' ? dims[i] : dims[i], fn, `${arg}[${i}]`);
    out[i] = BigInt(d);
    numel *= d;
  }
  if (!Number.isSafeInteger(numel)) fail(fn, `${arg} describes more than 2^53 elements`);
  return { dims: out, numel };
}

function shapeFail(fn, msg) {
  throw new ShapeError(`${fn}: ${msg}`, Status.SHAPE, fn);
}

// The forward/backward outputs live in the model until its next call: they
// are copied out.
function copyOut(ptr, numel) {
  if (numel === 0) return new Float32Array(0);
  return new Float32Array(koffi.view(ptr, numel * 4)).slice();
}

class Model extends Handle {
  constructor(options = {}) {
    const fn = 'Model';
    const o = applyOptions(initStruct('tl_model_options_init', VERSIONS.MODEL_OPTIONS_VERSION), options, fn,
      { seed: (v) => (typeof v === 'bigint' ? v : size(v, fn, 'seed')) });
    const out = [null];
    c.tl_model_create(out, o);
    super(out[0], raw.tl_model_free, 'model');
    this._flat = { params: null, grads: null }; // WeakRefs to the pinned views
    this._input = null; // {ids, numel} of the last successful forward
  }

  // Adding a layer reallocates the flat buffers: refused while a view of them
  // may still be reachable (its memory would move under it).
  _changing(fn) {
    const ptr = this._live(fn);
    if (this._state.pins > 0) {
      throw new StateError(`${fn}: views of this model's parameters or gradients are still alive; ` +
        'add every layer before taking views (params(), param(), grads(), grad())', Status.STATE, fn);
    }
    this._flat = { params: null, grads: null };
    return ptr;
  }

  addEmbedding(name, numEmbeddings, dim, options = {}) {
    const fn = 'Model.addEmbedding';
    const o = applyOptions(initStruct('tl_embedding_options_init', VERSIONS.EMBEDDING_OPTIONS_VERSION), options, fn,
      { paddingIdx: (v) => int64(v, fn, 'paddingIdx') });
    c.tl_model_add_embedding(this._changing(fn), string(name, fn, 'name'), size(numEmbeddings, fn, 'numEmbeddings'),
      size(dim, fn, 'dim'), o);
    return this;
  }

  addLstm(name, inputSize, hiddenSize, numLayers = 1, options = {}) {
    const fn = 'Model.addLstm';
    const o = applyOptions(initStruct('tl_lstm_options_init', VERSIONS.LSTM_OPTIONS_VERSION), options, fn);
    c.tl_model_add_lstm(this._changing(fn), string(name, fn, 'name'), size(inputSize, fn, 'inputSize'),
      size(hiddenSize, fn, 'hiddenSize'), size(numLayers, fn, 'numLayers'), o);
    return this;
  }

  addGru(name, inputSize, hiddenSize, numLayers = 1, options = {}) {
    const fn = 'Model.addGru';
    const o = applyOptions(initStruct('tl_gru_options_init', VERSIONS.GRU_OPTIONS_VERSION), options, fn);
    c.tl_model_add_gru(this._changing(fn), string(name, fn, 'name'), size(inputSize, fn, 'inputSize'),
      size(hiddenSize, fn, 'hiddenSize'), size(numLayers, fn, 'numLayers'), o);
    return this;
  }

  addLinear(name, inFeatures, outFeatures, activation = 'none') {
    const fn = 'Model.addLinear';
    if (!(activation in ACTIVATIONS)) fail(fn, `activation must be one of ${Object.keys(ACTIVATIONS).join(', ')}, got ${activation}`);
    c.tl_model_add_linear(this._changing(fn), string(name, fn, 'name'), size(inFeatures, fn, 'inFeatures'),
      size(outFeatures, fn, 'outFeatures'), ACTIVATIONS[activation]);
    return this;
  }

  addDropout(name, p, kind = 'standard') {
    const fn = 'Model.addDropout';
    if (!(kind in DROPOUTS)) fail(fn, `kind must be one of ${Object.keys(DROPOUTS).join(', ')}, got ${kind}`);
    c.tl_model_add_dropout(this._changing(fn), string(name, fn, 'name'), DROPOUTS[kind], number(p, fn, 'p'));
    return this;
  }

  addConcatPool(name) {
    const fn = 'Model.addConcatPool';
    c.tl_model_add_concat_pool(this._changing(fn), string(name, fn, 'name'));
    return this;
  }

  addDecoder(name, inFeatures, outFeatures, { tieModel = null, tieLayer = null } = {}) {
    const fn = 'Model.addDecoder';
    if (tieModel !== null && !(tieModel instanceof Model)) fail(fn, `tieModel must be a Model, got ${typeName(tieModel)}`);
    const tie = tieModel === null ? null : tieModel._live(fn);
    c.tl_model_add_decoder(this._changing(fn), string(name, fn, 'name'), size(inFeatures, fn, 'inFeatures'),
      size(outFeatures, fn, 'outFeatures'), tie, tieLayer === null ? null : string(tieLayer, fn, 'tieLayer'));
    return this;
  }

  // ---- layers and groups ----
  get numLayers() {
    const out = [0];
    c.tl_model_num_layers(out, this._live('Model.numLayers'));
    return Number(out[0]);
  }

  layerNames() {
    const fn = 'Model.layerNames';
    const names = [];
    for (let i = 0; i < this.numLayers; i++) {
      const out = [null];
      c.tl_model_layer_name(out, this._live(fn), i);
      names.push(out[0]);
    }
    return names;
  }

  setGroup(layer, group) {
    const fn = 'Model.setGroup';
    c.tl_model_set_group(this._live(fn), string(layer, fn, 'layer'), size(group, fn, 'group'));
  }

  getGroup(layer) {
    const fn = 'Model.getGroup';
    const out = [0];
    c.tl_model_get_group(out, this._live(fn), string(layer, fn, 'layer'));
    return Number(out[0]);
  }

  get numGroups() {
    const out = [0];
    c.tl_model_num_groups(out, this._live('Model.numGroups'));
    return Number(out[0]);
  }

  freezeTo(n) {
    const fn = 'Model.freezeTo';
    c.tl_model_freeze_to(this._live(fn), int64(n, fn, 'n'));
  }

  freeze() { c.tl_model_freeze(this._live('Model.freeze')); }

  unfreeze() { c.tl_model_unfreeze(this._live('Model.unfreeze')); }

  setGroupTrainable(group, trainable) {
    const fn = 'Model.setGroupTrainable';
    c.tl_model_set_group_trainable(this._live(fn), size(group, fn, 'group'), trainable ? 1 : 0);
  }

  groupTrainable(group) {
    const fn = 'Model.groupTrainable';
    const out = [0];
    c.tl_model_get_group_trainable(out, this._live(fn), size(group, fn, 'group'));
    return out[0] !== 0;
  }

  // ---- parameters ----
  paramNames() {
    const fn = 'Model.paramNames';
    const n = [0];
    c.tl_model_num_params(n, this._live(fn));
    const names = [];
    for (let i = 0; i < Number(n[0]); i++) {
      const out = [null];
      c.tl_model_param_name(out, this._live(fn), i);
      names.push(out[0]);
    }
    return names;
  }

  paramShape(name) {
    const fn = 'Model.paramShape';
    const ndim = [0];
    const dims = new BigUint64Array(MAX_DIMS);
    const numel = [0];
    c.tl_model_param_shape(ndim, dims, numel, this._live(fn), string(name, fn, 'name'));
    return Array.from(dims.subarray(0, Number(ndim[0])), Number);
  }

  _offset(name, fn) {
    const out = [0];
    c.tl_model_param_offset(out, this._live(fn), string(name, fn, 'name'));
    return Number(out[0]);
  }

  _flatView(which, fn) {
    const ptr = this._live(fn);
    const cached = this._flat[which] && this._flat[which].deref();
    if (cached) return cached;
    const p = [null];
    const n = [0];
    c[which === 'params' ? 'tl_model_flat_params' : 'tl_model_flat_grads'](p, n, ptr);
    const count = Number(n[0]);
    if (count === 0) return new Float32Array(0);
    const ab = koffi.view(p[0], count * 4);
    this._pin(ab);
    const view = new Float32Array(ab);
    this._flat[which] = new WeakRef(view);
    return view;
  }

  // Zero-copy Float32Array over every parameter (the flat buffer); writes go
  // into the model. Valid for the model's life (its memory outlives close()
  // while the view is reachable); layers can no longer be added while it is.
  params() { return this._flatView('params', 'Model.params'); }

  grads() { return this._flatView('grads', 'Model.grads'); }

  // Zero-copy view of one parameter / its gradient.
  param(name) {
    const fn = 'Model.param';
    const off = this._offset(name, fn);
    const numel = this.paramShape(name).reduce((a, b) => a * b, 1);
    return this._flatView('params', fn).subarray(off, off + numel);
  }

  grad(name) {
    const fn = 'Model.grad';
    const off = this._offset(name, fn);
    const numel = this.paramShape(name).reduce((a, b) => a * b, 1);
    return this._flatView('grads', fn).subarray(off, off + numel);
  }

  // A copy of one parameter's values.
  getParam(name) {
    const fn = 'Model.getParam';
    const numel = this.paramShape(string(name, fn, 'name')).reduce((a, b) => a * b, 1);
    const out = new Float32Array(numel);
    c.tl_model_param_get(out, numel, this._live(fn), name);
    return out;
  }

  setParam(name, values) {
    const fn = 'Model.setParam';
    const v = typed(Float32Array, values, fn, 'values');
    c.tl_model_param_set(this._live(fn), string(name, fn, 'name'), v, v.length);
  }

  setParamTrainable(name, trainable) {
    const fn = 'Model.setParamTrainable';
    c.tl_model_set_param_trainable(this._live(fn), string(name, fn, 'name'), trainable ? 1 : 0);
  }

  paramTrainable(name) {
    const fn = 'Model.paramTrainable';
    const out = [0];
    c.tl_model_get_param_trainable(out, this._live(fn), string(name, fn, 'name'));
    return out[0] !== 0;
  }

  // mask: a Uint8Array of numel entries (non-zero: trainable), or null.
  setParamMask(name, mask) {
    const fn = 'Model.setParamMask';
    const m = mask === null ? null : typed(Uint8Array, mask, fn, 'mask');
    c.tl_model_set_param_mask(this._live(fn), string(name, fn, 'name'), m, m === null ? 0 : m.length);
  }

  // ---- modes, forward, backward ----
  train() { c.tl_model_train(this._live('Model.train')); }

  eval() { c.tl_model_eval(this._live('Model.eval')); }

  get training() {
    const out = [0];
    c.tl_model_is_training(out, this._live('Model.training'));
    return out[0] !== 0;
  }

  get mode() {
    const out = [0];
    c.tl_model_get_mode(out, this._live('Model.mode'));
    return Object.keys(MODES).find((k) => MODES[k] === out[0]);
  }

  set mode(m) {
    const fn = 'Model.mode';
    if (!(m in MODES)) fail(fn, `mode must be one of ${Object.keys(MODES).join(', ')}, got ${m}`);
    c.tl_model_set_mode(this._live(fn), MODES[m]);
  }

  setLengths(lengths) {
    const fn = 'Model.setLengths';
    if (lengths === null) {
      c.tl_model_set_lengths(this._live(fn), null, 0);
      return;
    }
    if (!Array.isArray(lengths)) fail(fn, `lengths must be an Array of integers or null, got ${typeName(lengths)}`);
    const l = BigUint64Array.from(lengths.map((v, i) => BigInt(size(v, fn, `lengths[${i}]`))));
    c.tl_model_set_lengths(this._live(fn), l, l.length);
  }

  _result(fn, y, outDims, ndim) {
    const dims = Array.from(outDims.subarray(0, Number(ndim)), Number);
    return { output: copyOut(y, dims.reduce((a, b) => a * b, 1)), dims };
  }

  // Forward of float input x (a Float32Array of prod(dims) values): returns
  // {output: Float32Array (a copy), dims}.
  forward(x, dims) {
    const fn = 'Model.forward';
    const d = dimsArg(dims, fn, 'dims');
    const xv = typed(Float32Array, x, fn, 'x');
    if (xv.length !== d.numel) shapeFail(fn, `x has ${xv.length} elements, dims [${dims}] need ${d.numel}`);
    const y = [null];
    const ndim = [0];
    const outDims = new BigUint64Array(MAX_DIMS);
    this._input = null;
    c.tl_model_forward(y, outDims, ndim, this._live(fn), xv, d.dims, d.dims.length);
    this._input = { ids: false, numel: d.numel };
    return this._result(fn, y[0], outDims, ndim[0]);
  }

  // Forward of token ids (BigInt64Array, or an Array of integers).
  forwardIds(ids, dims) {
    const fn = 'Model.forwardIds';
    const d = dimsArg(dims, fn, 'dims');
    const iv = typed(BigInt64Array, ids, fn, 'ids');
    if (iv.length !== d.numel) shapeFail(fn, `ids has ${iv.length} elements, dims [${dims}] need ${d.numel}`);
    const y = [null];
    const ndim = [0];
    const outDims = new BigUint64Array(MAX_DIMS);
    this._input = null;
    c.tl_model_forward_ids(y, outDims, ndim, this._live(fn), iv, d.dims, d.dims.length);
    this._input = { ids: true, numel: d.numel };
    return this._result(fn, y[0], outDims, ndim[0]);
  }

  // Backward of the last train-mode forward; gradients accumulate into
  // grads(). With {inputGrad: true} returns the gradient w.r.t. the last
  // forward's float input (a copy, as many values as that input), else
  // undefined.
  backward(dy, dims, { inputGrad = false } = {}) {
    const fn = 'Model.backward';
    const d = dimsArg(dims, fn, 'dims');
    const dv = typed(Float32Array, dy, fn, 'dy');
    if (dv.length !== d.numel) shapeFail(fn, `dy has ${dv.length} elements, dims [${dims}] need ${d.numel}`);
    if (!inputGrad) {
      c.tl_model_backward(null, this._live(fn), dv, d.dims, d.dims.length);
      return undefined;
    }
    // The input's size is the binding's record of the last forward, never
    // the caller's word: the gradient buffer is read that far.
    const input = this._input;
    if (!input) throw new StateError(`${fn}: inputGrad: no forward to take the gradient of`, Status.STATE, fn);
    if (input.ids) {
      throw new StateError(`${fn}: inputGrad: the last forward took token ids, which have no gradient`, Status.STATE, fn);
    }
    const dx = [null];
    c.tl_model_backward(dx, this._live(fn), dv, d.dims, d.dims.length);
    return copyOut(dx[0], input.numel);
  }

  resetState() { c.tl_model_reset_state(this._live('Model.resetState')); }

  auxLoss() {
    const out = [0];
    c.tl_model_aux_loss(out, this._live('Model.auxLoss'));
    return out[0];
  }

  zeroGrad() { c.tl_model_zero_grad(this._live('Model.zeroGrad')); }

  save(path) {
    const fn = 'Model.save';
    c.tl_model_save(this._live(fn), string(path, fn, 'path'));
  }

  // Strict load (every parameter filled, every tensor used) of a file
  // written by save() or a Checkpoint holding this model's parameters.
  // options as Checkpoint.restoreModel: { strict, prefix, map, restoreRng,
  // report }.
  load(path, options) {
    const fn = 'Model.load';
    const m = this._live(fn);
    const p = string(path, fn, 'path');
    // Required here, not at the top: lib/loadopts.js requires this module.
    require('./loadopts').withLoadOptions(options, fn, (o) => c.tl_model_load(m, p, o));
  }
}

function lossArgs(fn, logits, targets, classes) {
  const t = typed(BigInt64Array, targets, fn, 'targets');
  const cl = size(classes, fn, 'classes');
  const l = typed(Float32Array, logits, fn, 'logits');
  if (l.length !== t.length * cl) shapeFail(fn, `logits has ${l.length} elements, expected targets.length * classes = ${t.length * cl}`);
  return { l, t, cl };
}

// Mean softmax cross-entropy of logits (n, classes) against n targets:
// {loss, dlogits} (dlogits: its gradient, a Float32Array of n * classes).
function crossEntropy(logits, targets, classes, ignoreIndex = -100) {
  const fn = 'crossEntropy';
  const { l, t, cl } = lossArgs(fn, logits, targets, classes);
  const loss = [0];
  const dlogits = new Float32Array(l.length);
  c.tl_cross_entropy(loss, dlogits, l, t, t.length, cl, int64(ignoreIndex, fn, 'ignoreIndex'));
  return { loss: loss[0], dlogits };
}

function accuracy(logits, targets, classes, ignoreIndex = -100) {
  const fn = 'accuracy';
  const { l, t, cl } = lossArgs(fn, logits, targets, classes);
  const out = [0];
  c.tl_accuracy(out, l, t, t.length, cl, int64(ignoreIndex, fn, 'ignoreIndex'));
  return out[0];
}

module.exports = { Model, crossEntropy, accuracy, applyOptions, initStruct };
