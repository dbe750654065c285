'use strict';
// tl_model_load_options from JS (Checkpoint.restoreModel, Model.load):
// { strict, prefix, map, restoreRng, report }.
//
// report(issue, name) is called from inside the C load, once per missing
// parameter ('missing') and unused tensor ('unexpected'). A JS exception must
// not cross C frames (koffi cannot unwind them), so the trampoline catches
// it, ignores the later reports, and withLoadOptions throws it after the C
// call has returned. libtl's report callback cannot fail the load: a
// non-strict load has then already changed the model (a strict one with
// something missing fails anyway, model unchanged).
const { koffi, VERSIONS, REPORT_FN, fail, string, typeName } = require('./native');
const { applyOptions, initStruct } = require('./model');

const ISSUES = ['missing', 'unexpected'];

function mapPairs(map, fn) {
  let pairs;
  if (map instanceof Map) pairs = Array.from(map.entries());
  else if (Array.isArray(map)) pairs = map;
  else if (map !== null && typeof map === 'object') pairs = Object.entries(map);
  else fail(fn, `map must be an object, a Map or an Array of [from, to] pairs, got ${typeName(map)}`);
  const from = [];
  const to = [];
  pairs.forEach((p, i) => {
    if (!Array.isArray(p) || p.length !== 2) fail(fn, `map entry ${i} must be a [from, to] pair`);
    from.push(string(p[0], fn, `map entry ${i} (from)`));
    to.push(string(p[1], fn, `map entry ${i} (to)`));
  });
  return { from, to };
}

// Runs call(optionsStruct) with the options built from `opts` (undefined:
// C's defaults, a strict load), then rethrows a report callback's exception.
function withLoadOptions(opts, fn, call) {
  if (opts === undefined || opts === null) return call(null);
  if (typeof opts !== 'object') fail(fn, `options must be an object, got ${typeName(opts)}`);
  // map and report are not struct fields: they become map_from/map_to/map_n
  // and a registered callback.
  const { map: mapOpt, report, ...fields } = opts;
  const conv = {
    strict: (v) => (v ? 1 : 0),
    restoreRng: (v) => (v ? 1 : 0),
    prefix: (v) => (v === null ? null : string(v, fn, 'prefix')),
  };
  for (const k of ['mapFrom', 'mapTo', 'mapN', 'report', 'reportPayload']) conv[k] = () => fail(fn, `unknown option ${k}`);
  const o = applyOptions(initStruct('tl_model_load_options_init', VERSIONS.MODEL_LOAD_OPTIONS_VERSION),
    fields, fn, conv);
  if (report !== undefined && report !== null && typeof report !== 'function')
    fail(fn, `report must be a function, got ${typeName(report)}`);
  if (mapOpt !== undefined && mapOpt !== null) {
    const map = mapPairs(mapOpt, fn);
    o.map_from = map.from.length ? map.from : null;
    o.map_to = map.to.length ? map.to : null;
    o.map_n = map.from.length;
  }
  let raised = null;
  let registered = null;
  if (report) {
    registered = koffi.register((payload, issue, name) => {
      if (raised !== null) return;
      try {
        report(ISSUES[issue] ?? issue, name);
      } catch (e) {
        raised = e;
      }
    }, koffi.pointer(REPORT_FN));
    o.report = registered;
  } else {
    o.report = null;
  }
  try {
    call(o);
  } catch (e) {
    if (raised !== null) throw raised;
    throw e;
  } finally {
    if (registered) koffi.unregister(registered);
  }
  if (raised !== null) throw raised;
}

// tl_ckpt_load_options: { verifyDataCrc, maxSize }.
function ckptLoadOptions(opts, fn) {
  if (opts === undefined || opts === null) return null;
  const { size } = require('./native');
  return applyOptions(initStruct('tl_ckpt_load_options_init', VERSIONS.CKPT_LOAD_OPTIONS_VERSION), opts, fn, {
    verifyDataCrc: (v) => (v ? 1 : 0),
    maxSize: (v) => (typeof v === 'bigint' ? v : size(v, fn, 'maxSize')),
  });
}

module.exports = { withLoadOptions, ckptLoadOptions };
