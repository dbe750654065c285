# Type stub of the tl package (PEP 561: see py.typed).
from . import arch as arch, checkpoint as checkpoint, metrics as metrics, text as text
from ._errors import (ClosedError as ClosedError, Error as Error,
                      FormatError as FormatError, IOFailure as IOFailure,
                      InternalError as InternalError,
                      InvalidArgumentError as InvalidArgumentError,
                      NotFoundError as NotFoundError,
                      NumericError as NumericError,
                      OutOfMemoryError as OutOfMemoryError,
                      ShapeError as ShapeError, StateError as StateError,
                      Status as Status, UnsupportedError as UnsupportedError)
from ._native import library_path as library_path
from .model import Model as Model, accuracy as accuracy, cross_entropy as cross_entropy
from .optim import (Optimizer as Optimizer, lrs_even as lrs_even,
                    lrs_factor as lrs_factor, lrs_slice as lrs_slice)
from .plan import Plan as Plan, lr_find as lr_find, lr_find_suggest as lr_find_suggest
from .predict import Predictor as Predictor
from .learner import (CSVLogger as CSVLogger,
                      EarlyStoppingCallback as EarlyStoppingCallback,
                      GradientAccumulation as GradientAccumulation,
                      GradientClip as GradientClip, Learner as Learner,
                      SaveModelCallback as SaveModelCallback)
from .progress import Progress as Progress
from .text_learner import (TextLearner as TextLearner,
                           language_model_learner as language_model_learner,
                           load_learner as load_learner,
                           text_classifier_learner as text_classifier_learner)
from .sched import Schedule as Schedule
from .text import (ClasLoader as ClasLoader, LMLoader as LMLoader,
                   LabelVocab as LabelVocab, SPECIALS as SPECIALS,
                   SentencePiece as SentencePiece, TokenCounts as TokenCounts,
                   Tokenizer as Tokenizer, Vocab as Vocab,
                   split_stratified as split_stratified,
                   subset_per_class as subset_per_class)
from .embed import sgns_train as sgns_train
from .transfer import (DemocraticCoLearning as DemocraticCoLearning,
                       TaskSampler as TaskSampler, TriTraining as TriTraining,
                       class_centroids as class_centroids,
                       co_training_select as co_training_select,
                       distill_loss as distill_loss, dwa_weights as dwa_weights,
                       gradnorm as gradnorm, gradnorm_rescale as gradnorm_rescale,
                       ensemble_average as ensemble_average,
                       mcd_confidence as mcd_confidence,
                       pseudo_label_select as pseudo_label_select,
                       soft_share_l2 as soft_share_l2,
                       soft_share_trace as soft_share_trace,
                       source_weights as source_weights,
                       uncertainty_weighting as uncertainty_weighting)

__version__: str
version_number: int

def status_string(code: int) -> str: ...
def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...
