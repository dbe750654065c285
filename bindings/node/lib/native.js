'use strict';
// Loading libtl through koffi and declaring its C functions: one table of C
// prototypes (as bindings/python/tl/_native.py), each function wrapped so a
// negative tl_status throws the tl.Error subclass of that status carrying
// tl_last_error(). koffi does no range checking of its own (a -1 passed as
// size_t reaches C as SIZE_MAX, a Float32Array passed as double * is read as
// doubles), so every public wrapper validates its arguments with the helpers
// at the end of this file before anything crosses into C.
const fs = require('fs');
const path = require('path');
const koffi = require('koffi');
const errors = require('./errors');

function candidates() {
  const env = process.env.TL_LIBRARY;
  // An explicit choice is final: a wrong path is an error, not a hint.
  if (env) return [env];
  const here = path.join(__dirname, '..');
  const found = [];
  for (const name of fs.readdirSync(here).sort()) {
    if (/^libtl\.so(\.\d+)*$/.test(name)) found.push(path.join(here, name));
  }
  found.push('libtl.so.0', 'libtl.so');
  return found;
}

function load() {
  const tried = [];
  for (const p of candidates()) {
    try {
      return { lib: koffi.load(p), path: p };
    } catch (e) {
      tried.push(`${p} (${e.message})`);
    }
  }
  throw new Error('libtl was not found: set TL_LIBRARY to the path of libtl.so, put libtl.so ' +
                  'next to the package, or install it system-wide. Tried: ' + tried.join(', '));
}

const { lib, path: libraryPath } = load();

// The versions this binding is written for: 0.1.x (TL_VERSION_NUMBER
// 100..199). Checked before anything else is declared, so a library of
// another version is named as such rather than by a missing function.
const SUPPORTED = { min: 100, max: 199, text: '0.1.x' };
{
  let number;
  let text;
  try {
    number = lib.func('uint tl_version_number(void)')();
    text = lib.func('const char *tl_version_string(void)')();
  } catch (e) {
    throw new Error(`${libraryPath} is not libtl: it has no tl_version_number (${e.message})`);
  }
  if (number < SUPPORTED.min || number > SUPPORTED.max) {
    throw new Error(`libtl at ${libraryPath} is version ${text}; this binding supports ${SUPPORTED.text}`);
  }
}

// Opaque handles.
for (const name of ['tl_model', 'tl_optim', 'tl_sched', 'tl_ckpt', 'tl_plan']) koffi.opaque(name);

// Versioned structs (the headers' field order; versions as TL_<X>_VERSION,
// checked against include/tl/*.h by test/versions.test.js).
const VERSIONS = {
  MODEL_OPTIONS_VERSION: 1, EMBEDDING_OPTIONS_VERSION: 1, LSTM_OPTIONS_VERSION: 1,
  GRU_OPTIONS_VERSION: 1, OPTIM_OPTIONS_VERSION: 1, MMD_OPTIONS_VERSION: 1,
  SCHED_STLR_OPTIONS_VERSION: 1, SCHED_COSINE_OPTIONS_VERSION: 1,
  SCHED_ONE_CYCLE_OPTIONS_VERSION: 1, SCHED_FASTAI_ONE_CYCLE_OPTIONS_VERSION: 1,
  SCHED_LINEAR_OPTIONS_VERSION: 1, SCHED_STEP_OPTIONS_VERSION: 1,
  SCHED_EXPONENTIAL_OPTIONS_VERSION: 1, SCHED_CONSTANT_OPTIONS_VERSION: 1,
  SCHED_CYCLIC_OPTIONS_VERSION: 1, SCHED_COSINE_RESTARTS_OPTIONS_VERSION: 1,
  SCHED_MULTI_STEP_OPTIONS_VERSION: 1, PLAN_STAGE_VERSION: 1, PLAN_PRESET_OPTIONS_VERSION: 2,
  SLICED_OPTIONS_VERSION: 1, SINKHORN_OPTIONS_VERSION: 1, PROXY_A_OPTIONS_VERSION: 1,
  SELECTION_OPTIONS_VERSION: 1, PCA_SELECT_OPTIONS_VERSION: 1, CSLS_OPTIONS_VERSION: 1,
  CKPT_LOAD_OPTIONS_VERSION: 1, MODEL_LOAD_OPTIONS_VERSION: 1, CKPT_TENSOR_DESC_VERSION: 1,
  LR_FIND_OPTIONS_VERSION: 1, LR_FIND_RESULT_VERSION: 1,
};
// Every struct the binding declares, by C name (test/lifecycle.test.js
// compares their sizes and offsets with tests/layout/print_layout).
const STRUCTS = {};
const struct = (name, def) => { STRUCTS[name] = koffi.struct(name, def); return STRUCTS[name]; };
struct('tl_model_options', { version: 'uint', seed: 'uint64_t' });
struct('tl_embedding_options', { version: 'uint', padding_idx: 'int64_t', embed_p: 'float' });
struct('tl_lstm_options', {
  version: 'uint', weight_p: 'float', input_p: 'float', hidden_p: 'float', output_p: 'float',
  ar_alpha: 'float', tar_beta: 'float', stateful: 'int' });
struct('tl_gru_options', { version: 'uint', weight_p: 'float', hidden_p: 'float', stateful: 'int' });
struct('tl_optim_options', {
  version: 'uint', kind: 'int', lr: 'double', momentum: 'double', beta2: 'double', eps: 'double',
  weight_decay: 'double', nesterov: 'int' });
struct('tl_mmd_options', { version: 'uint', sigma: 'double', unbiased: 'int' });
struct('tl_sched_stlr_options', {
  version: 'uint', lr_max: 'double', total_steps: 'uint64_t', cut_frac: 'double', ratio: 'double' });
struct('tl_sched_cosine_options', { version: 'uint', base_lr: 'double', t_max: 'uint64_t', eta_min: 'double' });
struct('tl_sched_one_cycle_options', {
  version: 'uint', max_lr: 'double', total_steps: 'uint64_t', pct_start: 'double', div_factor: 'double',
  final_div_factor: 'double', three_phase: 'int', anneal: 'int', cycle_momentum: 'int',
  base_momentum: 'double', max_momentum: 'double' });
struct('tl_sched_fastai_one_cycle_options', {
  version: 'uint', lr_max: 'double', total_steps: 'uint64_t', pct_start: 'double', div: 'double',
  div_final: 'double', moms: koffi.array('double', 3) });
struct('tl_sched_linear_options', {
  version: 'uint', base_lr: 'double', start_factor: 'double', end_factor: 'double', total_iters: 'uint64_t' });
struct('tl_sched_step_options', { version: 'uint', base_lr: 'double', step_size: 'uint64_t', gamma: 'double' });
struct('tl_sched_exponential_options', { version: 'uint', base_lr: 'double', gamma: 'double' });
struct('tl_sched_constant_options', { version: 'uint', lr: 'double', factor: 'double', total_iters: 'uint64_t' });
struct('tl_sched_cyclic_options', {
  version: 'uint', base_lr: 'double', max_lr: 'double', step_size_up: 'uint64_t', step_size_down: 'uint64_t',
  mode: 'int', gamma: 'double', cycle_momentum: 'int', base_momentum: 'double', max_momentum: 'double' });
struct('tl_sched_cosine_restarts_options', {
  version: 'uint', base_lr: 'double', t_0: 'uint64_t', t_mult: 'uint64_t', eta_min: 'double' });
// milestones is a pointer the caller owns: lib/sched.js sets it to a
// BigUint64Array kept alive for the duration of the create call.
struct('tl_sched_multi_step_options', {
  version: 'uint', base_lr: 'double', milestones: 'const uint64_t *', n_milestones: 'size_t', gamma: 'double' });
struct('tl_sliced_options', { version: 'uint', n_projections: 'size_t', p: 'double', seed: 'uint64_t' });
struct('tl_sinkhorn_options', { version: 'uint', max_iter: 'size_t', tol: 'double' });
struct('tl_proxy_a_options', {
  version: 'uint', train_fraction: 'double', epochs: 'size_t', lr: 'double', l2: 'double', seed: 'uint64_t' });
struct('tl_selection_options', { version: 'uint', renyi_alpha: 'double', smoothing: 'double' });
struct('tl_pca_select_options', { version: 'uint', n_components: 'size_t', criterion: 'int', fit: 'int' });
struct('tl_csls_options', { version: 'uint', knn: 'size_t', top: 'size_t' });
struct('tl_ckpt_load_options', { version: 'uint', verify_data_crc: 'int', max_size: 'uint64_t' });
struct('tl_ckpt_tensor_desc', {
  version: 'uint', name: 'const char *', dtype: 'int', rank: 'size_t', shape: koffi.array('size_t', 8),
  numel: 'size_t', nbytes: 'size_t', group: 'uint32_t' });
// The load report callback: registered (koffi.register) for the duration of
// one load by lib/ckpt.js, whose wrapper never lets a JS exception reach C.
const REPORT_FN = koffi.proto('void tl_load_report_fn(void *payload, int issue, const char *name)');
// prefix, map_from, map_to and report are borrowed for the duration of the
// load call (lib/ckpt.js keeps them referenced).
struct('tl_model_load_options', {
  version: 'uint', strict: 'int', prefix: 'const char *', map_from: 'const char **', map_to: 'const char **',
  map_n: 'size_t', restore_rng: 'int', report: 'void *', report_payload: 'void *' });
// sched and base_lrs are borrowed for the duration of tl_plan_add_stage,
// which copies them (lib/plan.js).
struct('tl_plan_stage', {
  version: 'uint', freeze: 'int', freeze_arg: 'int64_t', steps: 'uint64_t', sched: 'const tl_sched *',
  base_lrs: 'const double *', reset_state: 'int' });
struct('tl_plan_preset_options', {
  version: 'uint', n_groups: 'size_t', lr: 'double', stage_steps: 'uint64_t', final_steps: 'uint64_t',
  factor: 'double', cut_frac: 'double', ratio: 'double', lr_mult: 'double', pct_start: 'double',
  div: 'double', stage_lrs: 'const double *', n_stage_lrs: 'size_t' });
struct('tl_lr_find_options', {
  version: 'uint', start_lr: 'double', end_lr: 'double', num_it: 'size_t', beta: 'double',
  stop_factor: 'double' });
struct('tl_lr_find_result', {
  version: 'uint', n: 'size_t', diverged: 'int', has_suggestions: 'int', lr_min: 'double',
  lr_steep: 'double', lr_valley: 'double' });
// lr_find's step: the JS callback is wrapped (lib/lrfind.js) so that a throw
// never reaches koffi, which would return 0 (TL_OK) to C.
const STEP_FN = koffi.proto('int tl_lr_find_step_fn(void *payload, double *out_loss)');

// Every declared function: C prototype strings, koffi's syntax (_Out_ marks
// a pointer written by C and read back into a one-element JS array).
const TABLE = [
  // core.h
  'const char *tl_status_string(int status)',
  'const char *tl_last_error(void)',
  'void tl_clear_error(void)',
  'const char *tl_version_string(void)',
  'uint tl_version_number(void)',
  // metrics.h
  'int tl_kl_divergence(_Out_ double *out, const double *p, const double *q, size_t n, double base)',
  'int tl_entropy(_Out_ double *out, const double *p, size_t n, double base)',
  'int tl_js_divergence(_Out_ double *out, const double *p, const double *q, size_t n, double base)',
  'int tl_js_distance(_Out_ double *out, const double *p, const double *q, size_t n, double base)',
  'int tl_renyi_divergence(_Out_ double *out, const double *p, const double *q, size_t n, double alpha, double base)',
  'int tl_bhattacharyya(_Out_ double *out, const double *p, const double *q, size_t n)',
  'int tl_hellinger(_Out_ double *out, const double *p, const double *q, size_t n)',
  'int tl_total_variation(_Out_ double *out, const double *p, const double *q, size_t n)',
  'int tl_cosine_similarity(_Out_ double *out, const double *u, const double *v, size_t n)',
  'int tl_cosine_distance(_Out_ double *out, const double *u, const double *v, size_t n)',
  'int tl_euclidean(_Out_ double *out, const double *u, const double *v, size_t n)',
  'int tl_wasserstein_1d(_Out_ double *out, const double *u, size_t n, const double *uw, const double *v, size_t m, const double *vw, double p)',
  'int tl_mmd_options_init(_Out_ tl_mmd_options *out, uint version)',
  'int tl_mmd2(_Out_ double *out, _Out_ double *out_sigma, const double *x, size_t n, const double *y, size_t m, size_t d, const tl_mmd_options *options)',
  'int tl_coral_distance(_Out_ double *out, const double *xs, size_t ns, const double *xt, size_t nt, size_t d)',
  'int tl_frechet_distance(_Out_ double *out, const double *x1, size_t n1, const double *x2, size_t n2, size_t d)',
  // model.h
  'int tl_model_options_init(_Out_ tl_model_options *out, uint version)',
  'int tl_model_create(_Out_ tl_model **out, const tl_model_options *options)',
  'void tl_model_free(tl_model *model)',
  'int tl_embedding_options_init(_Out_ tl_embedding_options *out, uint version)',
  'int tl_model_add_embedding(tl_model *model, const char *name, size_t num, size_t dim, const tl_embedding_options *options)',
  'int tl_lstm_options_init(_Out_ tl_lstm_options *out, uint version)',
  'int tl_model_add_lstm(tl_model *model, const char *name, size_t input_size, size_t hidden_size, size_t num_layers, const tl_lstm_options *options)',
  'int tl_gru_options_init(_Out_ tl_gru_options *out, uint version)',
  'int tl_model_add_gru(tl_model *model, const char *name, size_t input_size, size_t hidden_size, size_t num_layers, const tl_gru_options *options)',
  'int tl_model_add_linear(tl_model *model, const char *name, size_t in_features, size_t out_features, int activation)',
  'int tl_model_add_dropout(tl_model *model, const char *name, int kind, float p)',
  'int tl_model_add_concat_pool(tl_model *model, const char *name)',
  'int tl_model_add_decoder(tl_model *model, const char *name, size_t in_features, size_t out_features, tl_model *tie_model, const char *tie_layer)',
  'int tl_model_num_layers(_Out_ size_t *out, const tl_model *model)',
  'int tl_model_layer_name(_Out_ const char **out, const tl_model *model, size_t index)',
  'int tl_model_set_group(tl_model *model, const char *layer, size_t group)',
  'int tl_model_get_group(_Out_ size_t *out, const tl_model *model, const char *layer)',
  'int tl_model_num_groups(_Out_ size_t *out, const tl_model *model)',
  'int tl_model_freeze_to(tl_model *model, int64_t n)',
  'int tl_model_freeze(tl_model *model)',
  'int tl_model_unfreeze(tl_model *model)',
  'int tl_model_set_group_trainable(tl_model *model, size_t group, int trainable)',
  'int tl_model_get_group_trainable(_Out_ int *out, const tl_model *model, size_t group)',
  'int tl_model_num_params(_Out_ size_t *out, const tl_model *model)',
  'int tl_model_param_name(_Out_ const char **out, const tl_model *model, size_t index)',
  'int tl_model_param_shape(_Out_ size_t *out_ndim, size_t *out_dims, _Out_ size_t *out_numel, const tl_model *model, const char *name)',
  'int tl_model_param_offset(_Out_ size_t *out, const tl_model *model, const char *name)',
  'int tl_model_param_get(float *out, size_t n, const tl_model *model, const char *name)',
  'int tl_model_param_set(tl_model *model, const char *name, const float *values, size_t n)',
  'int tl_model_flat_params(_Out_ void **out, _Out_ size_t *out_n, tl_model *model)',
  'int tl_model_flat_grads(_Out_ void **out, _Out_ size_t *out_n, tl_model *model)',
  'int tl_model_set_param_trainable(tl_model *model, const char *name, int trainable)',
  'int tl_model_get_param_trainable(_Out_ int *out, const tl_model *model, const char *name)',
  'int tl_model_set_param_mask(tl_model *model, const char *name, const uint8_t *mask, size_t n)',
  'int tl_model_train(tl_model *model)',
  'int tl_model_eval(tl_model *model)',
  'int tl_model_is_training(_Out_ int *out, const tl_model *model)',
  'int tl_model_set_mode(tl_model *model, int mode)',
  'int tl_model_get_mode(_Out_ int *out, const tl_model *model)',
  'int tl_model_set_lengths(tl_model *model, const size_t *lengths, size_t batch)',
  'int tl_model_forward(_Out_ void **out_y, size_t *out_dims, _Out_ size_t *out_ndim, tl_model *model, const float *x, const size_t *dims, size_t ndim)',
  'int tl_model_forward_ids(_Out_ void **out_y, size_t *out_dims, _Out_ size_t *out_ndim, tl_model *model, const int64_t *ids, const size_t *dims, size_t ndim)',
  'int tl_model_backward(_Out_ void **out_dx, tl_model *model, const float *dy, const size_t *dims, size_t ndim)',
  'int tl_model_reset_state(tl_model *model)',
  'int tl_model_aux_loss(_Out_ double *out, const tl_model *model)',
  'int tl_model_zero_grad(tl_model *model)',
  'int tl_cross_entropy(_Out_ float *out_loss, float *out_dlogits, const float *logits, const int64_t *targets, size_t n, size_t c, int64_t ignore_index)',
  'int tl_accuracy(_Out_ float *out, const float *logits, const int64_t *targets, size_t n, size_t c, int64_t ignore_index)',
  // optim.h
  'int tl_optim_options_init(_Out_ tl_optim_options *out, uint version, int kind)',
  'int tl_optim_create(_Out_ tl_optim **out, tl_model **models, size_t n_models, const tl_optim_options *options)',
  'void tl_optim_free(tl_optim *optim)',
  'int tl_optim_num_groups(_Out_ size_t *out, const tl_optim *optim)',
  'int tl_optim_set_group_hparam(tl_optim *optim, size_t group, int which, double value)',
  'int tl_optim_get_group_hparam(_Out_ double *out, const tl_optim *optim, size_t group, int which)',
  'int tl_optim_set_lrs(tl_optim *optim, const double *lrs, size_t n)',
  'int tl_lrs_even(double *out, size_t n, double lo, double hi)',
  'int tl_lrs_slice(double *out, size_t n, double hi)',
  'int tl_lrs_factor(double *out, size_t n, double top, double factor)',
  'int tl_optim_freeze_to(tl_optim *optim, int64_t n)',
  'int tl_optim_set_group_trainable(tl_optim *optim, size_t group, int trainable)',
  'int tl_optim_zero_grad(tl_optim *optim)',
  'int tl_optim_clip_grad_norm(_Out_ double *out_norm, tl_optim *optim, double max_norm)',
  'int tl_optim_step(tl_optim *optim)',
  'int tl_optim_step_count(_Out_ uint64_t *out, const tl_optim *optim)',
  'int tl_optim_reset_state(tl_optim *optim)',
  'int tl_optim_state_size(_Out_ size_t *out, const tl_optim *optim)',
  'int tl_optim_state_save(uint8_t *out, size_t size, const tl_optim *optim)',
  'int tl_optim_state_load(tl_optim *optim, const uint8_t *buffer, size_t size)',
  // sched.h
  'int tl_sched_stlr_options_init(_Out_ tl_sched_stlr_options *out, uint version)',
  'int tl_sched_stlr_create(_Out_ tl_sched **out, const tl_sched_stlr_options *options)',
  'int tl_sched_cosine_options_init(_Out_ tl_sched_cosine_options *out, uint version)',
  'int tl_sched_cosine_create(_Out_ tl_sched **out, const tl_sched_cosine_options *options)',
  'int tl_sched_one_cycle_options_init(_Out_ tl_sched_one_cycle_options *out, uint version)',
  'int tl_sched_one_cycle_create(_Out_ tl_sched **out, const tl_sched_one_cycle_options *options)',
  'int tl_sched_fastai_one_cycle_options_init(_Out_ tl_sched_fastai_one_cycle_options *out, uint version)',
  'int tl_sched_fastai_one_cycle_create(_Out_ tl_sched **out, const tl_sched_fastai_one_cycle_options *options)',
  'int tl_sched_linear_options_init(_Out_ tl_sched_linear_options *out, uint version)',
  'int tl_sched_linear_create(_Out_ tl_sched **out, const tl_sched_linear_options *options)',
  'int tl_sched_step_options_init(_Out_ tl_sched_step_options *out, uint version)',
  'int tl_sched_step_create(_Out_ tl_sched **out, const tl_sched_step_options *options)',
  'int tl_sched_exponential_options_init(_Out_ tl_sched_exponential_options *out, uint version)',
  'int tl_sched_exponential_create(_Out_ tl_sched **out, const tl_sched_exponential_options *options)',
  'int tl_sched_constant_options_init(_Out_ tl_sched_constant_options *out, uint version)',
  'int tl_sched_constant_create(_Out_ tl_sched **out, const tl_sched_constant_options *options)',
  'int tl_sched_cyclic_options_init(_Out_ tl_sched_cyclic_options *out, uint version)',
  'int tl_sched_cyclic_create(_Out_ tl_sched **out, const tl_sched_cyclic_options *options)',
  'int tl_sched_cosine_restarts_options_init(_Out_ tl_sched_cosine_restarts_options *out, uint version)',
  'int tl_sched_cosine_restarts_create(_Out_ tl_sched **out, const tl_sched_cosine_restarts_options *options)',
  'int tl_sched_multi_step_options_init(_Out_ tl_sched_multi_step_options *out, uint version)',
  'int tl_sched_multi_step_create(_Out_ tl_sched **out, const tl_sched_multi_step_options *options)',
  'int tl_sched_sequential_create(_Out_ tl_sched **out, tl_sched **scheds, size_t n, const uint64_t *milestones)',
  'void tl_sched_free(tl_sched *sched)',
  'int tl_sched_lr(_Out_ double *out, const tl_sched *sched, uint64_t step)',
  'int tl_sched_momentum(_Out_ double *out, const tl_sched *sched, uint64_t step)',
  'int tl_sched_has_momentum(const tl_sched *sched)',
  'int tl_sched_get_kind(_Out_ int *out, const tl_sched *sched)',
  'int tl_sched_total_steps(_Out_ uint64_t *out, const tl_sched *sched)',
  'int tl_sched_multiplier(_Out_ double *out, const tl_sched *sched, uint64_t step)',
  'int tl_sched_fill_group_lrs(double *out_lrs, size_t n_groups, const tl_sched *sched, const double *base_lrs, uint64_t step)',
  // metrics.h: optimal transport and part 2 (alignment, selection)
  'int tl_wasserstein_1d_hist(_Out_ double *out, const double *x, const double *a, const double *b, size_t n, double p)',
  'int tl_sliced_options_init(_Out_ tl_sliced_options *out, uint version)',
  'int tl_sliced_wasserstein(_Out_ double *out, const double *x, size_t n, const double *x_weights, const double *y, size_t m, const double *y_weights, size_t d, const tl_sliced_options *options)',
  'int tl_sliced_wasserstein_projected(_Out_ double *out, const double *x, size_t n, const double *x_weights, const double *y, size_t m, const double *y_weights, size_t d, const double *projections, size_t k, double p)',
  'int tl_sliced_directions(double *out, size_t k, size_t d, uint64_t seed)',
  'int tl_sinkhorn_options_init(_Out_ tl_sinkhorn_options *out, uint version)',
  'int tl_sinkhorn(_Out_ double *out_cost, double *out_plan, _Out_ size_t *out_iterations, _Out_ int *out_converged, const double *a, size_t n, const double *b, size_t m, const double *cost_matrix, double reg, const tl_sinkhorn_options *options)',
  'int tl_proxy_a_options_init(_Out_ tl_proxy_a_options *out, uint version)',
  'int tl_proxy_a_distance(_Out_ double *out_distance, _Out_ double *out_error, const double *xs, size_t ns, const double *xt, size_t nt, size_t d, const tl_proxy_a_options *opts)',
  'int tl_coral_align(double *out, const double *xs, size_t ns, const double *xt, size_t nt, size_t d, double lambda)',
  'int tl_frechet_distance_gaussian(_Out_ double *out, const double *mu1, const double *cov1, const double *mu2, const double *cov2, size_t d)',
  'int tl_term_distribution(double *out, const int64_t *ids, size_t n, size_t vocab_size, double smoothing)',
  'int tl_term_similarity(double *out, const double *p, const double *q, size_t n, double alpha)',
  'int tl_selection_options_init(_Out_ tl_selection_options *out, uint version)',
  'int tl_selection_features(double *out, const int64_t *ids, const size_t *offsets, size_t n, size_t vocab_size, const double *target, const double *word_vectors, size_t embed_dim, const tl_selection_options *opts)',
  'int tl_select_top(size_t *out_indices, double *out_scores, const double *features, size_t n, size_t f, const double *theta, size_t k)',
  'int tl_pca_fit(double *out_mean, double *out_components, double *out_variance, double *out_variance_ratio, const double *x, size_t n, size_t d, size_t k)',
  'int tl_pca_transform(double *out, const double *x, size_t m, size_t d, const double *mean, const double *components, size_t k)',
  'int tl_pca_select_options_init(_Out_ tl_pca_select_options *out, uint version)',
  'int tl_pca_select(size_t *out_indices, double *out_distances, const double *xs, size_t ns, const double *xt, size_t nt, size_t d, size_t k, const tl_pca_select_options *opts)',
  'int tl_procrustes(double *out_w, const double *x, const double *y, size_t n, size_t d)',
  'int tl_csls_options_init(_Out_ tl_csls_options *out, uint version)',
  'int tl_csls_retrieve(size_t *out_indices, double *out_scores, const double *xq, size_t nq, const double *y, size_t nt, size_t d, const tl_csls_options *opts)',
  'int tl_precision_at_k(_Out_ double *out, const size_t *retrieved, size_t n_queries, size_t top, size_t k, const size_t *gold_src, const size_t *gold_tgt, size_t n_gold)',
  // ckpt.h
  'int tl_ckpt_create(_Out_ tl_ckpt **out)',
  'void tl_ckpt_free(tl_ckpt *ckpt)',
  'int tl_ckpt_tensor_count(_Out_ size_t *out, const tl_ckpt *ckpt)',
  'int tl_ckpt_set_meta(tl_ckpt *ckpt, const char *key, const char *value)',
  'int tl_ckpt_get_meta(_Out_ const char **out, const tl_ckpt *ckpt, const char *key)',
  'int tl_ckpt_set_step(tl_ckpt *ckpt, uint64_t step)',
  'int tl_ckpt_get_step(_Out_ uint64_t *out, const tl_ckpt *ckpt)',
  'int tl_ckpt_save(const tl_ckpt *ckpt, const char *path)',
  'int tl_ckpt_serialized_size(_Out_ size_t *out, const tl_ckpt *ckpt)',
  'int tl_ckpt_save_buffer(uint8_t *out, size_t capacity, _Out_ size_t *out_written, const tl_ckpt *ckpt)',
  'int tl_ckpt_load_options_init(_Out_ tl_ckpt_load_options *out, uint version)',
  'int tl_ckpt_load(_Out_ tl_ckpt **out, const char *path, const tl_ckpt_load_options *options)',
  'int tl_ckpt_load_buffer(_Out_ tl_ckpt **out, const uint8_t *buf, size_t size, const tl_ckpt_load_options *options)',
  'int tl_model_load_options_init(_Out_ tl_model_load_options *out, uint version)',
  'int tl_ckpt_add_tensor(tl_ckpt *ckpt, const char *name, int dtype, size_t rank, const size_t *shape, const void *data)',
  'int tl_ckpt_remove_tensor(tl_ckpt *ckpt, size_t index)',
  'int tl_ckpt_find_tensor(_Out_ size_t *out, const tl_ckpt *ckpt, const char *name)',
  'int tl_ckpt_tensor_info(_Inout_ tl_ckpt_tensor_desc *out, const tl_ckpt *ckpt, size_t index)',
  'int tl_ckpt_tensor_data(_Out_ const void **out, const tl_ckpt *ckpt, size_t index)',
  'int tl_ckpt_set_tensor_group(tl_ckpt *ckpt, size_t index, uint32_t group)',
  'int tl_ckpt_meta_count(_Out_ size_t *out, const tl_ckpt *ckpt)',
  'int tl_ckpt_meta_at(_Out_ const char **out_key, _Out_ const char **out_value, const tl_ckpt *ckpt, size_t index)',
  'int tl_ckpt_set_vocab(tl_ckpt *ckpt, const char **tokens, size_t n)',
  'int tl_ckpt_clear_vocab(tl_ckpt *ckpt)',
  'int tl_ckpt_vocab_size(_Out_ size_t *out, const tl_ckpt *ckpt)',
  'int tl_ckpt_vocab_token(_Out_ const char **out, const tl_ckpt *ckpt, size_t index)',
  'int tl_ckpt_set_section(tl_ckpt *ckpt, int kind, uint32_t subkind, const uint8_t *bytes, size_t size)',
  'int tl_ckpt_get_section(_Out_ const void **out_bytes, _Out_ size_t *out_size, _Out_ uint32_t *out_subkind, const tl_ckpt *ckpt, int kind)',
  'int tl_ckpt_clear_section(tl_ckpt *ckpt, int kind)',
  'int tl_ckpt_remap_vocab(uint8_t *out_is_new, tl_ckpt *ckpt, const char **new_vocab, size_t n_new, const char **names, size_t n_names)',
  'int tl_ckpt_store_model(tl_ckpt *ckpt, const tl_model *model, const char *prefix)',
  'int tl_ckpt_restore_model(tl_model *model, const tl_ckpt *ckpt, const tl_model_load_options *options)',
  'int tl_model_save(const tl_model *model, const char *path)',
  'int tl_model_load(tl_model *model, const char *path, const tl_model_load_options *options)',
  'int tl_ckpt_store_optim(tl_ckpt *ckpt, const tl_optim *optim)',
  'int tl_ckpt_restore_optim(tl_optim *optim, const tl_ckpt *ckpt)',
  // plan.h: plans
  'int tl_plan_stage_init(_Out_ tl_plan_stage *out, uint version)',
  'int tl_plan_create(_Out_ tl_plan **out, size_t n_groups)',
  'void tl_plan_free(tl_plan *plan)',
  'int tl_plan_add_stage(tl_plan *plan, const tl_plan_stage *stage)',
  'int tl_plan_num_stages(_Out_ size_t *out, const tl_plan *plan)',
  'int tl_plan_num_groups(_Out_ size_t *out, const tl_plan *plan)',
  'int tl_plan_total_steps(_Out_ uint64_t *out, const tl_plan *plan)',
  'int tl_plan_stage_bounds(_Out_ uint64_t *out_start, _Out_ uint64_t *out_steps, const tl_plan *plan, size_t stage)',
  'int tl_plan_stage_at(_Out_ size_t *out_stage, _Out_ uint64_t *out_local, const tl_plan *plan, uint64_t step)',
  'int tl_plan_group_trainable(_Out_ int *out, const tl_plan *plan, size_t stage, size_t group)',
  'int tl_plan_lrs(double *out_lrs, size_t n, const tl_plan *plan, uint64_t step)',
  'int tl_plan_momentum(_Out_ double *out, const tl_plan *plan, uint64_t step)',
  'int tl_plan_apply(_Out_ int *out_stage_started, const tl_plan *plan, tl_optim *optim, uint64_t step)',
  // plan.h (experimental API, exported under TL_EXPERIMENTAL_0.1)
  'int tl_plan_preset_options_init(_Out_ tl_plan_preset_options *out, uint version, int preset)',
  'int tl_plan_preset_create(_Out_ tl_plan **out, int preset, const tl_plan_preset_options *options)',
  'int tl_lr_find_options_init(_Out_ tl_lr_find_options *out, uint version)',
  'int tl_lr_find(_Inout_ tl_lr_find_result *out, double *out_lrs, double *out_losses, size_t capacity, tl_optim *optim, tl_lr_find_step_fn *step, void *payload, const tl_lr_find_options *options)',
];

// Functions that return a tl_status: every "int tl_..." above except these,
// which return a plain int.
const NOT_STATUS = new Set(['tl_sched_has_momentum']);

const raw = {};
const c = {};
for (const proto of TABLE) {
  const name = /\b(tl_[a-z0-9_]+)\(/.exec(proto)[1];
  let fn;
  try {
    fn = lib.func(proto);
  } catch (e) {
    throw new Error(`libtl at ${libraryPath} has no usable function ${name} (${e.message}): ` +
                    'the library is older than this binding; install matching versions');
  }
  raw[name] = fn;
  if (/^int /.test(proto) && !NOT_STATUS.has(name)) {
    c[name] = (...args) => {
      const rc = fn(...args);
      if (rc < 0) errors.raiseForStatus(rc, fn === raw.tl_last_error ? '' : raw.tl_last_error(), name);
      return rc;
    };
  } else {
    c[name] = fn;
  }
}

// ---- argument checks (the messages name the function and the argument) ----
const { InvalidArgumentError } = errors;

function fail(fn, msg) {
  throw new InvalidArgumentError(`${fn}: ${msg}`, errors.Status.INVALID_ARG, fn);
}

function typeName(v) {
  if (v === null) return 'null';
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  if (Array.isArray(v)) return 'Array';
  return typeof v;
}

// A non-negative integer that fits size_t and stays exact in a double.
function size(v, fn, arg) {
  if (typeof v === 'bigint') {
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) fail(fn, `${arg} = ${v} is outside [0, 2^53)`);
    return Number(v);
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER)
    fail(fn, `${arg} must be a non-negative integer, got ${typeName(v) === 'number' ? v : typeName(v)}`);
  return v;
}

// A signed integer for int64_t arguments (exact in a double, or a BigInt).
function int64(v, fn, arg) {
  if (typeof v === 'bigint') {
    if (v < -(1n << 63n) || v >= (1n << 63n)) fail(fn, `${arg} = ${v} is outside the range of int64_t`);
    return v;
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    fail(fn, `${arg} must be an integer, got ${typeName(v) === 'number' ? v : typeName(v)}`);
  return v;
}

function number(v, fn, arg) {
  if (typeof v !== 'number') fail(fn, `${arg} must be a number, got ${typeName(v)}`);
  return v;
}

function string(v, fn, arg) {
  if (typeof v !== 'string') fail(fn, `${arg} must be a string, got ${typeName(v)}`);
  if (v.includes('\0')) fail(fn, `${arg} contains a NUL character`);
  return v;
}

// A typed array of exactly type T (or a plain Array of numbers, copied into
// one); other typed arrays are refused rather than reinterpreted, since koffi
// would pass their bytes as they are. `length`, when given, is checked.
function typed(T, v, fn, arg, length) {
  let out;
  if (v instanceof T) {
    out = v;
  } else if (Array.isArray(v)) {
    if (T === BigInt64Array) {
      out = new BigInt64Array(v.length);
      for (let i = 0; i < v.length; i++) out[i] = BigInt(int64(v[i], fn, `${arg}[${i}]`));
    } else {
      for (let i = 0; i < v.length; i++) {
        if (typeof v[i] !== 'number') fail(fn, `${arg}[${i}] must be a number, got ${typeName(v[i])}`);
      }
      out = T.from(v);
    }
  } else {
    fail(fn, `${arg} must be a ${T.name} or an Array of numbers, got ${typeName(v)}`);
  }
  if (length !== undefined && out.length !== length)
    fail(fn, `${arg} has ${out.length} elements, expected ${length}`);
  return out;
}

module.exports = { koffi, lib, libraryPath, raw, c, VERSIONS, STRUCTS, STEP_FN, REPORT_FN, fail, size, int64, number, string, typed, typeName };
