'use strict';
const test = require('node:test');
const assert = require('assert');
const tl = require('..');
const { golden, close } = require('./helpers');

// tests/fixtures/metrics_div_golden.h (POT, SciPy: gen_metrics_div.py) and
// metrics_align_golden.h (numpy, sklearn, SciPy, MUSE formulas:
// gen_metrics_align.py), with the tolerances of the C suite.
const D = golden('metrics_div_golden.h');
const A = golden('metrics_align_golden.h');
const M = tl.metrics;

function closeAll(got, want, rel, floor, what) {
  assert.strictEqual(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) close(got[i], want[i], rel, floor, `${what}[${i}]`);
}

test('Sinkhorn equals POT ot.sinkhorn2 / ot.sinkhorn (cost, plan, uniform marginals, log-domain small reg)', () => {
  [[1, D.sk_1], [0.1, D.sk_0_1], [0.01, D.sk_0_01]].forEach(([reg, want]) => {
    const r = M.sinkhorn(D.sk_cost, D.SK_N, D.SK_M, reg, { a: D.sk_a, b: D.sk_b });
    close(r.cost, want, 1e-6, 0, `sinkhorn reg ${reg}`);
    assert.strictEqual(r.converged, true);
    assert.ok(r.iterations >= 1);
    assert.strictEqual(r.plan, null);
  });
  const r = M.sinkhorn(D.sk_cost, D.SK_N, D.SK_M, 0.1, { a: D.sk_a, b: D.sk_b, plan: true });
  closeAll(r.plan, D.sk_plan_0_1, 1e-6, 1e-9 / 1e-6, 'plan');
  close(M.sinkhorn(D.sk_cost, D.SK_N, D.SK_M, 0.1).cost, D.sk_uniform_0_1, 1e-6, 0, 'uniform');
  close(M.sinkhorn(D.sk_cost, D.SK_N, D.SK_M, 1e-3, { a: D.sk_a, b: D.sk_b, maxIter: 5000 }).cost,
    D.sk_log_0_001, 1e-6, 0, 'reg 1e-3');
  const few = M.sinkhorn(D.sk_cost, D.SK_N, D.SK_M, 0.01, { a: D.sk_a, b: D.sk_b, maxIter: 3, tol: 1e-300 });
  assert.deepStrictEqual([few.converged, few.iterations], [false, 3]); // not converging is not an error
});

test('sliced Wasserstein equals POT with given directions; seeded directions are reproducible', () => {
  close(M.slicedWassersteinProjected(D.s_x, D.s_y, D.S_D, D.s_proj, { p: 2 }), D.sw2_xy, 1e-10, 0, 'SW2');
  close(M.slicedWassersteinProjected(D.s_x, D.s_y, D.S_D, D.s_proj, { p: 1 }), D.sw1_xy, 1e-10, 0, 'SW1');
  close(M.slicedWassersteinProjected(D.s_x, D.s_y, D.S_D, D.s_proj, { p: 3, xWeights: D.s_xw, yWeights: D.s_yw }),
    D.sw3_xy_weighted, 1e-10, 0, 'SW3 weighted');
  const dirs = M.slicedDirections(50, D.S_D, 7);
  for (let i = 0; i < 50; i++) close(Math.hypot(...dirs.subarray(i * D.S_D, (i + 1) * D.S_D)), 1, 1e-14, 0, 'unit');
  // tl_sliced_wasserstein with a seed is the projected form on its directions.
  assert.strictEqual(M.slicedWasserstein(D.s_x, D.s_y, D.S_D, { nProjections: 50, seed: 7 }),
    M.slicedWassersteinProjected(D.s_x, D.s_y, D.S_D, dirs));
  close(M.wasserstein1dHist(D.h_x, D.h_a, D.h_b), D.h_w1, 1e-10, 0, 'hist W1');
  close(M.wasserstein1dHist(D.h_x, D.h_a, D.h_b, { p: 2 }), D.h_w2, 1e-10, 0, 'hist W2');
});

test('CORAL alignment, Frechet from moments, term distributions and similarities, selection features', () => {
  [[1, A.coral_align_lam1], [1e-5, A.coral_align_lam1em5], [0, A.coral_align_lam0]].forEach(([lam, want]) => {
    closeAll(M.coralAlign(A.coral_xs, A.coral_xt, A.CORAL_D, lam), want, 1e-10, 0, `coralAlign ${lam}`);
  });
  close(M.coralDistance(A.coral_xs, A.coral_xt, A.CORAL_D), A.coral_distance_want, 1e-12, 0, 'coral');
  close(M.frechetDistanceGaussian(A.frechet_mu1, A.frechet_cov1, A.frechet_mu2, A.frechet_cov2), A.frechet_want,
    1e-10, 0, 'frechet gaussian');
  closeAll(M.termDistribution(A.term_ids, 8), A.term_dist_k0, 1e-15, 0, 'term k0');
  closeAll(M.termDistribution(A.term_ids, 8, 0.5), A.term_dist_k05, 1e-15, 0, 'term k0.5');
  closeAll(M.termSimilarity(A.sim_p, A.sim_q, 0.99), A.sim_want_a099, 1e-10, 0, 'similarity 0.99');
  closeAll(M.termSimilarity(A.sim_p, A.sim_q, 0.5), A.sim_want_a05, 1e-12, 0, 'similarity 0.5');
  const f = M.selectionFeatures(A.sel_ids, A.sel_offsets, A.SEL_V, A.sel_target,
    { wordVectors: A.sel_vectors, embedDim: A.SEL_E });
  closeAll(f, A.sel_features_default, 1e-10, 1e-15 / 1e-10, 'features');
  closeAll(M.selectionFeatures(A.sel_ids, A.sel_offsets, A.SEL_V, A.sel_target, { renyiAlpha: 0.5, smoothing: 1 }),
    A.sel_features_novec_k1, 1e-10, 1e-15 / 1e-10, 'features k1');
  const top = M.selectTop(A.top_features, 2, A.top_theta, 6);
  assert.deepStrictEqual(top.indices, A.top_order);
  closeAll(top.scores, A.top_scores, 1e-15, 0, 'top scores');
  assert.deepStrictEqual(M.selectTop(A.top_features, 2, A.top_theta, 3).indices, A.top_order.slice(0, 3));
});

test('PCA (sklearn), PCA selection, Procrustes (MUSE), CSLS and precision@k', () => {
  const p = M.pcaFit(A.pca_x, A.PCA_D, A.PCA_K);
  closeAll(p.mean, A.pca_mean, 1e-12, 0, 'mean');
  closeAll(p.components, A.pca_components, 1e-10, 0, 'components');
  closeAll(p.variance, A.pca_variance, 1e-10, 0, 'variance');
  closeAll(p.varianceRatio, A.pca_ratio, 1e-10, 0, 'ratio');
  closeAll(M.pcaTransform(A.pca_x.slice(0, 5 * A.PCA_D), A.PCA_D, p.mean, p.components), A.pca_projected, 1e-10, 0,
    'projected');
  const cases = [['target', 'centroid', 'psel_target_centroid'], ['target', 'meanDistance', 'psel_target_mean'],
    ['both', 'centroid', 'psel_both_centroid'], ['both', 'meanDistance', 'psel_both_mean']];
  for (const [fit, criterion, name] of cases) {
    const r = M.pcaSelect(A.psel_xs, A.psel_xt, A.PSEL_D, A.PSEL_K, { nComponents: A.PSEL_C, fit, criterion });
    assert.deepStrictEqual(r.indices, A[`${name}_idx`], name);
    closeAll(r.distances, A[`${name}_dist`], 1e-10, 0, name);
  }
  closeAll(M.procrustes(A.proc_x, A.proc_y, A.PROC_D), A.proc_w, 1e-10, 0, 'procrustes');
  const cs = M.cslsRetrieve(A.csls_xq, A.csls_y, A.CSLS_D, { knn: A.CSLS_KNN, top: A.CSLS_TOP });
  assert.deepStrictEqual(cs.indices, A.csls_idx);
  closeAll(cs.scores, A.csls_scores, 1e-12, 1, 'csls');
  // MUSE precision@k on the C suite's example: 4 queries x 3 targets.
  const retrieved = [5, 1, 2, 7, 8, 9, 3, 4, 0, 6, 6, 6];
  const src = [0, 0, 1, 2];
  const tgt = [1, 2, 9, 3];
  close(M.precisionAtK(retrieved, 3, 1, src, tgt), 1 / 3, 1e-15, 0, 'P@1');
  close(M.precisionAtK(retrieved, 3, 2, src, tgt), 2 / 3, 1e-15, 0, 'P@2');
  assert.strictEqual(M.precisionAtK(retrieved, 3, 3, src, tgt), 1);
});

test('proxy A-distance: 2 (1 - 2 err), separable domains give 2, same seed same result', () => {
  const r = M.proxyADistance(A.pad_xs, A.pad_xt, A.PAD_D, { seed: 3 });
  close(r.distance, 2 * (1 - 2 * r.error), 1e-15, 0, 'distance');
  assert.deepStrictEqual(M.proxyADistance(A.pad_xs, A.pad_xt, A.PAD_D, { seed: 3 }), r);
  // Two far-apart clusters: the held-out error is 0.
  const xs = [];
  const xt = [];
  for (let i = 0; i < 10; i++) { xs.push(i * 0.01, 5); xt.push(i * 0.01, -5); }
  assert.deepStrictEqual(M.proxyADistance(xs, xt, 2), { distance: 2, error: 0 });
});

test('bad input: shapes, options, indices, NaN', () => {
  assert.throws(() => M.sinkhorn(D.sk_cost, 12, 8, 0.1), (e) => e instanceof tl.ShapeError && /costMatrix has 108 elements/.test(e.message));
  assert.throws(() => M.sinkhorn(D.sk_cost, 12, 9, 0), (e) => e instanceof tl.InvalidArgumentError && /tl_sinkhorn/.test(e.message));
  assert.throws(() => M.sinkhorn(D.sk_cost, 12, 9, 0.1, { a: [1, 2] }), /a has 2 elements, expected 12/);
  assert.throws(() => M.sinkhorn(D.sk_cost, 12, 9, 0.1, { maxIters: 3 }), /sinkhorn: unknown option maxIters/);
  assert.throws(() => M.slicedWasserstein(D.s_x, D.s_y, 3), /x has 400 elements, not a multiple of d = 3/);
  assert.throws(() => M.slicedWasserstein(D.s_x, D.s_y, 4, { p: 0.5 }), /tl_sliced_wasserstein/);
  assert.throws(() => M.slicedDirections(-1, 2), /k must be a non-negative integer/);
  assert.throws(() => M.wasserstein1dHist([0, 1], [1, 0], [0]), /b has 1 elements, expected 2/);
  assert.throws(() => M.coralAlign(A.coral_xs, A.coral_xt, 4, -1), /tl_coral_align.*lambda/);
  assert.throws(() => M.frechetDistanceGaussian([0, 0], [1, 0, 0], [0, 0], [1, 0, 0, 1]), /cov1 has 3 elements, expected 4/);
  assert.throws(() => M.frechetDistanceGaussian([0, 0], [1, 2, 0, 1], [0, 0], [1, 0, 0, 1]), /tl_frechet_distance_gaussian.*cov1/);
  assert.throws(() => M.termDistribution([0, 9], 8), (e) => e instanceof tl.InvalidArgumentError && /tl_term_distribution/.test(e.message));
  assert.throws(() => M.termDistribution(new Float64Array([0]), 8), /ids must be a BigInt64Array/);
  assert.throws(() => M.selectionFeatures(A.sel_ids, [0], 10, A.sel_target), /offsets has 1 entries/);
  assert.throws(() => M.selectionFeatures(A.sel_ids, [0, -1], 10, A.sel_target), /offsets\[1\] must be a non-negative integer/);
  assert.throws(() => M.selectionFeatures(A.sel_ids, A.sel_offsets, 10, A.sel_target, { wordVectors: A.sel_vectors }), /embedDim must be > 0/);
  assert.throws(() => M.selectionFeatures(A.sel_ids, A.sel_offsets, 10, A.sel_target, { renyiAlpha: 1 }), /tl_selection_features/);
  assert.throws(() => M.selectTop(A.top_features, 2, A.top_theta, 0), /tl_select_top/);
  assert.throws(() => M.pcaFit(A.pca_x, 6, 0), /tl_pca_fit/);
  assert.throws(() => M.pcaSelect(A.psel_xs, A.psel_xt, 6, 4, { criterion: 'median' }), /criterion must be 'centroid' or 'meanDistance'/);
  assert.throws(() => M.pcaSelect(A.psel_xs, A.psel_xt, 6, 11), /k = 11 exceeds the 10 source rows/);
  assert.throws(() => M.procrustes([1, 2, 3, 4], [1, 2], 2), /x has 2 rows, y 1/);
  assert.throws(() => M.procrustes([1, NaN, 3, 4], [1, 2, 3, 4], 2), (e) => e instanceof tl.NumericError && /tl_procrustes/.test(e.message));
  assert.throws(() => M.cslsRetrieve(A.csls_xq, A.csls_y, 4, { knn: 100 }), /tl_csls_retrieve.*knn/);
  assert.throws(() => M.cslsRetrieve(A.csls_xq, A.csls_y, 4, { top: 26 }), /top = 26 must be in \[1, 25\]/);
  assert.throws(() => M.precisionAtK([1, 2, 3], 2, 1, [0], [1]), /retrieved has 3 entries, not a multiple of top = 2/);
  assert.throws(() => M.precisionAtK([1, 2], 2, 3, [0], [1]), /tl_precision_at_k/);
  assert.throws(() => M.precisionAtK([1, 2], 2, 1, [0, 1], [1]), /goldSrc has 2 entries, goldTgt 1/);
  assert.throws(() => M.proxyADistance([1, 2], [3, 4], 1), /tl_proxy_a_distance/); // too few rows
});
