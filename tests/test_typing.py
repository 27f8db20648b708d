"""The public functions carry type hints (the package ships py.typed), and every hint resolves."""
import inspect
import typing

import pytest
import torch

import flux_torch

FUNCTIONS = sorted({name for name in flux_torch.__all__ if inspect.isfunction(getattr(flux_torch, name))})


@pytest.mark.parametrize("name", FUNCTIONS)
def test_public_function_is_fully_annotated(name):
    fn = getattr(flux_torch, name)
    hints = typing.get_type_hints(fn)        # raises if a hint names something undefined
    unannotated = [p for p in inspect.signature(fn).parameters if p not in hints]
    assert not unannotated, f"{name}: parameters without a type hint: {unannotated}"
    assert "return" in hints, f"{name}: no return type hint"


def test_hints_say_what_comes_back():
    """A few hints checked against what the functions return."""
    hints = typing.get_type_hints
    assert hints(flux_torch.params)["return"] is flux_torch.Params
    x = torch.tensor([1.0, -1.0])
    assert isinstance(flux_torch.relu(x), torch.Tensor) and isinstance(flux_torch.relu(-1.0), float)
    assert hints(flux_torch.relu)["return"].__constraints__ == (torch.Tensor, float)
    assert hints(flux_torch.mse)["return"] is torch.Tensor and isinstance(flux_torch.mse(x, x), torch.Tensor)
    model = flux_torch.Dense(2, 3)
    assert hints(flux_torch.testmode_)["return"] is hints(flux_torch.testmode_)["model"]
    assert flux_torch.testmode_(model) is model
