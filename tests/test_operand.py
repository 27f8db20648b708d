"""``optimise/operand.py``: a number given to a ``torch._foreach_*`` op as a 0-d tensor on the
CPU. The oracle is the same op given the Python number: the results must be equal bit for bit,
and the rules that use it must still take torch.optim's steps exactly."""
import random

import pytest
import torch

from flux_torch.optimise import (AMSGrad, AdaBelief, AdaGrad, AdaMax, Adam, AdamW, ClipGrad, Descent,
                                  Lion, Momentum, NAdam, Nesterov, OAdam, OptimiserChain, RAdam,
                                  RMSProp, WeightDecay, setup, update_)
from flux_torch.optimise import operand as operand_module
from flux_torch.optimise.operand import operand, operands


def _lists(dtype, seed):
    g = torch.Generator().manual_seed(seed)
    scale = 10.0 ** random.Random(seed).uniform(-6, 6)
    return [(torch.randn(shape, generator=g, dtype=torch.float64) * scale).to(dtype)
            for shape in [(5, 3), (3,), (1,)]]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("op", ["add", "mul", "div"])
def test_same_bits_as_the_python_number(dtype, op):
    rng = random.Random(1)
    values = [0.999, 1e-8, 1 - 0.999 ** 17, -1.0, 3.0e-39, 1e30] + [rng.uniform(-3, 3) for _ in range(20)]
    for seed, value in enumerate(values):
        xs = _lists(dtype, seed)
        want, got = [x.clone() for x in xs], [x.clone() for x in xs]
        getattr(torch, f"_foreach_{op}_")(want, value)
        fast = operand(value, got)
        assert isinstance(fast, list) and fast[0].dtype == dtype and fast[0].dim() == 0
        getattr(torch, f"_foreach_{op}_")(got, fast)
        for w, g in zip(want, got):
            assert torch.equal(w, g), (op, value)


@pytest.mark.parametrize("xs", [
    [torch.ones(2, dtype=torch.float16)],                       # rounds the number its own way
    [torch.ones(2, dtype=torch.bfloat16)],
    [torch.ones(2), torch.ones(2, dtype=torch.float64)],        # mixed dtypes
    [torch.ones(2, device="meta")],                             # another device
    [torch.ones(2, dtype=torch.complex64)],
    [],
], ids=["float16", "bfloat16", "mixed", "meta", "complex", "empty"])
def test_left_as_a_number_where_it_would_differ(xs):
    assert operand(0.5, xs) == 0.5
    assert operands(xs, 0.5, 2.0) == (0.5, 2.0)


def test_lists_ints_and_tensors_pass_through():
    xs = [torch.ones(2), torch.ones(3)]
    per_leaf, t = [0.5, 0.25], torch.tensor(0.5)
    assert operand(per_leaf, xs) is per_leaf
    assert operand(2, xs) == 2
    assert operand(t, xs) is t
    got = operands(xs, 0.5, per_leaf)
    assert got[1] is per_leaf and got[0][0].item() == 0.5 and len(got[0]) == 2


def test_a_compiled_function_keeps_the_number():
    seen = []

    def f(x):
        v = operand(0.5, [x])
        seen.append(type(v))
        return x * 2

    torch.compile(f, backend="eager", fullgraph=True)(torch.ones(2))
    assert seen == [float]


_RULES = [Adam(0.01), AdamW(0.01, lambda_=0.1), NAdam(0.01), RAdam(0.01), AdaMax(0.01), AMSGrad(0.01),
          OAdam(0.01), AdaBelief(0.01), Lion(0.01), Descent(0.1), Momentum(0.01, 0.9),
          Nesterov(0.01, 0.9), RMSProp(0.01), RMSProp(0.01, centred=True), AdaGrad(0.1),
          OptimiserChain(WeightDecay(0.1), Adam(0.01)), OptimiserChain(ClipGrad(0.5), Momentum())]


def _train(rule, dtype, steps=4):
    g = torch.Generator().manual_seed(3)
    model = {"w": torch.randn(4, 3, generator=g, dtype=dtype), "b": torch.randn(3, generator=g, dtype=dtype)}
    state = setup(rule, model)
    for _ in range(steps):
        update_(state, model, {"w": torch.randn(4, 3, generator=g, dtype=dtype),
                               "b": torch.randn(3, generator=g, dtype=dtype)})
    return model


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("rule", _RULES, ids=lambda r: type(r).__name__)
def test_rules_take_the_same_steps_as_with_python_numbers(rule, dtype, monkeypatch):
    fast = _train(rule, dtype)
    monkeypatch.setattr(operand_module, "_exact_dtype", lambda xs: None)    # every number as it is
    assert operand(0.5, [torch.ones(1)]) == 0.5
    slow = _train(rule, dtype)
    assert torch.equal(fast["w"], slow["w"]) and torch.equal(fast["b"], slow["b"])
    assert not torch.equal(fast["w"], _train(rule, dtype, steps=3)["w"])    # it did step


def test_adam_still_takes_torch_optims_steps():
    g = torch.Generator().manual_seed(4)
    x = torch.randn(5, 2, generator=g)
    ref = x.clone().requires_grad_()
    opt, state = torch.optim.Adam([ref], lr=0.01, foreach=True), setup(Adam(0.01), [x])
    for _ in range(5):
        dx = torch.randn(5, 2, generator=g)
        update_(state, [x], [dx])
        ref.grad = dx.clone()
        opt.step()
    assert torch.equal(x, ref.detach())
