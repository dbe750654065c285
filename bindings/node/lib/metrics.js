'use strict';
// Domain-similarity metrics (include/tl/metrics.h): Float64Array (zero copy)
// or Arrays of numbers in, numbers out.
const { c, fail, size, number, typed } = require('./native');
const { ShapeError, Status } = require('./errors');

const f64 = (v, fn, arg) => typed(Float64Array, v, fn, arg);

function pair(fn, p, q) {
  const a = f64(p, fn, 'p');
  const b = f64(q, fn, 'q');
  if (a.length !== b.length) throw new ShapeError(`${fn}: p has ${a.length} elements, q ${b.length}`, Status.SHAPE, fn);
  return [a, b];
}

// base: the logarithm's base (0 or undefined: natural).
function baseArg(opts, fn) {
  const base = (opts && opts.base) ?? 0;
  return number(base, fn, 'base');
}

function binary(cfn, fn) {
  return (p, q, opts) => {
    const [a, b] = pair(fn, p, q);
    const out = [0];
    c[cfn](out, a, b, a.length, baseArg(opts, fn));
    return out[0];
  };
}

function plain(cfn, fn) {
  return (u, v) => {
    const [a, b] = pair(fn, u, v);
    const out = [0];
    c[cfn](out, a, b, a.length);
    return out[0];
  };
}

function entropy(p, opts) {
  const a = f64(p, 'entropy', 'p');
  const out = [0];
  c.tl_entropy(out, a, a.length, baseArg(opts, 'entropy'));
  return out[0];
}

function renyiDivergence(p, q, alpha, opts) {
  const fn = 'renyiDivergence';
  const [a, b] = pair(fn, p, q);
  const out = [0];
  c.tl_renyi_divergence(out, a, b, a.length, number(alpha, fn, 'alpha'), baseArg(opts, fn));
  return out[0];
}

// 1-D Wasserstein-p distance between samples u and v (optional weights).
function wasserstein1d(u, v, { uWeights = null, vWeights = null, p = 1 } = {}) {
  const fn = 'wasserstein1d';
  const a = f64(u, fn, 'u');
  const b = f64(v, fn, 'v');
  const wa = uWeights === null ? null : f64(uWeights, fn, 'uWeights');
  const wb = vWeights === null ? null : f64(vWeights, fn, 'vWeights');
  if (wa && wa.length !== a.length) fail(fn, `uWeights has ${wa.length} elements, u ${a.length}`);
  if (wb && wb.length !== b.length) fail(fn, `vWeights has ${wb.length} elements, v ${b.length}`);
  const out = [0];
  c.tl_wasserstein_1d(out, a, a.length, wa, b, b.length, wb, number(p, fn, 'p'));
  return out[0];
}

// Row-major samples: x holds n rows of d features.
function rows(fn, x, d, arg) {
  const a = f64(x, fn, arg);
  if (d === 0 || a.length % d !== 0) throw new ShapeError(`${fn}: ${arg} has ${a.length} elements, not a multiple of d = ${d}`, Status.SHAPE, fn);
  return [a, a.length / d];
}

function twoSets(cfn, fn) {
  return (x, y, d) => {
    const dd = size(d, fn, 'd');
    const [a, n] = rows(fn, x, dd, 'x');
    const [b, m] = rows(fn, y, dd, 'y');
    const out = [0];
    c[cfn](out, a, n, b, m, dd);
    return out[0];
  };
}

// Squared MMD with a Gaussian kernel: {mmd2, sigma} (sigma as used: the
// median heuristic unless given).
function mmd2(x, y, d, { sigma = 0, unbiased = false } = {}) {
  const fn = 'mmd2';
  const dd = size(d, fn, 'd');
  const [a, n] = rows(fn, x, dd, 'x');
  const [b, m] = rows(fn, y, dd, 'y');
  const o = [null];
  c.tl_mmd_options_init(o, require('./native').VERSIONS.MMD_OPTIONS_VERSION);
  o[0].sigma = number(sigma, fn, 'sigma');
  o[0].unbiased = unbiased ? 1 : 0;
  const out = [0];
  const s = [0];
  c.tl_mmd2(out, s, a, n, b, m, dd, o[0]);
  return { mmd2: out[0], sigma: s[0] };
}

module.exports = {
  klDivergence: binary('tl_kl_divergence', 'klDivergence'),
  jsDivergence: binary('tl_js_divergence', 'jsDivergence'),
  jsDistance: binary('tl_js_distance', 'jsDistance'),
  entropy,
  renyiDivergence,
  bhattacharyya: plain('tl_bhattacharyya', 'bhattacharyya'),
  hellinger: plain('tl_hellinger', 'hellinger'),
  totalVariation: plain('tl_total_variation', 'totalVariation'),
  cosineSimilarity: plain('tl_cosine_similarity', 'cosineSimilarity'),
  cosineDistance: plain('tl_cosine_distance', 'cosineDistance'),
  euclidean: plain('tl_euclidean', 'euclidean'),
  wasserstein1d,
  mmd2,
  coralDistance: twoSets('tl_coral_distance', 'coralDistance'),
  frechetDistance: twoSets('tl_frechet_distance', 'frechetDistance'),
};
