/* lib/kernels/embedding.c: lookup against torch, sparse padding-aware backward
 * against finite differences, bad ids; the tied decoder's gradient path. */
#include "kernels_layers_common.h"

/* ---------------------------------------------------------- embedding */

START_TEST(embedding_matches_torch) {
  for (size_t k = 0; k < NELEM(layers_embedding_cases); k++) {
    const layers_embedding_case *c = &layers_embedding_cases[k];
    const size_t count = c->t * c->b, no = count * c->dim,
                 nw = c->vocab * c->dim;
    const float *scale = c->dropout ? c->scale : NULL;
    float *out = fzeros(no), *dw = fzeros(nw);
    ck_assert_uint_eq(tli_embedding_find_bad_id(c->ids, count, c->vocab),
                      count);
    tli_embedding_forward(out, c->w, scale, c->ids, count, c->dim);
    check_gold("out", out, c->out, no);
    tli_embedding_backward(dw, c->dout, scale, c->ids, count, c->dim,
                           c->padding_idx);
    check_gold("dw", dw, c->dw, nw);
    free(out), free(dw);
  }
}
END_TEST

typedef struct embedding_ctx {
  const layers_embedding_case *c;
  const double *w;
} embedding_ctx;

/* sum(dout * lookup(w * scale)), with padding rows cut from the graph. */
static double ref_embedding_loss(const void *vctx) {
  const embedding_ctx *e = vctx;
  const layers_embedding_case *c = e->c;
  double total = 0.0;
  for (size_t i = 0; i < c->t * c->b; i++) {
    const size_t id = (size_t)c->ids[i];
    const double s = c->dropout ? c->scale[id] : 1.0;
    for (size_t j = 0; j < c->dim; j++) {
      /* torch's padding row is a constant: perturbing it changes nothing
       * that has a gradient, so the reference treats it as one. */
      const double v = (int64_t)id == c->padding_idx
                           ? (double)c->w[id * c->dim + j]
                           : e->w[id * c->dim + j];
      total += c->dout[i * c->dim + j] * v * s;
    }
  }
  return total;
}

START_TEST(embedding_backward_matches_finite_differences) {
  for (size_t k = 0; k < NELEM(layers_embedding_cases); k++) {
    const layers_embedding_case *c = &layers_embedding_cases[k];
    const size_t nw = c->vocab * c->dim;
    double *w = to_double(c->w, nw), *g = malloc(nw * sizeof *g);
    embedding_ctx ctx = {c, w};
    float *dw = fzeros(nw);
    tli_embedding_backward(dw, c->dout, c->dropout ? c->scale : NULL, c->ids,
                           c->t * c->b, c->dim, c->padding_idx);
    fd_grad(g, w, nw, ref_embedding_loss, &ctx);
    check_fd("dw", dw, g, nw);
    free(w), free(g), free(dw);
  }
}
END_TEST

/* Only rows that occur (and are not the padding index) are written: every
 * other row keeps its previous contents bit for bit, and touched rows are
 * accumulated onto. */
START_TEST(embedding_backward_is_sparse_and_accumulates) {
  const layers_embedding_case *c = &layers_embedding_cases[1]; /* pad 2 */
  const size_t count = c->t * c->b, nw = c->vocab * c->dim;
  float *dw = malloc(nw * sizeof *dw);
  for (size_t i = 0; i < nw; i++)
    dw[i] = 7.0f;
  tli_embedding_backward(dw, c->dout, NULL, c->ids, count, c->dim,
                         c->padding_idx);
  for (size_t r = 0; r < c->vocab; r++) {
    int used = 0;
    for (size_t i = 0; i < count; i++)
      used |= c->ids[i] == (int64_t)r;
    for (size_t j = 0; j < c->dim; j++) {
      const size_t at = r * c->dim + j;
      if (!used || (int64_t)r == c->padding_idx)
        ck_assert_float_eq(dw[at], 7.0f);
      else
        TLT_ASSERT_CLOSE(dw[at], 7.0f + c->dw[at], 1e-6, 1.0);
    }
  }
  /* The padding index is in the batch, so the check above is not vacuous. */
  int pad_seen = 0;
  for (size_t i = 0; i < count; i++)
    pad_seen |= c->ids[i] == c->padding_idx;
  ck_assert(pad_seen);
  free(dw);
}
END_TEST

START_TEST(embedding_find_bad_id_names_the_first) {
  const int64_t ok[4] = {0, 3, 4, 1};
  const int64_t neg[4] = {0, 3, -1, 9};
  const int64_t big[4] = {0, 5, -1, 2};
  ck_assert_uint_eq(tli_embedding_find_bad_id(ok, 4, 5), 4);
  ck_assert_uint_eq(tli_embedding_find_bad_id(neg, 4, 5), 2);
  ck_assert_uint_eq(tli_embedding_find_bad_id(big, 4, 5), 1);
  ck_assert_uint_eq(tli_embedding_find_bad_id(ok, 0, 5), 0);
  const int64_t huge[1] = {INT64_MAX};
  ck_assert_uint_eq(tli_embedding_find_bad_id(huge, 1, 5), 0);
}
END_TEST

/* -------------------------------------------------------- tied decoder */

/* The LM's decoder shares the embedding matrix: lookup, tanh, decoder with
 * w = embedding weight, cross-entropy ignoring the pad. The embedding's one
 * gradient array receives the decoder's dense gradient (linear backward) and
 * the lookup's sparse gradient (embedding backward), as torch's weight.grad. */
START_TEST(tied_decoder_accumulates_into_the_embedding_gradient) {
  enum { N = TIED_T * TIED_B };
  float emb[N * TIED_E], hid[N * TIED_E], logits[N * TIED_V];
  float dlogits[N * TIED_V], dhid[N * TIED_E], dw[TIED_V * TIED_E], db[TIED_V];
  memset(dw, 0, sizeof dw);
  memset(db, 0, sizeof db);
  memset(dhid, 0, sizeof dhid);
  tli_embedding_forward(emb, tied_w, NULL, tied_ids, N, TIED_E);
  tli_act_forward(hid, emb, N * TIED_E, TLI_ACT_TANH);
  tli_linear_forward(logits, hid, tied_w, tied_b, N, TIED_E, TIED_V,
                     TLI_ACT_IDENTITY);
  const float loss = tli_cross_entropy(dlogits, logits, tied_targets, N, TIED_V,
                                       TIED_PAD, 1.0f, NULL);
  check_gold("loss", &loss, &tied_loss, 1);
  tli_linear_backward(dhid, dw, db, NULL, dlogits, hid, tied_w, NULL, N, TIED_E,
                      TIED_V, TLI_ACT_IDENTITY);
  tli_act_backward(dhid, dhid, hid, N * TIED_E, TLI_ACT_TANH);
  tli_embedding_backward(dw, dhid, NULL, tied_ids, N, TIED_E, TIED_PAD);
  check_gold("dw (decoder + lookup)", dw, tied_dw, TIED_V * TIED_E);
  check_gold("db", db, tied_db, TIED_V);
}
END_TEST

TCase *kernels_layers_tcase_embedding(void);
TCase *kernels_layers_tcase_embedding(void) {
  TCase *tc = tcase_create("embedding");
  tcase_add_test(tc, embedding_matches_torch);
  tcase_add_test(tc, embedding_backward_matches_finite_differences);
  tcase_add_test(tc, embedding_backward_is_sparse_and_accumulates);
  tcase_add_test(tc, embedding_find_bad_id_names_the_first);
  tcase_add_test(tc, tied_decoder_accumulates_into_the_embedding_gradient);
  return tc;
}
