from ._alignment import *
from ._divergence import *
