/* Stage 1 of the ULMFiT example as functions, so that ulmfit --full can
 * pretrain without another program (ulmfit_pretrain is pretrain_main.c). */
#ifndef ULMFIT_PRETRAIN_H
#define ULMFIT_PRETRAIN_H

/* The ulmfit_pretrain command line (see pretrain.c's head comment):
 * returns its exit status (0 when the model is written). */
int ul_pretrain_main(int argc, char **argv);

/* ul_pretrain_main with the settings of the shipped checkpoint
 * (docs/ulmfit.md) on data_dir, writing out (resumable from out.resume). */
int ul_pretrain_default(const char *data_dir, const char *out, int threads);

#endif
