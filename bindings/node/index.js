'use strict';
// libtl for Node.js: the C ABI through koffi (no compile step for users).
// The library is found through $TL_LIBRARY (else libtl.so next to this
// package, else the system's). See docs/node.md.
const native = require('./lib/native');
const errors = require('./lib/errors');
const { Model, crossEntropy, accuracy } = require('./lib/model');
const { Optimizer, lrsEven, lrsSlice, lrsFactor } = require('./lib/optim');
const { Schedule } = require('./lib/sched');
const { Checkpoint } = require('./lib/ckpt');
const { lrFind } = require('./lib/lrfind');
const metrics = require('./lib/metrics');
const { Plan, planPreset } = require('./lib/plan');

module.exports = {
  version: native.raw.tl_version_string(),
  versionNumber: native.raw.tl_version_number(),
  libraryPath: native.libraryPath,
  Model,
  Optimizer,
  Schedule,
  Checkpoint,
  Plan,
  // libtl's experimental API (TL_EXPERIMENTAL_API in C): may change in a
  // minor version.
  experimental: Object.freeze({ planPreset }),
  crossEntropy,
  accuracy,
  lrsEven,
  lrsSlice,
  lrsFactor,
  lrFind,
  metrics,
  Status: errors.Status,
  Error: errors.TlError,
  InvalidArgumentError: errors.InvalidArgumentError,
  OutOfMemoryError: errors.OutOfMemoryError,
  ShapeError: errors.ShapeError,
  StateError: errors.StateError,
  ClosedError: errors.ClosedError,
  IOFailure: errors.IOFailure,
  FormatError: errors.FormatError,
  NumericError: errors.NumericError,
  NotFoundError: errors.NotFoundError,
  UnsupportedError: errors.UnsupportedError,
  InternalError: errors.InternalError,
};
