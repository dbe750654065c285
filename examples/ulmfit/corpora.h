/* The corpora of the ULMFiT example (data/README.md): the Brown corpus as
 * the target domain and task, nlp-corpus plus the Brown genres the task
 * does not use as the general domain. Read from the shipped .xz files, with
 * every line checked, so that a missing, truncated or altered file gives a
 * message rather than a wrong result. */
#ifndef ULMFIT_CORPORA_H
#define ULMFIT_CORPORA_H

#include <stddef.h>
#include <stdint.h>

/* Genres of the task, in class order: news (A), religion (D), skills and
 * hobbies (E), government (H), learned (J). */
#define UL_NUM_CLASSES 5
/* Sentences per passage: a passage is 5 consecutive sentences of one
 * document; a document's last sentences that do not fill one are dropped. */
#define UL_PASSAGE_SENTENCES 5

/* Which side of the split a target document is on. */
typedef enum ul_side { UL_TRAIN = 0, UL_VALID = 1, UL_TEST = 2 } ul_side;

/* One passage of the task: its text (sentences joined by a space), the
 * class (index into the task's genres), the document and its side. */
typedef struct ul_passage {
  char *text;
  size_t len;
  int64_t label;
  size_t doc;
  ul_side side;
} ul_passage;

/* Everything the example reads. Texts are owned by the struct. */
typedef struct ul_corpora {
  /* General domain: one text per unit (a Brown document of an unused
   * genre, or 10 consecutive nlp-corpus lines). */
  char **general;
  size_t *general_len;
  size_t n_general;
  /* Target domain: one text per Brown document of a task genre, with its
   * class and side; the LM is fine-tuned on the UL_TRAIN ones. */
  char **target;
  size_t *target_len;
  int64_t *target_label;
  ul_side *target_side;
  size_t n_target;
  /* The task's passages, in document order. */
  ul_passage *passages;
  size_t n_passages;
} ul_corpora;

/* Reads data_dir/brown.tsv.xz and data_dir/nlp_corpus.txt.xz and splits
 * the task's documents by genre, seeded: in each genre round(test_frac *
 * n) documents go to the test side and round(valid_frac * n) of the rest
 * to validation. Returns 0, or -1 with a message in err[0..errcap). */
int ul_corpora_load(ul_corpora *out, const char *data_dir, double valid_frac,
                    double test_frac, uint64_t seed, char *err, size_t errcap);

/* Frees what ul_corpora_load allocated; a zeroed struct is fine. */
void ul_corpora_free(ul_corpora *c);

/* The genre letter of class k (k < UL_NUM_CLASSES) and its name. */
char ul_class_genre(size_t k);
const char *ul_class_name(size_t k);
/* The classifier's label of class k: its genre letter and name ("A news").
 * A tl_label_vocab sorts its labels (fastai's CategoryMap), and these sort
 * in class order, so the ids a classifier is trained on name the right
 * genre in the exported file. */
const char *ul_class_label(size_t k);

/* Writes the printf-style message into err[0..errcap) and returns -1: the
 * error path of every function of the example that reports a message. */
int ul_fail(char *err, size_t errcap, const char *fmt, ...);

/* Reads a whole .xz file into a NUL-terminated buffer (*out, *out_len),
 * checking the integrity data the format carries. Returns 0, or -1 with a
 * message. Exposed for the tests of bad input. */
int ul_read_xz(char **out, size_t *out_len, const char *path, char *err,
               size_t errcap);

#endif
