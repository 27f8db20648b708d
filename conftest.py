"""Names every doctest in the package can use without importing them."""
import numpy as np
import pytest
import torch

import flux_torch


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace):
    doctest_namespace.update({name: getattr(flux_torch, name) for name in flux_torch.__all__})
    doctest_namespace.update(torch=torch, np=np, Flux=flux_torch, flux_torch=flux_torch)
