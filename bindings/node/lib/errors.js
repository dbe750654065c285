'use strict';
// tl_status codes and the exceptions they become: one Error subclass per
// status (as bindings/python/tl/_errors.py), each carrying .status (the
// number), .statusName ("TL_E_SHAPE"), .function (the C function) and
// libtl's message for the failing call.

const Status = Object.freeze({
  OK: 0, INVALID_ARG: -1, NOMEM: -2, SHAPE: -3, STATE: -4, IO: -5, FORMAT: -6,
  NUMERIC: -7, NOT_FOUND: -8, UNSUPPORTED: -9, INTERNAL: -10,
});
const NAMES = Object.fromEntries(Object.entries(Status).map(([k, v]) => [v, k === 'OK' ? 'TL_OK' : 'TL_E_' + k]));

class TlError extends Error {
  constructor(message, status, fn) {
    super(message);
    this.name = new.target.name;
    if (status !== undefined) this.status = status;
    this.statusName = NAMES[this.status] || 'TL_E_UNKNOWN';
    this.function = fn;
  }
}
function sub(name, status, Base = TlError) {
  const cls = { [name]: class extends Base {} }[name];
  cls.prototype.status = status;
  return cls;
}
const InvalidArgumentError = sub('InvalidArgumentError', Status.INVALID_ARG);
const OutOfMemoryError = sub('OutOfMemoryError', Status.NOMEM);
const ShapeError = sub('ShapeError', Status.SHAPE);
const StateError = sub('StateError', Status.STATE);
// Use of a closed object (Model, Optimizer, Schedule, Checkpoint).
const ClosedError = sub('ClosedError', Status.STATE, StateError);
const IOFailure = sub('IOFailure', Status.IO);
const FormatError = sub('FormatError', Status.FORMAT);
const NumericError = sub('NumericError', Status.NUMERIC);
const NotFoundError = sub('NotFoundError', Status.NOT_FOUND);
const UnsupportedError = sub('UnsupportedError', Status.UNSUPPORTED);
const InternalError = sub('InternalError', Status.INTERNAL);

const BY_STATUS = new Map([InvalidArgumentError, OutOfMemoryError, ShapeError, StateError, IOFailure,
  FormatError, NumericError, NotFoundError, UnsupportedError, InternalError].map((c) => [c.prototype.status, c]));

function raiseForStatus(code, message, fn) {
  const cls = BY_STATUS.get(code);
  if (!cls) throw new TlError(`${message} (unknown status ${code})`, code, fn);
  throw new cls(message || NAMES[code], code, fn);
}

module.exports = {
  Status, TlError, Error: TlError, InvalidArgumentError, OutOfMemoryError, ShapeError, StateError,
  ClosedError, IOFailure, FormatError, NumericError, NotFoundError, UnsupportedError, InternalError,
  raiseForStatus,
};
