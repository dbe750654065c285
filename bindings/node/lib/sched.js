'use strict';
// tl.Schedule (include/tl/sched.h): pure functions of the step.
const { c, raw, VERSIONS, fail, size, typed } = require('./native');
const { Handle } = require('./handle');
const { applyOptions, initStruct } = require('./model');

const KINDS = ['stlr', 'cyclic', 'cosine', 'cosineRestarts', 'oneCycle', 'fastaiOneCycle', 'linear',
  'constant', 'step', 'exponential', 'multiStep', 'sequential'];

function stepArg(step, fn) {
  if (typeof step === 'bigint') {
    if (step < 0n || step >= (1n << 64n)) fail(fn, `step = ${step} is outside the range of uint64_t`);
    return step;
  }
  return size(step, fn, 'step');
}

function u64(v, fn, k) {
  return typeof v === 'bigint' ? stepArg(v, fn) : size(v, fn, k);
}

class Schedule extends Handle {
  constructor(token, ptr) {
    if (token !== CREATE) fail('Schedule', 'use Schedule.stlr(), Schedule.cosine(), ... to create a schedule');
    super(ptr, raw.tl_sched_free, 'schedule');
  }

  static _make(name, options) {
    const fn = `Schedule.${name}`;
    const snake = name.replace(/[A-Z]/g, (m) => '_' + m.toLowerCase());
    const ver = VERSIONS[`SCHED_${snake.toUpperCase()}_OPTIONS_VERSION`];
    const conv = {};
    for (const k of ['totalSteps', 'tMax', 'totalIters', 'stepSize']) conv[k] = u64;
    conv.anneal = (v) => ({ cos: 0, linear: 1 }[v] ?? fail(fn, `anneal must be 'cos' or 'linear', got ${v}`));
    conv.moms = (v) => Array.from(typed(Float64Array, v, fn, 'moms', 3));
    const o = applyOptions(initStruct(`tl_sched_${snake}_options_init`, ver), options, fn, conv);
    const out = [null];
    c[`tl_sched_${snake}_create`](out, o);
    return new Schedule(CREATE, out[0]);
  }

  // Constructors; options in camelCase as the C struct fields (lrMax,
  // totalSteps, cutFrac, ratio for STLR...), the C defaults otherwise.
  static stlr(options) { return Schedule._make('stlr', options); }

  static cosine(options) { return Schedule._make('cosine', options); }

  static oneCycle(options) { return Schedule._make('oneCycle', options); }

  static fastaiOneCycle(options) { return Schedule._make('fastaiOneCycle', options); }

  static linear(options) { return Schedule._make('linear', options); }

  static step(options) { return Schedule._make('step', options); }

  static exponential(options) { return Schedule._make('exponential', options); }

  static constant(options) { return Schedule._make('constant', options); }

  lr(step) {
    const fn = 'Schedule.lr';
    const out = [0];
    c.tl_sched_lr(out, this._live(fn), stepArg(step, fn));
    return out[0];
  }

  momentum(step) {
    const fn = 'Schedule.momentum';
    const out = [0];
    c.tl_sched_momentum(out, this._live(fn), stepArg(step, fn));
    return out[0];
  }

  get hasMomentum() { return c.tl_sched_has_momentum(this._live('Schedule.hasMomentum')) === 1; }

  get kind() {
    const out = [0];
    c.tl_sched_get_kind(out, this._live('Schedule.kind'));
    return KINDS[out[0]];
  }

  get totalSteps() {
    const out = [0];
    c.tl_sched_total_steps(out, this._live('Schedule.totalSteps'));
    return out[0];
  }

  multiplier(step) {
    const fn = 'Schedule.multiplier';
    const out = [0];
    c.tl_sched_multiplier(out, this._live(fn), stepArg(step, fn));
    return out[0];
  }

  // baseLrs[g] * multiplier(step) for every group (discriminative rates).
  groupLrs(baseLrs, step) {
    const fn = 'Schedule.groupLrs';
    const b = typed(Float64Array, baseLrs, fn, 'baseLrs');
    const out = new Float64Array(b.length);
    c.tl_sched_fill_group_lrs(out, b.length, this._live(fn), b, stepArg(step, fn));
    return out;
  }
}
const CREATE = Symbol('create');

module.exports = { Schedule };
