/* README's C quick start: a linear classifier trained with AdamW, every
 * call checked. cc quickstart.c $(pkg-config --cflags --libs tl) */
#include <stdio.h>
#include <tl/tl.h>

#define TRY(call)                                                              \
  do {                                                                         \
    tl_status s_ = (call);                                                     \
    if (s_ != TL_OK) {                                                         \
      fprintf(stderr, "%s: %s\n", tl_status_string(s_), tl_last_error());      \
      return 1;                                                                \
    }                                                                          \
  } while (0)

int main(void) {
  tl_model *m;
  TRY(tl_model_create(&m, NULL));
  TRY(tl_model_add_linear(m, "fc", 2, 2, TL_ACTIVATION_NONE));
  tl_optim_options o;
  TRY(tl_optim_options_init(&o, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_ADAMW));
  o.lr = 0.1;
  tl_optim *opt;
  TRY(tl_optim_create(&opt, &m, 1, &o));
  const float x[8] = {1, 0, 0, 1, 1, 0.2f, 0.1f, 1}; /* 4 rows, 2 features */
  const int64_t y[4] = {0, 1, 0, 1};
  const size_t dims[2] = {4, 2};
  for (int step = 0; step < 50; step++) {
    const float *logits;
    size_t out_dims[TL_MODEL_MAX_DIMS], ndim;
    float loss, dlogits[8];
    TRY(tl_model_forward(&logits, out_dims, &ndim, m, x, dims, 2));
    TRY(tl_cross_entropy(&loss, dlogits, logits, y, 4, 2, -100));
    TRY(tl_optim_zero_grad(opt));
    TRY(tl_model_backward(NULL, m, dlogits, out_dims, ndim));
    TRY(tl_optim_step(opt));
    if (step % 10 == 0)
      printf("step %2d loss %.4f\n", step, loss);
  }
  tl_optim_free(opt);
  tl_model_free(m);
  return 0;
}
