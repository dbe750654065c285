'use strict';
const test = require('node:test');
const assert = require('assert');
const tl = require('..');
const { golden, close } = require('./helpers');

const G = golden('metrics_div_golden.h');

test('jsDistance gives the README value (SciPy jensenshannon)', () => {
  close(tl.metrics.jsDistance([1, 0], [0.5, 0.5]), 0.46450140402245893, 1e-15);
  // In bits the divergence is divided by ln 2, the distance by sqrt(ln 2).
  close(tl.metrics.jsDistance(new Float64Array([1, 0]), new Float64Array([0.5, 0.5]), { base: 2 }),
    0.46450140402245893 / Math.sqrt(Math.LN2), 1e-15);
});

test('divergences match the SciPy goldens (tests/fixtures/metrics_div_golden.h)', () => {
  const m = tl.metrics;
  const p = new Float64Array(G.div_p);
  const q = new Float64Array(G.div_q);
  close(m.klDivergence(p, q), G.kl_pq, 1e-13, 0, 'kl');
  close(m.klDivergence(p, q, { base: 2 }), G.kl_pq_base2, 1e-13, 0, 'kl base 2');
  close(m.klDivergence(q, p, { base: 10 }), G.kl_qp_base10, 1e-13, 0, 'kl base 10');
  close(m.entropy(p), G.entropy_p, 1e-13, 0, 'entropy');
  close(m.jsDivergence(p, q), G.js_pq, 1e-13, 0, 'js');
  close(m.jsDistance(p, q), G.js_dist_pq, 1e-13, 0, 'js distance');
  close(m.jsDistance(p, q, { base: 2 }), G.js_dist_pq_base2, 1e-13, 0, 'js distance base 2');
  close(m.renyiDivergence(p, q, 0.5), G.renyi_pq_0_5, 1e-12, 0, 'renyi 0.5');
  close(m.renyiDivergence(p, q, 2), G.renyi_pq_2, 1e-12, 0, 'renyi 2');
  close(m.bhattacharyya(p, q), G.bhatta_pq, 1e-13, 0, 'bhattacharyya');
  close(m.hellinger(p, q), G.hellinger_pq, 1e-13, 0, 'hellinger');
  close(m.totalVariation(p, q), G.tv_pq, 1e-13, 0, 'tv');
  close(m.cosineDistance(G.vec_u, G.vec_v), G.cosine_uv, 1e-13, 0, 'cosine');
  close(m.cosineSimilarity(G.vec_u, G.vec_v), 1 - G.cosine_uv, 1e-12, 0, 'cosine similarity');
  close(m.euclidean(G.vec_u, G.vec_v), G.euclid_uv, 1e-13, 0, 'euclidean');
});

test('typed-array views with an offset are read from their offset (zero copy)', () => {
  const buf = new Float64Array([9, 9, 1, 0, 0.5, 0.5]);
  close(tl.metrics.jsDistance(buf.subarray(2, 4), buf.subarray(4, 6)), 0.46450140402245893, 1e-15);
});

test('closed forms: entropy in bits, KL to a point mass, Wasserstein shift', () => {
  assert.strictEqual(tl.metrics.entropy([0.25, 0.25, 0.25, 0.25], { base: 2 }), 2);
  close(tl.metrics.klDivergence([1, 0], [0.5, 0.5]), Math.LN2, 1e-15);
  // W1 between a sample and the same sample shifted by 0.5 is 0.5.
  close(tl.metrics.wasserstein1d([0, 1, 3], [0.5, 1.5, 3.5]), 0.5, 1e-15);
  assert.strictEqual(tl.metrics.klDivergence([1, 0], [0, 1]), Infinity);
});

test('bad input: wrong typed-array types and sizes, NaN, names in the message', () => {
  const m = tl.metrics;
  assert.throws(() => m.jsDistance(new Float32Array([1, 0]), new Float64Array([0.5, 0.5])),
    (e) => e instanceof tl.InvalidArgumentError && /jsDistance: p must be a Float64Array/.test(e.message));
  assert.throws(() => m.jsDistance([1, 0], [0.5, 0.25, 0.25]),
    (e) => e instanceof tl.ShapeError && /p has 2 elements, q 3/.test(e.message));
  assert.throws(() => m.entropy(['a']), (e) => e instanceof tl.InvalidArgumentError && /p\[0\] must be a number/.test(e.message));
  assert.throws(() => m.entropy([0.5, NaN]), (e) => e instanceof tl.NumericError && e.function === 'tl_entropy' && /tl_entropy/.test(e.message));
  assert.throws(() => m.entropy([0.5, 0.5], { base: 1 }), (e) => e instanceof tl.InvalidArgumentError && e.status === tl.Status.INVALID_ARG);
  assert.throws(() => m.entropy([]), tl.InvalidArgumentError);
  assert.throws(() => m.entropy('abc'), tl.InvalidArgumentError);
  assert.throws(() => m.mmd2([1, 2, 3], [1, 2], 2), tl.ShapeError);
  assert.throws(() => m.mmd2([1, 2], [1, 2], -1), tl.InvalidArgumentError);
});

test('mmd2 is zero for identical sets and positive for shifted ones', () => {
  const x = [0, 0, 1, 0, 0, 1, 1, 1];
  const r = tl.metrics.mmd2(x, x, 2, { sigma: 1 });
  close(r.mmd2, 0, 0, 0);
  assert.strictEqual(r.sigma, 1);
  // Biased MMD^2 of single points a, b: 2 - 2 exp(-|a-b|^2 / (2 sigma^2)).
  close(tl.metrics.mmd2([0], [1], 1, { sigma: 1 }).mmd2, 2 - 2 * Math.exp(-0.5), 1e-14);
});
