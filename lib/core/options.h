/* Internal: versioned structs that callers allocate (options, stages, the
 * descriptions a call fills). The one mechanism behind "fields are only
 * appended and older versions keep their meaning" (libgit2's
 * GIT_ERROR_CHECK_VERSION and *_OPTIONS_INIT).
 *
 * Each struct has a table `sizes[v - 1]`: the bytes that version v
 * defines, i.e. the end of its last field (TLI_FIELD_END), not sizeof: a
 * field appended by a later version may sit in what was tail padding, which
 * an older caller never initialised. The table has one entry per version,
 * so its length is the current version. A caller of version v owns exactly
 * sizes[v - 1] bytes: libtl reads and writes no byte past them. */
#ifndef TLI_CORE_OPTIONS_H
#define TLI_CORE_OPTIONS_H

#include <stddef.h>

#include "tl/core.h"

/* The offset just past `field` of `type`. */
#define TLI_FIELD_END(type, field)                                             \
  (offsetof(type, field) + sizeof(((type *)0)->field))

/* Number of entries of a sizes table (= the current version). */
#define TLI_VERSIONS(sizes) ((unsigned)(sizeof(sizes) / sizeof((sizes)[0])))

/* Defines the sizes table `name` of a struct whose current version is
 * VERSION (the header's macro): one TLI_FIELD_END per version, oldest
 * first. A v2 appends its fields, bumps the header's VERSION and appends
 * the end of its last field here; the build fails when the two disagree. */
#define TLI_VERSION_SIZES(name, VERSION, ...)                                  \
  static const size_t name[] = {__VA_ARGS__};                                  \
  _Static_assert(sizeof(name) / sizeof(name[0]) == (VERSION),                  \
                 #name ": one size per version")

/* tli_options_copy into a local current struct `dst`. */
#define TLI_OPTIONS_COPY(dst, src, sizes, fn, arg)                             \
  tli_options_copy((dst), sizeof *(dst), (src), (sizes), TLI_VERSIONS(sizes),  \
                   (fn), (arg))

/* tli_options_init from a static defaults struct. */
#define TLI_OPTIONS_INIT(out, defaults, version, sizes, fn)                    \
  tli_options_init((out), (defaults), (version), (sizes), TLI_VERSIONS(sizes), \
                   (fn))

/* TL_OK when 1 <= version <= n_versions, else TL_E_UNSUPPORTED with the
 * one message every function uses:
 *   "<fn>: <arg> <version> is not supported (this libtl knows 1..<n>)". */
tl_status tli_version_check(unsigned version, unsigned n_versions,
                            const char *fn, const char *arg);

/* tl_x_options_init: checks `version` and copies the bytes that version
 * defines from the full current `defaults` into out, then sets
 * out->version = version. Writes nothing past sizes[version - 1]. */
tl_status tli_options_init(void *out, const void *defaults, unsigned version,
                           const size_t *sizes, unsigned n_versions,
                           const char *fn);

/* A function given a caller's struct: dst (dst_size bytes, a current
 * struct already holding the defaults) receives the bytes that src's
 * version defines; later fields keep their defaults, and dst->version
 * becomes the current version (dst is now a complete current struct).
 * Reads nothing of src past sizes[src->version - 1]. `arg` names the
 * argument ("options"). */
tl_status tli_options_copy(void *dst, size_t dst_size, const void *src,
                           const size_t *sizes, unsigned n_versions,
                           const char *fn, const char *arg);

/* A call that fills a caller's struct (the caller set out->version): copies
 * the bytes of `full` (a current struct) that out's version defines, after
 * the version field, which is left as the caller set it. */
tl_status tli_options_write(void *out, const void *full, const size_t *sizes,
                            unsigned n_versions, const char *fn,
                            const char *arg);

#endif
