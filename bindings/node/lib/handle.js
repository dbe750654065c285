'use strict';
// The one lifetime pattern of the binding. Each wrapper owns a libtl handle
// through a small state record {ptr, closed, pins, free}: close() frees it
// once; a FinalizationRegistry frees it when the wrapper is collected without
// close(). Zero-copy views (Model's Float32Arrays over the flat buffers) pin
// the record: while any view's ArrayBuffer is alive the free is deferred, so
// a view never points at freed memory, even after close() (the wrapper itself
// refuses every call once closed: ClosedError). A handle in use by a C call
// that runs a JS callback is not freed before that call returns either.
const { ClosedError } = require('./errors');

function release(state) {
  if (state.closed && state.pins === 0 && state.busy === 0 && state.ptr !== null) {
    const ptr = state.ptr;
    state.ptr = null;
    state.free(ptr);
  }
}

const owners = new FinalizationRegistry((state) => {
  state.closed = true;
  release(state);
});
const pins = new FinalizationRegistry((state) => {
  state.pins--;
  release(state);
});

class Handle {
  constructor(ptr, free, what) {
    this._state = { ptr, closed: false, pins: 0, busy: 0, free };
    this._what = what;
    owners.register(this, this._state, this);
  }

  // The C pointer, or ClosedError once closed.
  _live(fn) {
    if (this._state.closed) throw new ClosedError(`${fn}: the ${this._what} is closed`, undefined, fn);
    return this._state.ptr;
  }

  // Keeps the handle's memory alive as long as `buffer` (an ArrayBuffer over
  // it) is reachable.
  _pin(buffer) {
    this._state.pins++;
    pins.register(buffer, this._state);
  }

  // Runs fn(ptr) with the handle in use by a C call that calls back into JS
  // (lrFind): a close() from the callback only marks the object closed, and
  // the free waits until the C call has returned.
  _busy(fn, what) {
    const ptr = this._live(what);
    this._state.busy++;
    try {
      return fn(ptr);
    } finally {
      this._state.busy--;
      release(this._state);
    }
  }

  get closed() {
    return this._state.closed;
  }

  close() {
    if (this._state.closed) return;
    this._state.closed = true;
    owners.unregister(this);
    release(this._state);
  }
}

// Symbol.dispose where the runtime has it (`using` in TypeScript 5.2+).
if (typeof Symbol.dispose === 'symbol') {
  Handle.prototype[Symbol.dispose] = function dispose() { this.close(); };
}

module.exports = { Handle };
