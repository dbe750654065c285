"""tl.metrics: domain similarity and adaptation (include/tl/metrics.h).

numpy arrays in, Python floats or numpy arrays out. Invalid input raises
tl.InvalidArgumentError (a ValueError) with libtl's message.
"""

from ._alignment import *  # noqa: F401,F403  (Part 2: adaptation and alignment)
from ._divergence import *  # noqa: F401,F403  (part 1)
