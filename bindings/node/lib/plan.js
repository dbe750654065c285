'use strict';
// tl.Plan (include/tl/plan.h): stage-by-stage fine-tuning plans (freezing,
// steps, schedule, discriminative base rates per stage) and tl_plan_apply,
// which puts a plan's state for a step into an optimizer. The presets
// (ULMFiT, chain-thaw, fastai fine_tune, feature extraction) are libtl's
// experimental API and are exported as tl.experimental.planPreset.
const { c, raw, VERSIONS, fail, size, int64, typed, typeName } = require('./native');
const { Handle } = require('./handle');
const { applyOptions, initStruct } = require('./model');
const { Schedule } = require('./sched');
const { Optimizer } = require('./optim');

const FREEZE = { to: 0, onlyGroup: 1 };
const PRESETS = { ulmfit: 0, chainThaw: 1, fineTune: 2, featureExtraction: 3 };

function stepArg(step, fn, arg = 'step') {
  if (typeof step === 'bigint') {
    if (step < 0n || step >= (1n << 64n)) fail(fn, `${arg} = ${step} is outside the range of uint64_t`);
    return step;
  }
  return size(step, fn, arg);
}

class Plan extends Handle {
  // An empty plan over numGroups layer groups (the optimizer's groups).
  constructor(numGroups, _ptr) {
    const fn = 'Plan';
    let ptr = _ptr;
    if (numGroups !== PRESET) {
      const out = [null];
      c.tl_plan_create(out, size(numGroups, fn, 'numGroups'));
      ptr = out[0];
    }
    super(ptr, raw.tl_plan_free, 'plan');
  }

  // Appends a stage: { steps, schedule, freeze: 'to' | 'onlyGroup',
  // freezeArg, baseLrs (one per group; default: the schedule's own rate for
  // every group), resetState }. The schedule and rates are copied by C.
  addStage(stage) {
    const fn = 'Plan.addStage';
    const ptr = this._live(fn);
    if (stage === null || typeof stage !== 'object') fail(fn, `stage must be an object, got ${typeName(stage)}`);
    const n = this.numGroups;
    let lrs = null; // referenced until tl_plan_add_stage has copied it
    const conv = {
      freeze: (v) => FREEZE[v] ?? fail(fn, `freeze must be 'to' or 'onlyGroup', got ${v}`),
      freezeArg: (v) => int64(v, fn, 'freezeArg'),
      steps: (v) => stepArg(v, fn, 'steps'),
      schedule: (v) => {
        if (!(v instanceof Schedule)) fail(fn, `schedule must be a Schedule, got ${typeName(v)}`);
        return v._live(fn);
      },
      sched: () => fail(fn, 'unknown option sched (use schedule)'),
      baseLrs: (v) => (lrs = typed(Float64Array, v, fn, 'baseLrs', n)),
      resetState: (v) => (v ? 1 : 0),
    };
    const o = applyOptions(initStruct('tl_plan_stage_init', VERSIONS.PLAN_STAGE_VERSION), stage, fn, conv,
      { schedule: 'sched' });
    c.tl_plan_add_stage(ptr, o);
    void lrs;
    return this;
  }

  get numStages() {
    const out = [0];
    c.tl_plan_num_stages(out, this._live('Plan.numStages'));
    return out[0];
  }

  get numGroups() {
    const out = [0];
    c.tl_plan_num_groups(out, this._live('Plan.numGroups'));
    return out[0];
  }

  get totalSteps() {
    const out = [0];
    c.tl_plan_total_steps(out, this._live('Plan.totalSteps'));
    return out[0];
  }

  // { start, steps } of stage `stage` (early stopping: jump to the next start).
  stageBounds(stage) {
    const fn = 'Plan.stageBounds';
    const start = [0];
    const steps = [0];
    c.tl_plan_stage_bounds(start, steps, this._live(fn), size(stage, fn, 'stage'));
    return { start: start[0], steps: steps[0] };
  }

  // { stage, local }: the stage running at a global step, the step inside it.
  stageAt(step) {
    const fn = 'Plan.stageAt';
    const stage = [0];
    const local = [0];
    c.tl_plan_stage_at(stage, local, this._live(fn), stepArg(step, fn));
    return { stage: stage[0], local: local[0] };
  }

  groupTrainable(stage, group) {
    const fn = 'Plan.groupTrainable';
    const out = [0];
    c.tl_plan_group_trainable(out, this._live(fn), size(stage, fn, 'stage'), size(group, fn, 'group'));
    return out[0] === 1;
  }

  // Every group's learning rate at a global step.
  lrs(step) {
    const fn = 'Plan.lrs';
    const ptr = this._live(fn);
    const out = new Float64Array(this.numGroups);
    c.tl_plan_lrs(out, out.length, ptr, stepArg(step, fn));
    return out;
  }

  momentum(step) {
    const fn = 'Plan.momentum';
    const out = [0];
    c.tl_plan_momentum(out, this._live(fn), stepArg(step, fn));
    return out[0];
  }

  // tl_plan_apply: freezing, rates, momentum and (at a stage's first step,
  // when the stage asks) a state reset, put into `optimizer` for `step`.
  // Returns true on a stage's first step.
  apply(optimizer, step) {
    const fn = 'Plan.apply';
    const ptr = this._live(fn);
    if (!(optimizer instanceof Optimizer)) fail(fn, `optimizer must be an Optimizer, got ${typeName(optimizer)}`);
    const out = [0];
    c.tl_plan_apply(out, ptr, optimizer._live(fn), stepArg(step, fn));
    return out[0] === 1;
  }
}
const PRESET = Symbol('preset');

// tl_plan_preset_create (experimental in C: declared only under
// TL_EXPERIMENTAL_API, exported as TL_EXPERIMENTAL_0.1, so it may change
// without a major version). preset: 'ulmfit', 'chainThaw', 'fineTune' or
// 'featureExtraction'; options as tl_plan_preset_options in camelCase, the
// preset's defaults otherwise.
function planPreset(preset, options) {
  const fn = 'experimental.planPreset';
  if (!Object.hasOwn(PRESETS, preset)) {
    fail(fn, `preset must be one of ${Object.keys(PRESETS).map((k) => `'${k}'`).join(', ')}, got ${preset}`);
  }
  const p = PRESETS[preset];
  const conv = {};
  for (const k of ['numGroups', 'nGroups']) conv[k] = (v) => size(v, fn, k);
  for (const k of ['stageSteps', 'finalSteps']) conv[k] = (v) => stepArg(v, fn, k);
  let lrs = null; // referenced until tl_plan_preset_create has copied it
  conv.stageLrs = (v) => (lrs = typed(Float64Array, v, fn, 'stageLrs'));
  conv.nStageLrs = () => fail(fn, 'unknown option nStageLrs (stageLrs gives the count)');
  const o = applyOptions(initStruct('tl_plan_preset_options_init', VERSIONS.PLAN_PRESET_OPTIONS_VERSION, p),
    options, fn, conv, { numGroups: 'n_groups' });
  if (lrs !== null) o.n_stage_lrs = lrs.length;
  const out = [null];
  c.tl_plan_preset_create(out, p, o);
  return new Plan(PRESET, out[0]);
}

module.exports = { Plan, planPreset };
