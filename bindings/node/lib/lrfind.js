'use strict';
// fastai's learning-rate range test (tl_lr_find, include/tl/plan.h, part of
// libtl's experimental API) driven by a JS step function.
//
// The JS callback never throws into C: koffi would hand C a 0 (TL_OK) with
// the loss unset. The trampoline catches, keeps the error, returns
// TL_E_STATE (tl_lr_find then restores the models and the optimizer and
// fails), and the original error is thrown again here, after the C frames
// have returned.
const { koffi, c, fail, size, number, VERSIONS, STEP_FN, typeName } = require('./native');
const { Optimizer } = require('./optim');
const { Status } = require('./errors');

function lrFind(optimizer, stepFn, options = {}) {
  const fn = 'lrFind';
  if (!(optimizer instanceof Optimizer)) fail(fn, `optimizer must be an Optimizer, got ${typeName(optimizer)}`);
  if (typeof stepFn !== 'function') fail(fn, `stepFn must be a function, got ${typeName(stepFn)}`);
  const o = [null];
  c.tl_lr_find_options_init(o, VERSIONS.LR_FIND_OPTIONS_VERSION);
  const opts = o[0];
  const { startLr, endLr, numIt, beta, stopFactor, ...rest } = options;
  const unknown = Object.keys(rest);
  if (unknown.length) fail(fn, `unknown option ${unknown[0]}`);
  if (startLr !== undefined) opts.start_lr = number(startLr, fn, 'startLr');
  if (endLr !== undefined) opts.end_lr = number(endLr, fn, 'endLr');
  if (numIt !== undefined) opts.num_it = size(numIt, fn, 'numIt');
  if (beta !== undefined) opts.beta = number(beta, fn, 'beta');
  if (stopFactor !== undefined) opts.stop_factor = number(stopFactor, fn, 'stopFactor');
  const cap = Math.max(Number(opts.num_it), 1);
  const lrs = new Float64Array(cap);
  const losses = new Float64Array(cap);
  let raised = null;
  const trampoline = (payload, outLoss) => {
    try {
      const loss = stepFn();
      if (typeof loss !== 'number') throw new TypeError(`lrFind: stepFn must return a number (the loss), got ${typeName(loss)}`);
      koffi.encode(outLoss, 'double', loss);
      return Status.OK;
    } catch (e) {
      raised = e;
      return Status.STATE;
    }
  };
  const res = { version: VERSIONS.LR_FIND_RESULT_VERSION, n: 0, diverged: 0, has_suggestions: 0,
    lr_min: 0, lr_steep: 0, lr_valley: 0 };
  const resOut = [res];
  try {
    optimizer._busy((ptr) => c.tl_lr_find(resOut, lrs, losses, cap, ptr, trampoline, null, opts), fn);
  } catch (e) {
    if (raised !== null) throw raised;
    throw e;
  }
  const r = resOut[0];
  const n = Number(r.n);
  return {
    lrs: lrs.slice(0, n), losses: losses.slice(0, n), diverged: r.diverged !== 0,
    suggestions: r.has_suggestions ? { minimum: r.lr_min, steep: r.lr_steep, valley: r.lr_valley } : null,
  };
}

module.exports = { lrFind };
