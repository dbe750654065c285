/*
 * libtl: transfer-learning primitives for C, C++ and anything with a C FFI.
 * This umbrella header includes every public header. See docs/ for guides and
 * docs/api-conventions.md for the rules every function follows.
 */
#ifndef TL_TL_H
#define TL_TL_H

#include "tl/arch.h"
#include "tl/ckpt.h"
#include "tl/core.h"
#include "tl/embed.h"
#include "tl/learn.h"
#include "tl/metrics.h"
#include "tl/model.h"
#include "tl/optim.h"
#include "tl/plan.h"
#include "tl/predict.h"
#include "tl/progress.h"
#include "tl/sched.h"
#include "tl/text.h"
#include "tl/text_learner.h"
#include "tl/transfer.h"

#endif /* TL_TL_H */
