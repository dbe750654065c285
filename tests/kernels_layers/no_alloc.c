/* Every layer kernel runs without allocating (counting allocator). */
#include "kernels_layers_common.h"

/* ------------------------------------------------------- no allocation */

/* Every kernel, forward and backward, with the counting allocator
 * installed: not one allocation goes through libtl's hooks. */
START_TEST(kernels_do_not_allocate) {
  const layers_linear_case *lc = &layers_linear_cases[3];
  const layers_embedding_case *ec = &layers_embedding_cases[2];
  const layers_ce_case *cc = &layers_ce_cases[2];
  const layers_pool_case *pc = &layers_pool_cases[1];
  const layers_reg_case *rc = &layers_reg_cases[2];
  float *y = fzeros(lc->n * lc->out), *dx = fzeros(lc->n * lc->in),
        *dw = fzeros(lc->out * lc->in), *db = fzeros(lc->out),
        *work = fzeros(lc->n * lc->out);
  float *eo = fzeros(ec->t * ec->b * ec->dim),
        *edw = fzeros(ec->vocab * ec->dim), *mask = fzeros(ec->vocab);
  float *dl = fzeros(cc->n * cc->c), *ls = fzeros(cc->n * cc->c);
  float *po = fzeros(pc->b * 3 * pc->h), *pdh = fzeros(pc->t * pc->b * pc->h);
  size_t *am = malloc(pc->b * pc->h * sizeof *am);
  float *rdh = fzeros(rc->t * rc->b * rc->h);
  tli_rng rng;
  tli_rng_seed(&rng, 1);

  tlt_counter counter;
  tlt_counter_install(&counter);
  tli_linear_forward(y, lc->x, lc->w, lc->b, lc->n, lc->in, lc->out, lc->act);
  tli_linear_backward(dx, dw, db, work, lc->dy, lc->x, lc->w, y, lc->n, lc->in,
                      lc->out, lc->act);
  tli_dropout_mask(mask, ec->vocab, 0.3f, &rng);
  tli_embedding_forward(eo, ec->w, mask, ec->ids, ec->t * ec->b, ec->dim);
  tli_embedding_backward(edw, ec->dout, mask, ec->ids, ec->t * ec->b, ec->dim,
                         ec->padding_idx);
  tli_dropout_apply(eo, eo, eo, ec->dim);
  tli_dropout_locked_apply(eo, eo, mask, ec->t, ec->b);
  tli_cross_entropy(dl, cc->logits, cc->targets, cc->n, cc->c, cc->ignore_index,
                    1.0f, NULL);
  tli_log_softmax(ls, cc->logits, cc->n, cc->c);
  tli_softmax(ls, cc->logits, cc->n, cc->c);
  tli_accuracy(cc->logits, cc->targets, cc->n, cc->c, cc->ignore_index, NULL,
               NULL);
  tli_concat_pool_forward(po, am, pc->hs, pc->lens, pc->t, pc->b, pc->h);
  tli_concat_pool_backward(pdh, pc->dout, am, pc->lens, pc->t, pc->b, pc->h);
  const size_t rn = rc->t * rc->b * rc->h;
  tli_ar_penalty(rdh, rc->hd, rn, rc->alpha);
  tli_tar_penalty(rdh, rc->raw, rc->t, rc->b * rc->h, rc->beta);
  const size_t allocs = counter.allocs, frees = counter.frees;
  TLT_ASSERT_OK(tl_set_allocator(NULL));
  ck_assert_uint_eq(allocs, 0);
  ck_assert_uint_eq(frees, 0);
  /* The counter itself works: a libtl allocation would have been seen. */
  tlt_counter_install(&counter);
  void *p = tli_alloc(16);
  tli_free(p);
  ck_assert_uint_eq(counter.allocs, 1);
  TLT_ASSERT_OK(tl_set_allocator(NULL));

  free(y), free(dx), free(dw), free(db), free(work), free(eo), free(edw);
  free(mask), free(dl), free(ls), free(po), free(pdh), free(am), free(rdh);
}
END_TEST

TCase *kernels_layers_tcase_no_alloc(void);
TCase *kernels_layers_tcase_no_alloc(void) {
  TCase *tc = tcase_create("no_allocation");
  tcase_add_test(tc, kernels_do_not_allocate);
  return tc;
}
