'use strict';
// tl.Schedule (include/tl/sched.h): pure functions of the step.
const { c, raw, VERSIONS, fail, size, typed, typeName } = require('./native');
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

// An Array (or BigUint64Array) of steps as the uint64_t array C reads.
function u64Array(v, fn, arg) {
  if (v instanceof BigUint64Array) return v;
  if (!Array.isArray(v)) fail(fn, `${arg} must be an Array of steps or a BigUint64Array, got ${typeName(v)}`);
  const out = new BigUint64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = BigInt(u64(v[i], fn, `${arg}[${i}]`));
  return out;
}

const CYCLIC_MODES = { triangular: 0, triangular2: 1, expRange: 2 };

class Schedule extends Handle {
  constructor(token, ptr) {
    if (token !== CREATE) fail('Schedule', 'use Schedule.stlr(), Schedule.cosine(), ... to create a schedule');
    super(ptr, raw.tl_sched_free, 'schedule');
  }

  static _make(name, options, names = {}) {
    const fn = `Schedule.${name}`;
    const snake = name.replace(/[A-Z]/g, (m) => '_' + m.toLowerCase());
    const ver = VERSIONS[`SCHED_${snake.toUpperCase()}_OPTIONS_VERSION`];
    const conv = {};
    for (const k of ['totalSteps', 'tMax', 'totalIters', 'stepSize']) conv[k] = u64;
    conv.anneal = (v) => ({ cos: 0, linear: 1 }[v] ?? fail(fn, `anneal must be 'cos' or 'linear', got ${v}`));
    for (const k of ['stepSizeUp', 'stepSizeDown', 't0', 'tMult']) conv[k] = u64;
    conv.moms = (v) => Array.from(typed(Float64Array, v, fn, 'moms', 3));
    conv.mode = (v) => CYCLIC_MODES[v] ?? fail(fn, `mode must be 'triangular', 'triangular2' or 'expRange', got ${v}`);
    // The length of the milestones comes from the array: nMilestones is not
    // an option (a mismatch would let C read past the array).
    conv.nMilestones = () => fail(fn, 'unknown option nMilestones (the length of milestones is used)');
    let milestones = null;
    conv.milestones = (v) => (milestones = u64Array(v, fn, 'milestones'));
    const o = applyOptions(initStruct(`tl_sched_${snake}_options_init`, ver), options, fn, conv, names);
    if (milestones) o.n_milestones = milestones.length;
    const out = [null];
    // `milestones` stays referenced until the call returns; C copies it.
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

  // CyclicLR: mode 'triangular' (default), 'triangular2' or 'expRange'.
  static cyclic(options) { return Schedule._make('cyclic', options); }

  // SGDR: t0 and tMult are the C fields t_0 and t_mult.
  static cosineRestarts(options) { return Schedule._make('cosineRestarts', options, { t0: 't_0' }); }

  // MultiStepLR: milestones is an Array of steps, copied by C.
  static multiStep(options) { return Schedule._make('multiStep', options); }

  // SequentialLR: schedules[i] runs from milestones[i - 1] on, seeing the
  // step relative to its start. C deep-copies the children, so the caller
  // still owns (and closes) them; they may be closed at once.
  static sequential(schedules, milestones = []) {
    const fn = 'Schedule.sequential';
    if (!Array.isArray(schedules)) fail(fn, `schedules must be an Array of Schedule, got ${typeName(schedules)}`);
    if (schedules.length === 0) fail(fn, 'schedules is empty');
    const ptrs = schedules.map((s, i) => {
      if (!(s instanceof Schedule)) fail(fn, `schedules[${i}] must be a Schedule, got ${typeName(s)}`);
      return s._live(fn);
    });
    const m = u64Array(milestones, fn, 'milestones');
    if (m.length !== schedules.length - 1)
      fail(fn, `milestones has ${m.length} elements, expected ${schedules.length - 1} (one fewer than schedules)`);
    const out = [null];
    c.tl_sched_sequential_create(out, ptrs, ptrs.length, m.length ? m : null);
    return new Schedule(CREATE, out[0]);
  }

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
