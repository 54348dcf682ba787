# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Every test finds the shared helpers of tests/lib (rigs, topologies, map layouts)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
