/* The language-model side of the ULMFiT example after pretraining: reading
 * the pretrained checkpoint's sizes and vocabulary, fine-tuning it on the
 * target documents (stage 2), and the encoder files the classifiers start
 * from, kept in a work directory with a key so that a cached file made
 * from other inputs or settings is rebuilt rather than trusted. */
#ifndef ULMFIT_LM_H
#define ULMFIT_LM_H

#include <stddef.h>
#include <stdint.h>

#include <tl/text_learner.h>
#include <tl/tl.h>

#include "task.h"

/* What the pretrained checkpoint holds: its architecture sizes (from the
 * ulmfit.config metadata pretrain.c writes, checked against the tensors
 * when loaded), its vocabulary and a fingerprint of its bytes. */
typedef struct ul_pretrained {
  tl_awd_lstm_options awd;
  tl_vocab *vocab;
  size_t vocab_size;
  uint64_t fingerprint;
  char result[256]; /* its ulmfit.result metadata (perplexity, seconds) */
} ul_pretrained;

/* Reads path's metadata and vocabulary. Returns 0, or -1 with a message
 * naming the file and what is wrong with it. */
int ul_pretrained_open(ul_pretrained *p, const char *path, char *err,
                       size_t errcap);
void ul_pretrained_close(ul_pretrained *p);

/* Stage 2 settings: fastai's walk-through (fit_one_cycle(frozen_epochs,
 * lr_frozen) with only the embedding and decoder training, unfreeze,
 * fit_one_cycle(epochs, lr)), moms (0.8, 0.7, 0.8), wd 0.01. */
typedef struct ul_lm_settings {
  size_t bs, bptt;
  uint64_t frozen_epochs, epochs;
  double lr_frozen, lr, wd;
  float drop_mult;
  uint64_t seed;
  int threads;
} ul_lm_settings;

/* The two encoders of stage 2, written into work_dir when missing or made
 * from other inputs: work_dir/encoder_pretrained.tlc (the pretrained
 * encoder remapped onto the target vocabulary: "ULMFiT without LM
 * fine-tuning") and work_dir/encoder_finetuned.tlc (after fine-tuning on
 * the UL_TRAIN target documents). Perplexity of the held-out (UL_TEST)
 * target documents before and after fine-tuning into ppl[0], ppl[1]
 * (cached with the encoders). rep (may be NULL) reports progress. Returns
 * 0, or -1 with a message. */
int ul_lm_stage(double ppl[2], const ul_task *t, const char *pretrained,
                const ul_pretrained *p, const ul_lm_settings *s,
                const char *work_dir, tl_reporter *rep, int verbose, char *err,
                size_t errcap);

/* fastai's fit_one_cycle(epochs, slice(top / 2.6^4, top)) when
 * discriminative, else fit_one_cycle(epochs, top), with the text learners'
 * momenta (0.8, 0.7, 0.8): every fit of stages 2 and 3. */
tl_status ul_one_cycle(tl_learner *learn, uint64_t epochs, double top,
                       int discriminative);

/* 64-bit FNV-1a of a file's bytes (the cache key of what it feeds). */
int ul_file_fingerprint(uint64_t *out, const char *path);

/* Cache keys: a text file next to a cached file, written atomically after
 * it. ul_cache_valid is 1 when path and path.key exist and the key file
 * holds exactly `key`. */
int ul_cache_valid(const char *path, const char *key);
int ul_cache_write_key(const char *path, const char *key);

/* 1 when path is a checkpoint that loads with every CRC checked: a cached
 * file is used only then. */
int ul_ckpt_readable(const char *path);

#endif
