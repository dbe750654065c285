/* Prints the size and the field offsets of every public struct, and every
 * struct version number, as the compiler lays them out, as JSON:
 *   {"structs": {"tl_x": {"size": 24, "fields": [["version", 0, 4], ...]}},
 *    "versions": {"TL_X_VERSION": 1, ...}}
 * bindings/python/tests/test_layout.py compares it with the ctypes
 * Structures and bindings/python/tl/_versions.py, and checks that this list
 * names every struct and field the headers declare: a header change that the
 * Python side (or this file) misses fails the suite. */
/* This file lays out the experimental structs too (docs/api-conventions.md). */
#define TL_EXPERIMENTAL_API
#include <stddef.h>
#include <stdio.h>

#include "tl/tl.h"

static int first_struct = 1, first_field = 1, first_version = 1;

static void struct_begin(const char *name, size_t size) {
  printf("%s\n    \"%s\": {\"size\": %zu, \"fields\": [",
         first_struct ? "" : ",", name, size);
  first_struct = 0;
  first_field = 1;
}

static void field(const char *name, size_t offset, size_t size) {
  printf("%s[\"%s\", %zu, %zu]", first_field ? "" : ", ", name, offset, size);
  first_field = 0;
}

static void version(const char *name, unsigned value) {
  printf("%s\n    \"%s\": %u", first_version ? "" : ",", name, value);
  first_version = 0;
}

#define STRUCT(type) struct_begin(#type, sizeof(type))
#define FIELD(type, f) field(#f, offsetof(type, f), sizeof(((type *)0)->f))
#define END_STRUCT() printf("]}")
#define VERSION(macro) version(#macro, (unsigned)(macro))

int main(void) {
  printf("{\"structs\": {");
  STRUCT(tl_allocator);
  FIELD(tl_allocator, version);
  FIELD(tl_allocator, alloc);
  FIELD(tl_allocator, free);
  FIELD(tl_allocator, payload);
  END_STRUCT();
  STRUCT(tl_ckpt_load_options);
  FIELD(tl_ckpt_load_options, version);
  FIELD(tl_ckpt_load_options, verify_data_crc);
  FIELD(tl_ckpt_load_options, max_size);
  END_STRUCT();
  STRUCT(tl_ckpt_tensor_desc);
  FIELD(tl_ckpt_tensor_desc, version);
  FIELD(tl_ckpt_tensor_desc, name);
  FIELD(tl_ckpt_tensor_desc, dtype);
  FIELD(tl_ckpt_tensor_desc, rank);
  FIELD(tl_ckpt_tensor_desc, shape);
  FIELD(tl_ckpt_tensor_desc, numel);
  FIELD(tl_ckpt_tensor_desc, nbytes);
  FIELD(tl_ckpt_tensor_desc, group);
  END_STRUCT();
  STRUCT(tl_csls_options);
  FIELD(tl_csls_options, version);
  FIELD(tl_csls_options, knn);
  FIELD(tl_csls_options, top);
  END_STRUCT();
  STRUCT(tl_embedding_options);
  FIELD(tl_embedding_options, version);
  FIELD(tl_embedding_options, padding_idx);
  FIELD(tl_embedding_options, embed_p);
  END_STRUCT();
  STRUCT(tl_lr_find_options);
  FIELD(tl_lr_find_options, version);
  FIELD(tl_lr_find_options, start_lr);
  FIELD(tl_lr_find_options, end_lr);
  FIELD(tl_lr_find_options, num_it);
  FIELD(tl_lr_find_options, beta);
  FIELD(tl_lr_find_options, stop_factor);
  END_STRUCT();
  STRUCT(tl_lr_find_result);
  FIELD(tl_lr_find_result, version);
  FIELD(tl_lr_find_result, n);
  FIELD(tl_lr_find_result, diverged);
  FIELD(tl_lr_find_result, has_suggestions);
  FIELD(tl_lr_find_result, lr_min);
  FIELD(tl_lr_find_result, lr_steep);
  FIELD(tl_lr_find_result, lr_valley);
  END_STRUCT();
  STRUCT(tl_gru_options);
  FIELD(tl_gru_options, version);
  FIELD(tl_gru_options, weight_p);
  FIELD(tl_gru_options, hidden_p);
  FIELD(tl_gru_options, stateful);
  END_STRUCT();
  STRUCT(tl_lstm_options);
  FIELD(tl_lstm_options, version);
  FIELD(tl_lstm_options, weight_p);
  FIELD(tl_lstm_options, input_p);
  FIELD(tl_lstm_options, hidden_p);
  FIELD(tl_lstm_options, output_p);
  FIELD(tl_lstm_options, ar_alpha);
  FIELD(tl_lstm_options, tar_beta);
  FIELD(tl_lstm_options, stateful);
  END_STRUCT();
  STRUCT(tl_mmd_options);
  FIELD(tl_mmd_options, version);
  FIELD(tl_mmd_options, sigma);
  FIELD(tl_mmd_options, unbiased);
  END_STRUCT();
  STRUCT(tl_model_load_options);
  FIELD(tl_model_load_options, version);
  FIELD(tl_model_load_options, strict);
  FIELD(tl_model_load_options, prefix);
  FIELD(tl_model_load_options, map_from);
  FIELD(tl_model_load_options, map_to);
  FIELD(tl_model_load_options, map_n);
  FIELD(tl_model_load_options, restore_rng);
  FIELD(tl_model_load_options, report);
  FIELD(tl_model_load_options, report_payload);
  END_STRUCT();
  STRUCT(tl_model_options);
  FIELD(tl_model_options, version);
  FIELD(tl_model_options, seed);
  END_STRUCT();
  STRUCT(tl_optim_options);
  FIELD(tl_optim_options, version);
  FIELD(tl_optim_options, kind);
  FIELD(tl_optim_options, lr);
  FIELD(tl_optim_options, momentum);
  FIELD(tl_optim_options, beta2);
  FIELD(tl_optim_options, eps);
  FIELD(tl_optim_options, weight_decay);
  FIELD(tl_optim_options, nesterov);
  END_STRUCT();
  STRUCT(tl_pca_select_options);
  FIELD(tl_pca_select_options, version);
  FIELD(tl_pca_select_options, n_components);
  FIELD(tl_pca_select_options, criterion);
  FIELD(tl_pca_select_options, fit);
  END_STRUCT();
  STRUCT(tl_plan_preset_options);
  FIELD(tl_plan_preset_options, version);
  FIELD(tl_plan_preset_options, n_groups);
  FIELD(tl_plan_preset_options, lr);
  FIELD(tl_plan_preset_options, stage_steps);
  FIELD(tl_plan_preset_options, final_steps);
  FIELD(tl_plan_preset_options, factor);
  FIELD(tl_plan_preset_options, cut_frac);
  FIELD(tl_plan_preset_options, ratio);
  FIELD(tl_plan_preset_options, lr_mult);
  FIELD(tl_plan_preset_options, pct_start);
  FIELD(tl_plan_preset_options, div);
  END_STRUCT();
  STRUCT(tl_plan_stage);
  FIELD(tl_plan_stage, version);
  FIELD(tl_plan_stage, freeze);
  FIELD(tl_plan_stage, freeze_arg);
  FIELD(tl_plan_stage, steps);
  FIELD(tl_plan_stage, sched);
  FIELD(tl_plan_stage, base_lrs);
  FIELD(tl_plan_stage, reset_state);
  END_STRUCT();
  STRUCT(tl_proxy_a_options);
  FIELD(tl_proxy_a_options, version);
  FIELD(tl_proxy_a_options, train_fraction);
  FIELD(tl_proxy_a_options, epochs);
  FIELD(tl_proxy_a_options, lr);
  FIELD(tl_proxy_a_options, l2);
  FIELD(tl_proxy_a_options, seed);
  END_STRUCT();
  STRUCT(tl_sched_constant_options);
  FIELD(tl_sched_constant_options, version);
  FIELD(tl_sched_constant_options, lr);
  FIELD(tl_sched_constant_options, factor);
  FIELD(tl_sched_constant_options, total_iters);
  END_STRUCT();
  STRUCT(tl_sched_cosine_options);
  FIELD(tl_sched_cosine_options, version);
  FIELD(tl_sched_cosine_options, base_lr);
  FIELD(tl_sched_cosine_options, t_max);
  FIELD(tl_sched_cosine_options, eta_min);
  END_STRUCT();
  STRUCT(tl_sched_cosine_restarts_options);
  FIELD(tl_sched_cosine_restarts_options, version);
  FIELD(tl_sched_cosine_restarts_options, base_lr);
  FIELD(tl_sched_cosine_restarts_options, t_0);
  FIELD(tl_sched_cosine_restarts_options, t_mult);
  FIELD(tl_sched_cosine_restarts_options, eta_min);
  END_STRUCT();
  STRUCT(tl_sched_cyclic_options);
  FIELD(tl_sched_cyclic_options, version);
  FIELD(tl_sched_cyclic_options, base_lr);
  FIELD(tl_sched_cyclic_options, max_lr);
  FIELD(tl_sched_cyclic_options, step_size_up);
  FIELD(tl_sched_cyclic_options, step_size_down);
  FIELD(tl_sched_cyclic_options, mode);
  FIELD(tl_sched_cyclic_options, gamma);
  FIELD(tl_sched_cyclic_options, cycle_momentum);
  FIELD(tl_sched_cyclic_options, base_momentum);
  FIELD(tl_sched_cyclic_options, max_momentum);
  END_STRUCT();
  STRUCT(tl_sched_exponential_options);
  FIELD(tl_sched_exponential_options, version);
  FIELD(tl_sched_exponential_options, base_lr);
  FIELD(tl_sched_exponential_options, gamma);
  END_STRUCT();
  STRUCT(tl_sched_fastai_one_cycle_options);
  FIELD(tl_sched_fastai_one_cycle_options, version);
  FIELD(tl_sched_fastai_one_cycle_options, lr_max);
  FIELD(tl_sched_fastai_one_cycle_options, total_steps);
  FIELD(tl_sched_fastai_one_cycle_options, pct_start);
  FIELD(tl_sched_fastai_one_cycle_options, div);
  FIELD(tl_sched_fastai_one_cycle_options, div_final);
  FIELD(tl_sched_fastai_one_cycle_options, moms);
  END_STRUCT();
  STRUCT(tl_sched_linear_options);
  FIELD(tl_sched_linear_options, version);
  FIELD(tl_sched_linear_options, base_lr);
  FIELD(tl_sched_linear_options, start_factor);
  FIELD(tl_sched_linear_options, end_factor);
  FIELD(tl_sched_linear_options, total_iters);
  END_STRUCT();
  STRUCT(tl_sched_multi_step_options);
  FIELD(tl_sched_multi_step_options, version);
  FIELD(tl_sched_multi_step_options, base_lr);
  FIELD(tl_sched_multi_step_options, milestones);
  FIELD(tl_sched_multi_step_options, n_milestones);
  FIELD(tl_sched_multi_step_options, gamma);
  END_STRUCT();
  STRUCT(tl_sched_one_cycle_options);
  FIELD(tl_sched_one_cycle_options, version);
  FIELD(tl_sched_one_cycle_options, max_lr);
  FIELD(tl_sched_one_cycle_options, total_steps);
  FIELD(tl_sched_one_cycle_options, pct_start);
  FIELD(tl_sched_one_cycle_options, div_factor);
  FIELD(tl_sched_one_cycle_options, final_div_factor);
  FIELD(tl_sched_one_cycle_options, three_phase);
  FIELD(tl_sched_one_cycle_options, anneal);
  FIELD(tl_sched_one_cycle_options, cycle_momentum);
  FIELD(tl_sched_one_cycle_options, base_momentum);
  FIELD(tl_sched_one_cycle_options, max_momentum);
  END_STRUCT();
  STRUCT(tl_sched_step_options);
  FIELD(tl_sched_step_options, version);
  FIELD(tl_sched_step_options, base_lr);
  FIELD(tl_sched_step_options, step_size);
  FIELD(tl_sched_step_options, gamma);
  END_STRUCT();
  STRUCT(tl_sched_stlr_options);
  FIELD(tl_sched_stlr_options, version);
  FIELD(tl_sched_stlr_options, lr_max);
  FIELD(tl_sched_stlr_options, total_steps);
  FIELD(tl_sched_stlr_options, cut_frac);
  FIELD(tl_sched_stlr_options, ratio);
  END_STRUCT();
  STRUCT(tl_selection_options);
  FIELD(tl_selection_options, version);
  FIELD(tl_selection_options, renyi_alpha);
  FIELD(tl_selection_options, smoothing);
  END_STRUCT();
  STRUCT(tl_sinkhorn_options);
  FIELD(tl_sinkhorn_options, version);
  FIELD(tl_sinkhorn_options, max_iter);
  FIELD(tl_sinkhorn_options, tol);
  END_STRUCT();
  STRUCT(tl_sliced_options);
  FIELD(tl_sliced_options, version);
  FIELD(tl_sliced_options, n_projections);
  FIELD(tl_sliced_options, p);
  FIELD(tl_sliced_options, seed);
  END_STRUCT();
  printf("\n  },\n  \"versions\": {");
  VERSION(TL_ALLOCATOR_VERSION);
  VERSION(TL_CKPT_LOAD_OPTIONS_VERSION);
  VERSION(TL_CKPT_TENSOR_DESC_VERSION);
  VERSION(TL_CSLS_OPTIONS_VERSION);
  VERSION(TL_EMBEDDING_OPTIONS_VERSION);
  VERSION(TL_LR_FIND_OPTIONS_VERSION);
  VERSION(TL_LR_FIND_RESULT_VERSION);
  VERSION(TL_LSTM_OPTIONS_VERSION);
  VERSION(TL_GRU_OPTIONS_VERSION);
  VERSION(TL_MMD_OPTIONS_VERSION);
  VERSION(TL_MODEL_LOAD_OPTIONS_VERSION);
  VERSION(TL_MODEL_OPTIONS_VERSION);
  VERSION(TL_OPTIM_OPTIONS_VERSION);
  VERSION(TL_PCA_SELECT_OPTIONS_VERSION);
  VERSION(TL_PLAN_PRESET_OPTIONS_VERSION);
  VERSION(TL_PLAN_STAGE_VERSION);
  VERSION(TL_PROXY_A_OPTIONS_VERSION);
  VERSION(TL_SCHED_CONSTANT_OPTIONS_VERSION);
  VERSION(TL_SCHED_COSINE_OPTIONS_VERSION);
  VERSION(TL_SCHED_COSINE_RESTARTS_OPTIONS_VERSION);
  VERSION(TL_SCHED_CYCLIC_OPTIONS_VERSION);
  VERSION(TL_SCHED_EXPONENTIAL_OPTIONS_VERSION);
  VERSION(TL_SCHED_FASTAI_ONE_CYCLE_OPTIONS_VERSION);
  VERSION(TL_SCHED_LINEAR_OPTIONS_VERSION);
  VERSION(TL_SCHED_MULTI_STEP_OPTIONS_VERSION);
  VERSION(TL_SCHED_ONE_CYCLE_OPTIONS_VERSION);
  VERSION(TL_SCHED_STEP_OPTIONS_VERSION);
  VERSION(TL_SCHED_STLR_OPTIONS_VERSION);
  VERSION(TL_SELECTION_OPTIONS_VERSION);
  VERSION(TL_SINKHORN_OPTIONS_VERSION);
  VERSION(TL_SLICED_OPTIONS_VERSION);
  printf("\n  }\n}\n");
  return 0;
}
