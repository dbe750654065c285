/* Optimizer state in checkpoints: the bytes of tl_optim_state_save as the
 * optimizer section, tagged with the optimizer kind so a load into another
 * kind fails with a clear message before tl_optim_state_load runs. */
#include <string.h>

#include "ckpt/ckpt_internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "optim/optim_internal.h"

tl_status tl_ckpt_store_optim(tl_ckpt *ckpt, const tl_optim *optim) {
  static const char fn[] = "tl_ckpt_store_optim";
  TLI_CHECK_PTR(fn, ckpt);
  TLI_CHECK_PTR(fn, optim);
  size_t size = 0;
  TLI_TRY(tl_optim_state_size(&size, optim));
  void *bytes = NULL;
  TLI_TRY(tli_alloc_checked(&bytes, size, 1, fn));
  tl_status status = tl_optim_state_save(bytes, size, optim);
  if (status == TL_OK) {
    /* Hand the buffer over instead of copying it again. */
    tli_free(ckpt->optim.bytes);
    ckpt->optim = (tli_ckpt_blob){1, (uint32_t)optim->kind, bytes, size};
    return TL_OK;
  }
  tli_free(bytes);
  return status;
}

tl_status tl_ckpt_restore_optim(tl_optim *optim, const tl_ckpt *ckpt) {
  static const char fn[] = "tl_ckpt_restore_optim";
  TLI_CHECK_PTR(fn, optim);
  TLI_CHECK_PTR(fn, ckpt);
  TLI_CHECK(ckpt->optim.present, TL_E_NOT_FOUND,
            "%s: the checkpoint has no optimizer state", fn);
  TLI_CHECK(ckpt->optim.subkind == (uint32_t)optim->kind, TL_E_FORMAT,
            "%s: the checkpoint holds state of optimizer kind %u, this "
            "optimizer is kind %d",
            fn, (unsigned)ckpt->optim.subkind, (int)optim->kind);
  return tl_optim_state_load(optim, ckpt->optim.bytes, ckpt->optim.size);
}
