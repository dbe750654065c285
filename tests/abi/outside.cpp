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
  tl_batchnorm_options bno = TL_BATCHNORM_OPTIONS_INIT;
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
  tl_tokenizer_options t1 = TL_TOKENIZER_OPTIONS_INIT;
  tl_vocab_options t2 = TL_VOCAB_OPTIONS_INIT;
  tl_lm_loader_options t3 = TL_LM_LOADER_OPTIONS_INIT;
  tl_clas_loader_options t4 = TL_CLAS_LOADER_OPTIONS_INIT;
  tl_progress_options t5 = TL_PROGRESS_OPTIONS_INIT;
  tl_doc_encoder_options t6 = TL_DOC_ENCODER_OPTIONS_INIT;
  tl_task_sampler_options t7 = TL_TASK_SAMPLER_OPTIONS_INIT;
  tl_sgns_options t8 = TL_SGNS_OPTIONS_INIT;
  tl_learner_options l1 = TL_LEARNER_OPTIONS_INIT;
  tl_clas_data_options l2 = TL_CLAS_DATA_OPTIONS_INIT;
  tl_monitor_options l3 = TL_MONITOR_OPTIONS_INIT;
  tl_fit_options l4 = TL_FIT_OPTIONS_INIT;
  tl_fit_one_cycle_options l5 = TL_FIT_ONE_CYCLE_OPTIONS_INIT;
  tl_fine_tune_options l6 = TL_FINE_TUNE_OPTIONS_INIT;
  tl_fit_sgdr_options l7 = TL_FIT_SGDR_OPTIONS_INIT;
  tl_batch_source l8 = TL_BATCH_SOURCE_INIT;
  tl_linear_options a1 = TL_LINEAR_OPTIONS_INIT;
  tl_awd_lstm_options a2 = TL_AWD_LSTM_OPTIONS_INIT;
  const unsigned versions[] = {
      mo.version, eo.version,  lo.version,  oo.version, s1.version, s2.version,
      s3.version, s4.version,  s5.version,  s6.version, s7.version, s8.version,
      s9.version, s10.version, s11.version, lf.version, lr.version, ps.version,
      pp.version, m1.version,  m2.version,  m3.version, m4.version, m5.version,
      m6.version, m7.version,  td.version,  cl.version, ml.version, go.version,
      t1.version, t2.version,  t3.version,  t4.version, t5.version, t6.version,
      t7.version, t8.version,  bno.version, l1.version, l2.version, l3.version,
      l4.version, l5.version,  l6.version,  l7.version, l8.version, a1.version,
      a2.version};
  for (unsigned v : versions)
    if (v < 1)
      return 1;
  tl_optim_options oi;
  tl_plan_preset_options pi;
  tl_batchnorm_options bni;
  if (tl_batchnorm_options_init(&bni, TL_BATCHNORM_OPTIONS_VERSION) != TL_OK ||
      bno.momentum != bni.momentum || bno.eps != bni.eps ||
      bno.affine != bni.affine)
    return 1;
  if (tl_optim_options_init(&oi, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_ADAMW) !=
          TL_OK ||
      tl_plan_preset_options_init(&pi, TL_PLAN_PRESET_OPTIONS_VERSION,
                                  TL_PLAN_PRESET_FINE_TUNE) != TL_OK)
    return 1;
  if (oo.weight_decay != oi.weight_decay || oo.momentum != oi.momentum ||
      pp.lr != pi.lr || pp.div != pi.div || eo.padding_idx != -1 ||
      s7.start_factor != 1.0 / 3.0 || ml.strict != 1)
    return 1;
  // The text layer's macros against their init functions, field by field.
  tl_tokenizer_options i1;
  tl_vocab_options i2;
  tl_lm_loader_options i3;
  tl_clas_loader_options i4;
  tl_progress_options i5;
  tl_doc_encoder_options i6;
  tl_task_sampler_options i7;
  tl_sgns_options i8;
  if (tl_tokenizer_options_init(&i1, TL_TOKENIZER_OPTIONS_VERSION) != TL_OK ||
      tl_vocab_options_init(&i2, TL_VOCAB_OPTIONS_VERSION) != TL_OK ||
      tl_lm_loader_options_init(&i3, TL_LM_LOADER_OPTIONS_VERSION) != TL_OK ||
      tl_clas_loader_options_init(&i4, TL_CLAS_LOADER_OPTIONS_VERSION) !=
          TL_OK ||
      tl_progress_options_init(&i5, TL_PROGRESS_OPTIONS_VERSION) != TL_OK ||
      tl_doc_encoder_options_init(&i6, TL_DOC_ENCODER_OPTIONS_VERSION) !=
          TL_OK ||
      tl_task_sampler_options_init(&i7, TL_TASK_SAMPLER_OPTIONS_VERSION) !=
          TL_OK ||
      tl_sgns_options_init(&i8, TL_SGNS_OPTIONS_VERSION) != TL_OK)
    return 1;
  if (t1.version != i1.version || t1.add_bos != i1.add_bos ||
      t1.add_eos != i1.add_eos || t1.replace_invalid != i1.replace_invalid ||
      t2.min_freq != i2.min_freq || t2.max_vocab != i2.max_vocab ||
      t2.pad_multiple != i2.pad_multiple || t3.batch_size != i3.batch_size ||
      t3.bptt != i3.bptt || t3.variable_length != i3.variable_length ||
      t3.shuffle != i3.shuffle || t3.backwards != i3.backwards ||
      t3.bos_id != i3.bos_id || t3.seed != i3.seed ||
      t4.batch_size != i4.batch_size || t4.seq_len != i4.seq_len ||
      t4.max_len != i4.max_len || t4.shuffle != i4.shuffle ||
      t4.pad_first != i4.pad_first || t4.pad_id != i4.pad_id ||
      t4.seed != i4.seed || t5.n_epochs != i5.n_epochs ||
      t5.train_steps != i5.train_steps || t5.valid_steps != i5.valid_steps ||
      t5.smooth_beta != i5.smooth_beta || t5.on_step != i5.on_step ||
      t5.on_epoch != i5.on_epoch || t5.payload != i5.payload ||
      t5.clock != i5.clock || t5.clock_payload != i5.clock_payload ||
      t6.bptt != i6.bptt || t6.max_len != i6.max_len || t7.mode != i7.mode ||
      t7.tau != i7.tau || t7.tau_end != i7.tau_end ||
      t7.anneal_steps != i7.anneal_steps || t7.seed != i7.seed ||
      t8.dim != i8.dim || t8.window != i8.window ||
      t8.negative != i8.negative || t8.sample != i8.sample ||
      t8.alpha != i8.alpha || t8.min_alpha_ratio != i8.min_alpha_ratio ||
      t8.ns_exponent != i8.ns_exponent || t8.min_count != i8.min_count ||
      t8.epochs != i8.epochs || t8.n_threads != i8.n_threads ||
      t8.seed != i8.seed)
    return 1;
  std::printf("C++ initialisers: %zu structs\n",
              sizeof versions / sizeof versions[0]);
  return 0;
}
