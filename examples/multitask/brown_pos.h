/* Reader of data/brown_pos.tsv.xz (data/README.md, data/make_data.py): the
 * Brown corpus's 57,340 sentences with their part-of-speech tags in the 12
 * universal tags of Petrov, Das & McDonald (2012). Every line is checked, so
 * a missing, truncated or altered file gives a message, not a wrong result.
 * Used by the multi-task example (examples/multitask.c). */
#ifndef MULTITASK_BROWN_POS_H
#define MULTITASK_BROWN_POS_H

#include <stddef.h>
#include <stdint.h>

/* The universal tags, in the order of their indices. */
#define BP_NUM_TAGS 12
extern const char *const BP_TAGS[BP_NUM_TAGS];

/* The whole corpus. Words are NUL-terminated strings inside `text`, which
 * the struct owns, as are all arrays. Sentences of a document are
 * consecutive, documents in file order (ca01 ... cr09). */
typedef struct bp_corpus {
  char *text;        /* the decompressed file, cut into words */
  const char **word; /* word of each token (n_tokens) */
  uint8_t *tag;      /* tag index of each token (n_tokens) */
  size_t n_tokens;
  size_t *sent_start; /* first token of each sentence (n_sentences + 1) */
  size_t *sent_doc;   /* document of each sentence (n_sentences) */
  size_t n_sentences;
  char (*doc_name)[8]; /* "ca01" ... (n_documents) */
  char *doc_genre;     /* genre letter of each document: ABCDEFGHJKLMNPR */
  size_t *doc_start;   /* first sentence of each document (n_documents + 1) */
  size_t n_documents;
} bp_corpus;

/* Reads path (data/brown_pos.tsv.xz). Returns 0, or -1 with a message in
 * err[0..errcap) (the file and line for a malformed line) and *out zeroed. */
int bp_load(bp_corpus *out, const char *path, char *err, size_t errcap);

/* Frees what bp_load allocated; a zeroed struct is fine. */
void bp_free(bp_corpus *c);

/* The index of tag s[0..len) in BP_TAGS, or -1. */
int bp_tag_index(const char *s, size_t len);

#endif
