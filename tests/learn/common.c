/* Fixtures of tests/learn (common.h). */
#include "common.h"

void tlt_data_init(tlt_data *d) {
  /* a deterministic, learnable sequence: token t+1 follows token t (mod V)
   * with a little noise from a fixed LCG */
  uint64_t s = 12345;
  for (size_t b = 0; b < NB + NV; b++)
    for (size_t t = 0; t < T; t++)
      for (size_t j = 0; j < BS; j++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        const int64_t id = (int64_t)((b * 7 + t * 3 + j * 5 + (s >> 61)) % V);
        d->ids[b][t * BS + j] = id;
        d->targets[b][t * BS + j] = (id + 1) % V;
      }
}

void tlt_source_init(tlt_source *s, const tlt_data *d, size_t first, size_t n) {
  memset(s, 0, sizeof *s);
  s->data = d;
  s->first = first;
  s->n = n;
  s->limit = SIZE_MAX;
}

static tl_status next(void *payload, tl_batch *out, int *out_has) {
  tlt_source *s = payload;
  if (s->pos >= s->n || s->pos >= s->limit) {
    s->pos = 0;
    *out_has = 0;
    return TL_OK;
  }
  const size_t i = s->first + s->pos++;
  out->ids = s->data->ids[i];
  out->dims[0] = T;
  out->dims[1] = BS;
  out->ndim = 2;
  if (!s->no_targets) {
    out->targets = s->data->targets[i];
    out->n_targets = T * BS;
  }
  out->batch_size = BS;
  *out_has = 1;
  return TL_OK;
}

static tl_status restart(void *payload) {
  tlt_source *s = payload;
  s->pos = 0;
  s->restarts++;
  return TL_OK;
}

tl_batch_source tlt_batch_source(tlt_source *s) {
  tl_batch_source b = TL_BATCH_SOURCE_INIT;
  b.next = next;
  b.restart = restart;
  b.payload = s;
  b.n_batches = s->n;
  return b;
}

tl_model *tlt_lm_model(uint64_t seed) {
  tl_model_options o = TL_MODEL_OPTIONS_INIT;
  o.seed = seed;
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, &o));
  TLT_ASSERT_OK(tl_model_add_embedding(m, "emb", V, E, NULL));
  TLT_ASSERT_OK(tl_model_add_lstm(m, "rnn", E, H, 1, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(m, "fc", H, V, TL_ACTIVATION_NONE));
  return m;
}

void tlt_tied_chain(tl_model **out_enc, tl_model **out_dec, uint64_t seed) {
  tl_model_options o = TL_MODEL_OPTIONS_INIT;
  o.seed = seed;
  tl_model *enc = NULL, *dec = NULL;
  TLT_ASSERT_OK(tl_model_create(&enc, &o));
  TLT_ASSERT_OK(tl_model_add_embedding(enc, "emb", V, H, NULL));
  TLT_ASSERT_OK(tl_model_add_lstm(enc, "rnn", H, H, 1, NULL));
  o.seed = seed + 1;
  TLT_ASSERT_OK(tl_model_create(&dec, &o));
  TLT_ASSERT_OK(tl_model_add_decoder(dec, "dec", H, V, enc, "emb"));
  *out_enc = enc;
  *out_dec = dec;
}

tl_optim_options tlt_fastai_adam(void) {
  tl_optim_options o = TL_OPTIM_OPTIONS_INIT(TL_OPTIM_ADAMW);
  o.momentum = 0.9;
  o.beta2 = 0.99;
  o.eps = 1e-5;
  o.weight_decay = 0.01;
  return o;
}

static void forward_chain(const float **out_y,
                          size_t (*dims)[TL_MODEL_MAX_DIMS], size_t *ndim,
                          tl_model **models, size_t n_models,
                          const int64_t *ids) {
  const size_t in_dims[2] = {T, BS};
  const float *y = NULL;
  TLT_ASSERT_OK(
      tl_model_forward_ids(&y, dims[0], &ndim[0], models[0], ids, in_dims, 2));
  for (size_t m = 1; m < n_models; m++) {
    const float *x = y;
    TLT_ASSERT_OK(tl_model_forward(&y, dims[m], &ndim[m], models[m], x,
                                   dims[m - 1], ndim[m - 1]));
  }
  *out_y = y;
}

void tlt_hand_loop(tl_model **models, size_t n_models, tl_optim *optim,
                   const tl_plan *plan, uint64_t step0, uint64_t epochs,
                   tlt_source *train, tlt_source *valid, double clip) {
  size_t dims[4][TL_MODEL_MAX_DIMS], ndim[4];
  float dy[T * BS * V];
  uint64_t step = step0;
  for (uint64_t e = 0; e < epochs; e++) {
    for (size_t m = 0; m < n_models; m++)
      TLT_ASSERT_OK(tl_model_train(models[m]));
    for (size_t b = 0; b < train->n && b < train->limit; b++) {
      const size_t i = train->first + b;
      if (plan != NULL)
        TLT_ASSERT_OK(tl_plan_apply(NULL, plan, optim, step));
      TLT_ASSERT_OK(tl_optim_zero_grad(optim));
      const float *y = NULL;
      forward_chain(&y, dims, ndim, models, n_models, train->data->ids[i]);
      float loss = 0.0f;
      TLT_ASSERT_OK(tl_cross_entropy(&loss, dy, y, train->data->targets[i],
                                     T * BS, V, -100));
      const float *g = dy;
      for (size_t m = n_models; m-- > 0;) {
        const float *dx = NULL;
        TLT_ASSERT_OK(tl_model_backward(m > 0 ? &dx : NULL, models[m], g,
                                        dims[m], ndim[m]));
        g = dx;
      }
      if (clip > 0.0)
        TLT_ASSERT_OK(tl_optim_clip_grad_norm(NULL, optim, clip));
      TLT_ASSERT_OK(tl_optim_step(optim));
      step++;
    }
    if (valid != NULL) {
      for (size_t m = 0; m < n_models; m++)
        TLT_ASSERT_OK(tl_model_eval(models[m]));
      for (size_t b = 0; b < valid->n; b++) {
        const float *y = NULL;
        forward_chain(&y, dims, ndim, models, n_models,
                      valid->data->ids[valid->first + b]);
      }
    }
  }
}

void tlt_assert_same_params(tl_model *a, tl_model *b) {
  float *pa = NULL, *pb = NULL;
  size_t na = 0, nb = 0;
  TLT_ASSERT_OK(tl_model_flat_params(&pa, &na, a));
  TLT_ASSERT_OK(tl_model_flat_params(&pb, &nb, b));
  ck_assert_uint_eq(na, nb);
  size_t diff = 0;
  for (size_t i = 0; i < na; i++)
    diff += memcmp(&pa[i], &pb[i], sizeof(float)) != 0;
  ck_assert_msg(diff == 0, "%zu of %zu parameters differ (first: %.9g vs %.9g)",
                diff, na, (double)pa[0], (double)pb[0]);
}
