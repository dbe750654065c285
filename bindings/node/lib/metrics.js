'use strict';
// Domain-similarity metrics (include/tl/metrics.h): Float64Array (zero copy)
// or Arrays of numbers in, numbers out.
const { c, fail, size, number, typed, typeName, VERSIONS } = require('./native');
const { applyOptions, initStruct } = require('./model');
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

// ---- optimal transport and part 2: matrices are row-major Float64Arrays
// with their column count d given; the row counts follow from the lengths.

function shape(fn, msg) {
  throw new ShapeError(`${fn}: ${msg}`, Status.SHAPE, fn);
}

function opt64(v, fn, arg, n) {
  if (v === undefined || v === null) return null;
  const a = f64(v, fn, arg);
  if (a.length !== n) shape(fn, `${arg} has ${a.length} elements, expected ${n}`);
  return a;
}

// A size_t array (Array of non-negative integers or BigUint64Array).
function sizes(v, fn, arg) {
  if (v instanceof BigUint64Array) return v;
  if (!Array.isArray(v)) fail(fn, `${arg} must be an Array of indices or a BigUint64Array, got ${typeName(v)}`);
  const out = new BigUint64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = BigInt(size(v[i], fn, `${arg}[${i}]`));
  return out;
}

const indices = (b) => Array.from(b, Number);

function options(init, ver, opts, fn, conv = {}) {
  return applyOptions(initStruct(init, ver), opts, fn, conv);
}

const sizeConv = (...keys) => Object.fromEntries(keys.map((k) => [k, (v, fn) => size(v, fn, k)]));
const u64Conv = (k) => (v, fn) => (typeof v === 'bigint' ? v : size(v, fn, k));

// W_p between histograms a and b on one non-decreasing support x.
function wasserstein1dHist(x, a, b, { p = 1 } = {}) {
  const fn = 'wasserstein1dHist';
  const xs = f64(x, fn, 'x');
  const n = xs.length;
  const aa = opt64(a, fn, 'a', n);
  const bb = opt64(b, fn, 'b', n);
  if (!aa || !bb) fail(fn, 'a and b are required');
  const out = [0];
  c.tl_wasserstein_1d_hist(out, xs, aa, bb, n, number(p, fn, 'p'));
  return out[0];
}

// Sliced Wasserstein (POT ot.sliced_wasserstein_distance) with libtl's
// seeded directions: options { xWeights, yWeights, nProjections, p, seed }.
function slicedWasserstein(x, y, d, opts = {}) {
  const fn = 'slicedWasserstein';
  const dd = size(d, fn, 'd');
  const [a, n] = rows(fn, x, dd, 'x');
  const [b, m] = rows(fn, y, dd, 'y');
  const { xWeights, yWeights, ...rest } = opts ?? {};
  const o = options('tl_sliced_options_init', VERSIONS.SLICED_OPTIONS_VERSION, rest, fn,
    { nProjections: (v) => size(v, fn, 'nProjections'), seed: u64Conv('seed') });
  const out = [0];
  c.tl_sliced_wasserstein(out, a, n, opt64(xWeights, fn, 'xWeights', n), b, m, opt64(yWeights, fn, 'yWeights', m),
    dd, o);
  return out[0];
}

// The same with given directions (k x d row-major, one per row).
function slicedWassersteinProjected(x, y, d, projections, { xWeights, yWeights, p = 2 } = {}) {
  const fn = 'slicedWassersteinProjected';
  const dd = size(d, fn, 'd');
  const [a, n] = rows(fn, x, dd, 'x');
  const [b, m] = rows(fn, y, dd, 'y');
  const [pr, k] = rows(fn, projections, dd, 'projections');
  const out = [0];
  c.tl_sliced_wasserstein_projected(out, a, n, opt64(xWeights, fn, 'xWeights', n), b, m,
    opt64(yWeights, fn, 'yWeights', m), dd, pr, k, number(p, fn, 'p'));
  return out[0];
}

// The k x d unit directions slicedWasserstein draws for `seed`.
function slicedDirections(k, d, seed = 0) {
  const fn = 'slicedDirections';
  const kk = size(k, fn, 'k');
  const dd = size(d, fn, 'd');
  if (!Number.isSafeInteger(kk * dd)) fail(fn, 'k * d is too large');
  const out = new Float64Array(kk * dd);
  c.tl_sliced_directions(out, kk, dd, u64Conv('seed')(seed, fn));
  return out;
}

// Entropic OT (POT ot.sinkhorn / sinkhorn2) on an n x m cost matrix:
// options { a, b (histograms; default uniform), maxIter, tol, plan (true:
// also return the n x m plan) }. Returns { cost, plan, iterations, converged }.
function sinkhorn(costMatrix, n, m, reg, opts = {}) {
  const fn = 'sinkhorn';
  const nn = size(n, fn, 'n');
  const mm = size(m, fn, 'm');
  const M = f64(costMatrix, fn, 'costMatrix');
  if (M.length !== nn * mm) shape(fn, `costMatrix has ${M.length} elements, n x m = ${nn * mm}`);
  const { a, b, plan: wantPlan = false, ...rest } = opts ?? {};
  const o = options('tl_sinkhorn_options_init', VERSIONS.SINKHORN_OPTIONS_VERSION, rest, fn, sizeConv('maxIter'));
  const plan = wantPlan ? new Float64Array(nn * mm) : null;
  const cost = [0];
  const it = [0];
  const conv = [0];
  c.tl_sinkhorn(cost, plan, it, conv, opt64(a, fn, 'a', nn), nn, opt64(b, fn, 'b', mm), mm, M,
    number(reg, fn, 'reg'), o);
  return { cost: cost[0], plan, iterations: Number(it[0]), converged: conv[0] === 1 };
}

// Proxy A-distance: { distance, error }; options { trainFraction, epochs,
// lr, l2, seed }.
function proxyADistance(xs, xt, d, opts) {
  const fn = 'proxyADistance';
  const dd = size(d, fn, 'd');
  const [a, ns] = rows(fn, xs, dd, 'xs');
  const [b, nt] = rows(fn, xt, dd, 'xt');
  const o = options('tl_proxy_a_options_init', VERSIONS.PROXY_A_OPTIONS_VERSION, opts, fn,
    { epochs: (v) => size(v, fn, 'epochs'), seed: u64Conv('seed') });
  const dist = [0];
  const err = [0];
  c.tl_proxy_a_distance(dist, err, a, ns, b, nt, dd, o);
  return { distance: dist[0], error: err[0] };
}

// CORAL alignment: xs Cs^(-1/2) Ct^(1/2) (ns x d).
function coralAlign(xs, xt, d, lambda = 1) {
  const fn = 'coralAlign';
  const dd = size(d, fn, 'd');
  const [a, ns] = rows(fn, xs, dd, 'xs');
  const [b, nt] = rows(fn, xt, dd, 'xt');
  const out = new Float64Array(a.length);
  c.tl_coral_align(out, a, ns, b, nt, dd, number(lambda, fn, 'lambda'));
  return out;
}

function frechetDistanceGaussian(mu1, cov1, mu2, cov2) {
  const fn = 'frechetDistanceGaussian';
  const m1 = f64(mu1, fn, 'mu1');
  const d = m1.length;
  const out = [0];
  c.tl_frechet_distance_gaussian(out, m1, opt64(cov1, fn, 'cov1', d * d) ?? fail(fn, 'cov1 is required'),
    opt64(mu2, fn, 'mu2', d) ?? fail(fn, 'mu2 is required'), opt64(cov2, fn, 'cov2', d * d) ?? fail(fn, 'cov2 is required'), d);
  return out[0];
}

// (count(v) + smoothing) / (n + smoothing * vocabSize) for every type v.
function termDistribution(ids, vocabSize, smoothing = 0) {
  const fn = 'termDistribution';
  const t = typed(BigInt64Array, ids, fn, 'ids');
  const v = size(vocabSize, fn, 'vocabSize');
  const out = new Float64Array(v);
  c.tl_term_distribution(out, t.length ? t : null, t.length, v, number(smoothing, fn, 'smoothing'));
  return out;
}

// The six similarities of Ruder & Plank (2017), indexed as
// tl_selection_feature (JS, Renyi, cosine, Euclidean, variational, Bhattacharyya).
function termSimilarity(p, q, alpha = 0.99) {
  const fn = 'termSimilarity';
  const [a, b] = pair(fn, p, q);
  const out = new Float64Array(6);
  c.tl_term_similarity(out, a, b, a.length, number(alpha, fn, 'alpha'));
  return out;
}

// Data-selection features, n x 12 (n = offsets.length - 1): options
// { wordVectors (vocabSize x embedDim), embedDim, renyiAlpha, smoothing }.
function selectionFeatures(ids, offsets, vocabSize, target, opts = {}) {
  const fn = 'selectionFeatures';
  const t = typed(BigInt64Array, ids, fn, 'ids');
  const off = sizes(offsets, fn, 'offsets');
  if (off.length < 2) shape(fn, `offsets has ${off.length} entries, needs n + 1 >= 2`);
  const v = size(vocabSize, fn, 'vocabSize');
  const tg = opt64(target, fn, 'target', v) ?? fail(fn, 'target is required');
  const { wordVectors, embedDim = 0, ...rest } = opts ?? {};
  const e = size(embedDim, fn, 'embedDim');
  let wv = null;
  if (wordVectors !== undefined && wordVectors !== null) {
    if (e === 0) fail(fn, 'embedDim must be > 0 with wordVectors');
    wv = opt64(wordVectors, fn, 'wordVectors', v * e);
  }
  const o = options('tl_selection_options_init', VERSIONS.SELECTION_OPTIONS_VERSION, rest, fn);
  const n = off.length - 1;
  const out = new Float64Array(n * 12);
  c.tl_selection_features(out, t.length ? t : null, off, n, v, tg, wv, wv ? e : 0, o);
  return out;
}

// The k best of n examples by features (n x f) . theta: { indices, scores
// (all n) }.
function selectTop(features, f, theta, k) {
  const fn = 'selectTop';
  const ff = size(f, fn, 'f');
  const [a, n] = rows(fn, features, ff, 'features');
  const th = opt64(theta, fn, 'theta', ff) ?? fail(fn, 'theta is required');
  const kk = size(k, fn, 'k');
  const idx = new BigUint64Array(kk);
  const scores = new Float64Array(n);
  c.tl_select_top(idx, scores, a, n, ff, th, kk);
  return { indices: indices(idx), scores };
}

// sklearn PCA(svd_solver='full') of x (n x d), k components.
function pcaFit(x, d, k) {
  const fn = 'pcaFit';
  const dd = size(d, fn, 'd');
  const [a, n] = rows(fn, x, dd, 'x');
  const kk = size(k, fn, 'k');
  if (!Number.isSafeInteger(kk * dd) || kk > n * dd) fail(fn, `k = ${kk} is too large`);
  const mean = new Float64Array(dd);
  const components = new Float64Array(kk * dd);
  const variance = new Float64Array(kk);
  const varianceRatio = new Float64Array(kk);
  c.tl_pca_fit(mean, components, variance, varianceRatio, a, n, dd, kk);
  return { mean, components, variance, varianceRatio };
}

// (x - mean) components^T: m x k, k = components.length / d.
function pcaTransform(x, d, mean, components) {
  const fn = 'pcaTransform';
  const dd = size(d, fn, 'd');
  const [a, m] = rows(fn, x, dd, 'x');
  const mu = opt64(mean, fn, 'mean', dd) ?? fail(fn, 'mean is required');
  const [comp, k] = rows(fn, components, dd, 'components');
  const out = new Float64Array(m * k);
  c.tl_pca_transform(out, a, m, dd, mu, comp, k);
  return out;
}

const CRITERIA = { centroid: 0, meanDistance: 1 };
const FITS = { target: 0, both: 1 };

// The k source rows closest to the target in PCA space: { indices,
// distances }; options { nComponents, criterion: 'centroid' |
// 'meanDistance', fit: 'target' | 'both' }.
function pcaSelect(xs, xt, d, k, opts) {
  const fn = 'pcaSelect';
  const dd = size(d, fn, 'd');
  const [a, ns] = rows(fn, xs, dd, 'xs');
  const [b, nt] = rows(fn, xt, dd, 'xt');
  const kk = size(k, fn, 'k');
  if (kk > ns) fail(fn, `k = ${kk} exceeds the ${ns} source rows`);
  const o = options('tl_pca_select_options_init', VERSIONS.PCA_SELECT_OPTIONS_VERSION, opts, fn, {
    nComponents: (v) => size(v, fn, 'nComponents'),
    criterion: (v) => CRITERIA[v] ?? fail(fn, `criterion must be 'centroid' or 'meanDistance', got ${v}`),
    fit: (v) => FITS[v] ?? fail(fn, `fit must be 'target' or 'both', got ${v}`),
  });
  const idx = new BigUint64Array(kk);
  const dist = new Float64Array(kk);
  c.tl_pca_select(kk ? idx : null, kk ? dist : null, a, ns, b, nt, dd, kk, o);
  return { indices: indices(idx), distances: dist };
}

// Orthogonal Procrustes: W (d x d) with W x_i ~ y_i.
function procrustes(x, y, d) {
  const fn = 'procrustes';
  const dd = size(d, fn, 'd');
  const [a, n] = rows(fn, x, dd, 'x');
  const [b, m] = rows(fn, y, dd, 'y');
  if (n !== m) shape(fn, `x has ${n} rows, y ${m}`);
  const out = new Float64Array(dd * dd);
  c.tl_procrustes(out, a, b, n, dd);
  return out;
}

// CSLS retrieval: per query the `top` targets, { indices, scores } (nq x
// top); options { knn, top }.
function cslsRetrieve(xq, y, d, opts) {
  const fn = 'cslsRetrieve';
  const dd = size(d, fn, 'd');
  const [a, nq] = rows(fn, xq, dd, 'xq');
  const [b, nt] = rows(fn, y, dd, 'y');
  const o = options('tl_csls_options_init', VERSIONS.CSLS_OPTIONS_VERSION, opts, fn, sizeConv('knn', 'top'));
  const top = Number(o.top);
  if (!Number.isSafeInteger(nq * top) || top > nt) fail(fn, `top = ${top} must be in [1, ${nt}]`);
  const idx = new BigUint64Array(nq * top);
  const scores = new Float64Array(nq * top);
  c.tl_csls_retrieve(idx, scores, a, nq, b, nt, dd, o);
  return { indices: indices(idx), scores };
}

// MUSE precision@k of a retrieval (nQueries x top indices).
function precisionAtK(retrieved, top, k, goldSrc, goldTgt) {
  const fn = 'precisionAtK';
  const r = sizes(retrieved, fn, 'retrieved');
  const t = size(top, fn, 'top');
  if (t === 0 || r.length % t !== 0) shape(fn, `retrieved has ${r.length} entries, not a multiple of top = ${t}`);
  const src = sizes(goldSrc, fn, 'goldSrc');
  const tgt = sizes(goldTgt, fn, 'goldTgt');
  if (src.length !== tgt.length) shape(fn, `goldSrc has ${src.length} entries, goldTgt ${tgt.length}`);
  const out = [0];
  c.tl_precision_at_k(out, r, r.length / t, t, size(k, fn, 'k'), src.length ? src : null, tgt.length ? tgt : null,
    src.length);
  return out[0];
}

module.exports = {
  wasserstein1dHist,
  slicedWasserstein,
  slicedWassersteinProjected,
  slicedDirections,
  sinkhorn,
  proxyADistance,
  coralAlign,
  frechetDistanceGaussian,
  termDistribution,
  termSimilarity,
  selectionFeatures,
  selectTop,
  pcaFit,
  pcaTransform,
  pcaSelect,
  procrustes,
  cslsRetrieve,
  precisionAtK,
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
