// The public headers compile as C++ (extern "C" guards) and link from C++,
// and so do the options initialiser macros (positional, no designated
// initialisers) and the defaults they hold agree with the init functions.
// This file compiles the experimental declarations as C++ too
// (docs/api-conventions.md).
#define TL_EXPERIMENTAL_API
#include <tl/tl.h>

#include <cstdio>

int main() {
  std::printf("C++ sees libtl %s\n", tl_version_string());
  if (tl_version_number() != TL_VERSION_NUMBER)
    return 1;
  tl_model_options mo = TL_MODEL_OPTIONS_INIT;
  tl_embedding_options eo = TL_EMBEDDING_OPTIONS_INIT;
  tl_lstm_options lo = TL_LSTM_OPTIONS_INIT;
  tl_gru_options go = TL_GRU_OPTIONS_INIT;
  tl_optim_options oo = TL_OPTIM_OPTIONS_INIT(TL_OPTIM_ADAMW);
  tl_sched_stlr_options s1 = TL_SCHED_STLR_OPTIONS_INIT;
  tl_sched_cyclic_options s2 = TL_SCHED_CYCLIC_OPTIONS_INIT;
  tl_sched_cosine_options s3 = TL_SCHED_COSINE_OPTIONS_INIT;
  tl_sched_cosine_restarts_options s4 = TL_SCHED_COSINE_RESTARTS_OPTIONS_INIT;
  tl_sched_one_cycle_options s5 = TL_SCHED_ONE_CYCLE_OPTIONS_INIT;
  tl_sched_fastai_one_cycle_options s6 = TL_SCHED_FASTAI_ONE_CYCLE_OPTIONS_INIT;
  tl_sched_linear_options s7 = TL_SCHED_LINEAR_OPTIONS_INIT;
  tl_sched_constant_options s8 = TL_SCHED_CONSTANT_OPTIONS_INIT;
  tl_sched_step_options s9 = TL_SCHED_STEP_OPTIONS_INIT;
  tl_sched_exponential_options s10 = TL_SCHED_EXPONENTIAL_OPTIONS_INIT;
  tl_sched_multi_step_options s11 = TL_SCHED_MULTI_STEP_OPTIONS_INIT;
  tl_lr_find_options lf = TL_LR_FIND_OPTIONS_INIT;
  tl_lr_find_result lr = TL_LR_FIND_RESULT_INIT;
  tl_plan_stage ps = TL_PLAN_STAGE_INIT;
  tl_plan_preset_options pp =
      TL_PLAN_PRESET_OPTIONS_INIT(TL_PLAN_PRESET_FINE_TUNE);
  tl_sliced_options m1 = TL_SLICED_OPTIONS_INIT;
  tl_sinkhorn_options m2 = TL_SINKHORN_OPTIONS_INIT;
  tl_mmd_options m3 = TL_MMD_OPTIONS_INIT;
  tl_proxy_a_options m4 = TL_PROXY_A_OPTIONS_INIT;
  tl_selection_options m5 = TL_SELECTION_OPTIONS_INIT;
  tl_pca_select_options m6 = TL_PCA_SELECT_OPTIONS_INIT;
  tl_csls_options m7 = TL_CSLS_OPTIONS_INIT;
  tl_ckpt_tensor_desc td = TL_CKPT_TENSOR_DESC_INIT;
  tl_ckpt_load_options cl = TL_CKPT_LOAD_OPTIONS_INIT;
  tl_model_load_options ml = TL_MODEL_LOAD_OPTIONS_INIT;
  const unsigned versions[] = {
      mo.version, eo.version,  lo.version,  oo.version, s1.version, s2.version,
      s3.version, s4.version,  s5.version,  s6.version, s7.version, s8.version,
      s9.version, s10.version, s11.version, lf.version, lr.version, ps.version,
      pp.version, m1.version,  m2.version,  m3.version, m4.version, m5.version,
      m6.version, m7.version,  td.version,  cl.version, ml.version, go.version};
  for (unsigned v : versions)
    if (v < 1)
      return 1;
  tl_optim_options oi;
  tl_plan_preset_options pi;
  if (tl_optim_options_init(&oi, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_ADAMW) !=
          TL_OK ||
      tl_plan_preset_options_init(&pi, TL_PLAN_PRESET_OPTIONS_VERSION,
                                  TL_PLAN_PRESET_FINE_TUNE) != TL_OK)
    return 1;
  if (oo.weight_decay != oi.weight_decay || oo.momentum != oi.momentum ||
      pp.lr != pi.lr || pp.div != pi.div || eo.padding_idx != -1 ||
      s7.start_factor != 1.0 / 3.0 || ml.strict != 1)
    return 1;
  std::printf("C++ initialisers: %zu structs\n",
              sizeof versions / sizeof versions[0]);
  return 0;
}
