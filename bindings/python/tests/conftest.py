import os
import sys

# Import the in-tree package; the library comes from $TL_LIBRARY (./run test
# points it at the build tree).
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
