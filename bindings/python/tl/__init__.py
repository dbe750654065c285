"""libtl for Python: transfer-learning primitives through ctypes.

The package loads libtl from $TL_LIBRARY, from next to the package, or from
the system, in that order. Every failing call raises a tl.Error subclass
carrying libtl's message; invalid arguments raise tl.InvalidArgumentError,
which is a ValueError.
"""
from ._errors import (ClosedError, Error, FormatError, InternalError,
                      InvalidArgumentError,
                      IOFailure, NotFoundError, NumericError, OutOfMemoryError,
                      ShapeError, StateError, Status, UnsupportedError)
from ._native import lib as _lib
from ._native import library_path

__version__ = _lib.tl_version_string().decode("ascii")
version_number = _lib.tl_version_number()


def status_string(code):
    """The C name of a status code, e.g. 'TL_E_SHAPE'."""
    from ._check import c_int
    return _lib.tl_status_string(c_int(code, "code", "status_string")).decode(
        "ascii")


def set_num_threads(n):
    """Sets how many OpenBLAS threads libtl's own BLAS calls run with
    (default 1); OpenBLAS's count outside libtl's calls is left alone."""
    from ._check import c_int
    _lib.tl_set_num_threads(c_int(n, "n", "set_num_threads"))


def get_num_threads():
    return _lib.tl_get_num_threads()


__all__ = ["ClosedError", "Error", "FormatError", "InternalError",
           "InvalidArgumentError",
           "IOFailure", "NotFoundError", "NumericError", "OutOfMemoryError",
           "ShapeError", "StateError", "Status", "UnsupportedError",
           "__version__", "version_number", "library_path", "status_string",
           "set_num_threads", "get_num_threads"]
from .model import Model, accuracy, cross_entropy  # noqa: E402  (include/tl/model.h)
from .optim import Optimizer, lrs_even, lrs_factor, lrs_slice  # noqa: E402
__all__ += ["Model", "accuracy", "cross_entropy", "Optimizer", "lrs_even",
            "lrs_factor", "lrs_slice"]
from .sched import Schedule  # noqa: E402  (include/tl/sched.h)
from .plan import Plan, lr_find, lr_find_suggest  # noqa: E402  (include/tl/plan.h)
__all__ += ["Schedule", "Plan", "lr_find", "lr_find_suggest"]
from . import checkpoint, metrics  # noqa: E402  (include/tl/ckpt.h, metrics.h)
__all__ += ["checkpoint", "metrics"]
from .text import (ClasLoader, LabelVocab, LMLoader, SPECIALS, SentencePiece,  # noqa: E402
                   TokenCounts, Tokenizer, Vocab, split_stratified,
                   subset_per_class)  # (tl/text.h)
__all__ += ["ClasLoader", "LabelVocab", "LMLoader", "SPECIALS", "SentencePiece", "TokenCounts",
            "Tokenizer", "Vocab", "split_stratified", "subset_per_class"]
from . import text  # noqa: E402  (metrics: tl.text.classification_metrics, ...)
__all__ += ["text"]
from .progress import Progress  # noqa: E402  (include/tl/progress.h)
__all__ += ["Progress"]
from .predict import Predictor  # noqa: E402  (include/tl/predict.h)
__all__ += ["Predictor"]
from .transfer import (DemocraticCoLearning, TaskSampler, TriTraining,  # noqa: E402
                       class_centroids, co_training_select, distill_loss, dwa_weights,
                       gradnorm, gradnorm_rescale,
                       ensemble_average, mcd_confidence, pseudo_label_select,
                       soft_share_l2, soft_share_trace, source_weights,
                       uncertainty_weighting)  # (include/tl/transfer.h)
__all__ += ["DemocraticCoLearning", "TaskSampler", "TriTraining", "class_centroids",
            "co_training_select", "distill_loss", "dwa_weights", "gradnorm",
            "gradnorm_rescale",
            "ensemble_average", "mcd_confidence", "pseudo_label_select", "soft_share_l2",
            "soft_share_trace", "source_weights", "uncertainty_weighting"]
from .embed import sgns_train  # noqa: E402  (include/tl/embed.h)
__all__ += ["sgns_train"]
from .learner import (CSVLogger, EarlyStoppingCallback, GradientAccumulation,  # noqa: E402
                      GradientClip, Learner, SaveModelCallback)  # (tl/learn.h)
__all__ += ["CSVLogger", "EarlyStoppingCallback", "GradientAccumulation", "GradientClip",
            "Learner", "SaveModelCallback"]
from . import arch  # noqa: E402  (include/tl/arch.h: AWD-LSTM builders, encoders)
__all__ += ["arch"]
from .text_learner import (TextLearner, language_model_learner,  # noqa: E402
                           load_learner, text_classifier_learner)  # (tl/text_learner.h)
__all__ += ["TextLearner", "language_model_learner", "load_learner",
            "text_classifier_learner"]
