'use strict';
// tl.Optimizer (include/tl/optim.h) and the discriminative-rate helpers.
const { c, raw, VERSIONS, fail, size, int64, number, typed, typeName } = require('./native');
const { Handle } = require('./handle');
const { Model, applyOptions, initStruct } = require('./model');

const KINDS = { sgd: 0, adam: 1, adamw: 2 };
const HPARAMS = { lr: 0, momentum: 1, beta2: 2, eps: 3, weightDecay: 4 };

class Optimizer extends Handle {
  // models: a Model or an Array of distinct Models (their groups are
  // concatenated); options: {kind: 'sgd'|'adam'|'adamw', lr, momentum, beta2,
  // eps, weightDecay, nesterov}, PyTorch's defaults for the kind otherwise.
  constructor(models, options = {}) {
    const fn = 'Optimizer';
    const list = Array.isArray(models) ? models : [models];
    if (list.length === 0) fail(fn, 'models must hold at least one Model');
    list.forEach((m, i) => { if (!(m instanceof Model)) fail(fn, `models[${i}] must be a Model, got ${typeName(m)}`); });
    const { kind = 'adam', ...rest } = options || {};
    if (!(kind in KINDS)) fail(fn, `kind must be one of ${Object.keys(KINDS).join(', ')}, got ${kind}`);
    const o = applyOptions(initStruct('tl_optim_options_init', VERSIONS.OPTIM_OPTIONS_VERSION, KINDS[kind]), rest, fn);
    const out = [null];
    c.tl_optim_create(out, list.map((m) => m._live(fn)), list.length, o);
    super(out[0], raw.tl_optim_free, 'optimizer');
  }

  get numGroups() {
    const out = [0];
    c.tl_optim_num_groups(out, this._live('Optimizer.numGroups'));
    return Number(out[0]);
  }

  hparam(group, which) {
    const fn = 'Optimizer.hparam';
    if (!(which in HPARAMS)) fail(fn, `which must be one of ${Object.keys(HPARAMS).join(', ')}, got ${which}`);
    const out = [0];
    c.tl_optim_get_group_hparam(out, this._live(fn), size(group, fn, 'group'), HPARAMS[which]);
    return out[0];
  }

  setHparam(group, which, value) {
    const fn = 'Optimizer.setHparam';
    if (!(which in HPARAMS)) fail(fn, `which must be one of ${Object.keys(HPARAMS).join(', ')}, got ${which}`);
    c.tl_optim_set_group_hparam(this._live(fn), size(group, fn, 'group'), HPARAMS[which], number(value, fn, 'value'));
  }

  lr(group) { return this.hparam(group, 'lr'); }

  setLr(group, lr) { this.setHparam(group, 'lr', lr); }

  // One rate per group (a Float64Array or an Array of numbers).
  setLrs(lrs) {
    const fn = 'Optimizer.setLrs';
    const v = typed(Float64Array, lrs, fn, 'lrs');
    c.tl_optim_set_lrs(this._live(fn), v, v.length);
  }

  freezeTo(n) {
    const fn = 'Optimizer.freezeTo';
    c.tl_optim_freeze_to(this._live(fn), int64(n, fn, 'n'));
  }

  setGroupTrainable(group, trainable) {
    const fn = 'Optimizer.setGroupTrainable';
    c.tl_optim_set_group_trainable(this._live(fn), size(group, fn, 'group'), trainable ? 1 : 0);
  }

  zeroGrad() { c.tl_optim_zero_grad(this._live('Optimizer.zeroGrad')); }

  // Clips the trainable gradients to maxNorm; returns the norm before.
  clipGradNorm(maxNorm) {
    const fn = 'Optimizer.clipGradNorm';
    const out = [0];
    c.tl_optim_clip_grad_norm(out, this._live(fn), number(maxNorm, fn, 'maxNorm'));
    return out[0];
  }

  step() { c.tl_optim_step(this._live('Optimizer.step')); }

  get stepCount() {
    const out = [0];
    c.tl_optim_step_count(out, this._live('Optimizer.stepCount'));
    return Number(out[0]);
  }

  resetState() { c.tl_optim_reset_state(this._live('Optimizer.resetState')); }

  // The optimizer state (moments, step counters) as bytes.
  stateSave() {
    const fn = 'Optimizer.stateSave';
    const n = [0];
    c.tl_optim_state_size(n, this._live(fn));
    const buf = new Uint8Array(Number(n[0]));
    c.tl_optim_state_save(buf, buf.length, this._live(fn));
    return buf;
  }

  stateLoad(bytes) {
    const fn = 'Optimizer.stateLoad';
    const b = typed(Uint8Array, bytes, fn, 'bytes');
    c.tl_optim_state_load(this._live(fn), b, b.length);
  }
}

function lrs(fn, cfn, n, ...args) {
  const count = size(n, fn, 'n');
  const out = new Float64Array(count);
  c[cfn](out, count, ...args);
  return out;
}

// Discriminative learning rates (Float64Array of n): evenly spaced in log
// space, fastai's slice(hi), ULMFiT's top / factor^k.
const lrsEven = (n, lo, hi) => lrs('lrsEven', 'tl_lrs_even', n, number(lo, 'lrsEven', 'lo'), number(hi, 'lrsEven', 'hi'));
const lrsSlice = (n, hi) => lrs('lrsSlice', 'tl_lrs_slice', n, number(hi, 'lrsSlice', 'hi'));
const lrsFactor = (n, top, factor = 2.6) =>
  lrs('lrsFactor', 'tl_lrs_factor', n, number(top, 'lrsFactor', 'top'), number(factor, 'lrsFactor', 'factor'));

module.exports = { Optimizer, lrsEven, lrsSlice, lrsFactor };
