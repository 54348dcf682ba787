# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Fixtures of the BPF program tests: a firewall rig per module, reset per test."""
import pytest

from fwrig import FwRig, on_one_cpu
from progrig import running


@pytest.fixture(scope="module")
def rig():
    yield from running(FwRig())


@pytest.fixture
def fw(rig):
    rig.reset()
    yield rig


@pytest.fixture
def one_cpu(fw):
    with on_one_cpu():
        yield fw
