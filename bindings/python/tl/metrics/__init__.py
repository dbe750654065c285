"""tl.metrics: domain similarity and adaptation (include/tl/metrics.h).

numpy arrays in (float32 and integer arrays are converted to float64, which
is exact: the C API is float64 only), Python floats or numpy arrays out.
Invalid input raises tl.InvalidArgumentError, NaN/Inf tl.NumericError, a
shape mismatch tl.ShapeError: all ValueErrors, with libtl's message. Inputs
may lie anywhere in the finite float64 range; a result beyond the largest
double raises tl.NumericError ("overflows"), and +inf is returned only where
the exact value is infinite (docs/metrics.md, "Scaling and overflow").
"""

from ._alignment import *  # noqa: F401,F403  (Part 2: adaptation and alignment)
from ._divergence import *  # noqa: F401,F403  (part 1)
