/* Hostile checkpoint input: every truncation and single-byte flip rejected
 * within the allocation bound; header, tensor and section fields checked. */
#include "ckpt_file_common.h"

/* ---- hostile input ------------------------------------------------------ */

START_TEST(every_truncation_is_rejected_within_the_allocation_bound) {
  const size_t full = sizeof ckpt_golden_tiny;
  for (size_t len = 0; len < full; len++) {
    size_t allocated = 0;
    const tl_status s = load_counted(ckpt_golden_tiny, len, &allocated);
    ck_assert_msg(s == TL_E_FORMAT, "prefix of %zu bytes gave %s", len,
                  tl_status_string(s));
    ck_assert_msg(allocated <= 4 * len + 4096,
                  "prefix of %zu bytes allocated %zu bytes", len, allocated);
  }
  assert_rejects(ckpt_golden_tiny, 10, TL_E_FORMAT, "truncated");
  assert_rejects(ckpt_golden_tiny, full - 1, TL_E_FORMAT, "truncated");
  size_t allocated = 0;
  TLT_ASSERT_OK(load_counted(ckpt_golden_tiny, full, &allocated));
  ck_assert_uint_le(allocated, 4 * full + 4096);
  /* Trailing garbage is not silently ignored. */
  unsigned char *longer = malloc(full + 1);
  memcpy(longer, ckpt_golden_tiny, full);
  longer[full] = 0;
  assert_rejects(longer, full + 1, TL_E_FORMAT, "trailing");
  free(longer);
}
END_TEST

START_TEST(every_single_byte_flip_is_detected) {
  /* The CRCs plus the zero-padding rule cover every byte of the file. */
  const size_t full = sizeof ckpt_golden_tiny;
  unsigned char *img = golden_copy();
  for (size_t i = 0; i < full; i++) {
    img[i] ^= 0x40;
    tl_ckpt *c = NULL;
    const tl_status s = tl_ckpt_load_buffer(&c, img, full, NULL);
    ck_assert_msg(s != TL_OK, "flipping byte %zu was not detected", i);
    ck_assert_ptr_null(c);
    img[i] ^= 0x40;
  }
  free(img);
}
END_TEST

START_TEST(header_fields_are_checked) {
  const size_t full = sizeof ckpt_golden_tiny;
  unsigned char *img = golden_copy();
  img[1] = 'X';
  assert_rejects(img, full, TL_E_FORMAT, "magic");
  free(img);

  img = golden_copy();
  tli_store_le32(img + 8, 2);
  fix_header_crc(img);
  assert_rejects(img, full, TL_E_UNSUPPORTED, "format version 2");
  free(img);

  img = golden_copy(); /* a big-endian writer's marker */
  tli_store_le32(img + 12, 0x04030201u);
  fix_header_crc(img);
  assert_rejects(img, full, TL_E_FORMAT, "byte-order");
  free(img);

  img = golden_copy();
  img[45] ^= 1;
  assert_rejects(img, full, TL_E_FORMAT, "header CRC");
  free(img);

  img = golden_copy();
  tli_store_le32(img + 40, 1);
  fix_header_crc(img);
  assert_rejects(img, full, TL_E_FORMAT, "flags");
  free(img);

  img = golden_copy(); /* index larger than the file */
  tli_store_le64(img + 24, UINT64_MAX - 10);
  assert_rejects(img, full, TL_E_FORMAT, "index");
  free(img);

  /* A count far beyond what the index can hold: rejected before any
   * allocation proportional to it. */
  img = golden_copy();
  tli_store_le32(img + 32, 0xFFFFFFFFu);
  fix_header_crc(img);
  size_t allocated = 0;
  ck_assert_int_eq(load_counted(img, full, &allocated), TL_E_FORMAT);
  ck_assert_uint_le(allocated, 4096);
  assert_rejects(img, full, TL_E_FORMAT, "do not fit");
  free(img);
}
END_TEST

START_TEST(tensor_entries_are_checked) {
  const size_t full = sizeof ckpt_golden_tiny;
  struct {
    size_t field;   /* offset within tensor entry 0 */
    int width;      /* 1, 4 or 8 bytes */
    uint64_t value; /* new value */
    tl_status status;
    const char *word;
  } cases[] = {
      {12, 1, 0, TL_E_FORMAT, "unknown dtype 0"},
      {12, 1, 6, TL_E_FORMAT, "unknown dtype 6"},
      {13, 1, 9, TL_E_FORMAT, "rank 9"},
      {13, 1, 1, TL_E_FORMAT, "past its rank"},  /* dims[1] = 3 left */
      {14, 1, 1, TL_E_FORMAT, "reserved"},       /* reserved u16 */
      {100, 1, 1, TL_E_FORMAT, "reserved"},      /* reserved u32 */
      {8, 4, 0, TL_E_FORMAT, "name of 0 bytes"}, /* empty name */
      {8, 4, 70000, TL_E_FORMAT, "70000 bytes"}, /* over the limit */
      {0, 8, 1000, TL_E_FORMAT, "string pool"},  /* name outside pool */
      {8, 4, 2, TL_E_FORMAT, "NUL-terminated"},  /* "w" + NUL read as 2 */
      {16, 8, UINT64_C(1) << 62, TL_E_FORMAT, "overflows"},
      {16, 8, 4, TL_E_FORMAT, "its shape needs 48"}, /* size mismatch */
      {80, 8, 0x2c1, TL_E_FORMAT, "not a multiple of 64"},
      {80, 8, 64, TL_E_FORMAT, "overlaps the index"},
      {80, 8, UINT64_C(1) << 40, TL_E_FORMAT, "past the end"},
      {88, 8, UINT64_MAX, TL_E_FORMAT, "stores"},
      {96, 4, 0x12345678, TL_E_FORMAT, "CRC mismatch in tensor 'w'"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    unsigned char *img = golden_copy();
    unsigned char *f = tensor_entry(img, 0) + cases[k].field;
    if (cases[k].width == 1)
      f[0] = (unsigned char)cases[k].value;
    else if (cases[k].width == 4)
      tli_store_le32(f, (uint32_t)cases[k].value);
    else
      tli_store_le64(f, cases[k].value);
    fix_header_crc(img);
    size_t allocated = 0;
    ck_assert_int_eq(load_counted(img, full, &allocated), cases[k].status);
    ck_assert_uint_le(allocated, 4 * full + 4096);
    assert_rejects(img, full, cases[k].status, cases[k].word);
    free(img);
  }
}
END_TEST

START_TEST(overlaps_and_duplicate_names_are_rejected) {
  /* Two tensors with equal contents: pointing the second at the first's
   * data keeps its CRC right, so only the overlap check can catch it. */
  tl_ckpt *c = NULL;
  TLT_ASSERT_OK(tl_ckpt_create(&c));
  const float x[4] = {1, 2, 3, 4};
  const size_t s[1] = {4};
  TLT_ASSERT_OK(tl_ckpt_add_tensor(c, "a", TL_CKPT_F32, 1, s, x));
  TLT_ASSERT_OK(tl_ckpt_add_tensor(c, "b", TL_CKPT_F32, 1, s, x));
  size_t size = 0;
  unsigned char *img = save_image(c, &size);
  unsigned char *copy = malloc(size);

  memcpy(copy, img, size);
  memcpy(tensor_entry(copy, 1) + 80, tensor_entry(copy, 0) + 80, 8);
  fix_header_crc(copy);
  assert_rejects(copy, size, TL_E_FORMAT, "overlap");

  memcpy(copy, img, size); /* rename "b" to "a" in the string pool */
  unsigned char *p = pool(copy);
  ck_assert(p[0] == 'a' && p[2] == 'b');
  p[2] = 'a';
  fix_header_crc(copy);
  assert_rejects(copy, size, TL_E_FORMAT, "two tensors are named 'a'");

  memcpy(copy, img, size); /* a stray byte in the alignment padding */
  copy[tli_load_le64(tensor_entry(copy, 0) + 80) + 16] = 1;
  assert_rejects(copy, size, TL_E_FORMAT, "padding");
  free(copy);
  free(img);
  tl_ckpt_free(c);
}
END_TEST

START_TEST(sections_are_checked) {
  const size_t full = sizeof ckpt_golden_tiny;
  /* Section order in the golden file: vocab, meta, groups, optim, step, rng */
  unsigned char *img = golden_copy();
  tli_store_le32(section_entry(img, 1), 1); /* meta relabelled as vocab */
  fix_header_crc(img);
  assert_rejects(img, full, TL_E_FORMAT, "appears twice");
  free(img);

  img = golden_copy();
  tli_store_le32(section_entry(img, 5), 77); /* unknown critical kind */
  fix_header_crc(img);
  assert_rejects(img, full, TL_E_UNSUPPORTED, "kind 77");
  free(img);

  img = golden_copy(); /* unknown ancillary kind: skipped */
  tli_store_le32(section_entry(img, 5), 0x80000077u);
  fix_header_crc(img);
  tl_ckpt *c = NULL;
  TLT_ASSERT_OK(tl_ckpt_load_buffer(&c, img, full, NULL));
  const void *bytes;
  size_t nbytes;
  TLT_ASSERT_FAILS(
      tl_ckpt_get_section(&bytes, &nbytes, NULL, c, TL_CKPT_SECTION_RNG),
      TL_E_NOT_FOUND, "kind 6");
  tl_ckpt_free(c);
  free(img);

  img = golden_copy();
  tli_store_le32(section_entry(img, 4) + 4, 3); /* step with a subkind */
  fix_header_crc(img);
  assert_rejects(img, full, TL_E_FORMAT, "subkind 3");
  free(img);

  img = golden_copy();
  section_entry(img, 0)[24] ^= 1;
  fix_header_crc(img);
  assert_rejects(img, full, TL_E_FORMAT, "CRC mismatch in section '1'");
  free(img);

  /* Payload contents, with the section CRC fixed up each time. */
  struct {
    size_t section, at; /* byte offset inside the payload */
    int width;
    uint64_t value;
    const char *word;
  } cases[] = {
      {0, 0, 8, UINT64_C(1) << 60, "claims"}, /* absurd vocab count */
      {0, 0, 8, 4, "token 3"},                /* more tokens than stored */
      {0, 0, 8, 2, "stray bytes"},            /* fewer */
      {0, 17, 1, 'x', "token 0"},             /* "<unk>" loses its NUL */
      {0, 13, 1, 0, "token 0"},               /* a NUL inside "<unk>" */
      {0, 8, 4, 70000, "token 0"},            /* length over the limit */
      {1, 0, 8, UINT64_C(1) << 40, "claims"},
      {1, 30, 4, 5, "metadata entry 1"}, /* "lang" claims 5 bytes */
      {2, 8, 4, 9, "names tensor 9"},
      {2, 16, 4, 0, "increasing"},
      {2, 12, 4, 0xFFFFFFFFu, "reserved group"},
      {4, 0, 1, 0, ""}, /* placeholder replaced below: step size */
  };
  for (size_t k = 0; k + 1 < sizeof cases / sizeof cases[0]; k++) {
    img = golden_copy();
    unsigned char *payload =
        img + tli_load_le64(section_entry(img, cases[k].section) + 8) +
        cases[k].at;
    if (cases[k].width == 1)
      payload[0] = (unsigned char)cases[k].value;
    else if (cases[k].width == 4)
      tli_store_le32(payload, (uint32_t)cases[k].value);
    else
      tli_store_le64(payload, cases[k].value);
    fix_section_crc(img, cases[k].section);
    size_t allocated = 0;
    ck_assert_msg(load_counted(img, full, &allocated) == TL_E_FORMAT,
                  "case %zu loaded", k);
    ck_assert_uint_le(allocated, 4 * full + 4096);
    assert_rejects(img, full, TL_E_FORMAT, cases[k].word);
    free(img);
  }

  /* Duplicate metadata keys: "lang" renamed "arch". */
  img = golden_copy();
  unsigned char *meta = img + tli_load_le64(section_entry(img, 1) + 8);
  ck_assert_int_eq(memcmp(meta + 8 + 4, "arch", 4), 0);
  ck_assert_int_eq(memcmp(meta + 30 + 4, "lang", 4), 0);
  memcpy(meta + 30 + 4, "arch", 4);
  fix_section_crc(img, 1);
  assert_rejects(img, full, TL_E_FORMAT, "'arch' appears twice");
  free(img);

  /* An empty metadata key: from {"a": ""}, rewrite the payload as
   * {"": ""} and shorten the section by the one byte that frees. */
  {
    tl_ckpt *m = NULL;
    TLT_ASSERT_OK(tl_ckpt_create(&m));
    TLT_ASSERT_OK(tl_ckpt_set_meta(m, "a", ""));
    size_t msize = 0;
    unsigned char *mimg = save_image(m, &msize);
    unsigned char *e = section_entry(mimg, 0);
    unsigned char *pl = mimg + tli_load_le64(e + 8);
    ck_assert_uint_eq(tli_load_le64(e + 16), 19);
    static const unsigned char empty_pair[11] = {0, 0, 0, 0, 0, 0,
                                                 0, 0, 0, 0, 0};
    memcpy(pl + 8, empty_pair, sizeof empty_pair);
    tli_store_le64(e + 16, 18);
    fix_section_crc(mimg, 0);
    assert_rejects(mimg, msize, TL_E_FORMAT, "empty key");
    free(mimg);
    tl_ckpt_free(m);
  }

  /* The step payload must be exactly 8 bytes. */
  img = golden_copy();
  tli_store_le64(section_entry(img, 4) + 16, 4);
  fix_section_crc(img, 4);
  assert_rejects(img, full, TL_E_FORMAT, "step section has 4 bytes");
  free(img);
}
END_TEST

TCase *ckpt_file_tcase_ckpt_hostile(void);
TCase *ckpt_file_tcase_ckpt_hostile(void) {
  TCase *tc = tcase_create("hostile_input");
  tcase_add_test(tc, every_truncation_is_rejected_within_the_allocation_bound);
  tcase_add_test(tc, every_single_byte_flip_is_detected);
  tcase_add_test(tc, header_fields_are_checked);
  tcase_add_test(tc, tensor_entries_are_checked);
  tcase_add_test(tc, overlaps_and_duplicate_names_are_rejected);
  tcase_add_test(tc, sections_are_checked);
  return tc;
}
