"""to_torch / from_torch against their torch.nn twins: outputs, gradients (torch.autograd),
torch.optim steps, state_dict, hooks, torch.compile."""
import copy
import importlib.util
import warnings

import pytest
import torch
from torch import nn

import flux_torch as Flux
from flux_torch.from_torch import from_torch, swap_batch_time
from flux_torch.layers import BatchNorm, Chain, Dense, Dropout, LayerNorm
from flux_torch.layers.recur import Recur
from flux_torch.to_torch import TorchView, to_torch

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
has_optimise = importlib.util.find_spec("flux_torch.optimise") is not None


def _twins(seed=0):
    """A flux Chain and the equivalent nn.Sequential with the same weights."""
    torch.manual_seed(seed)
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.BatchNorm1d(4), nn.Linear(4, 2))
    bn = BatchNorm(4)
    bn.γ, bn.β = seq[2].weight.detach().clone(), seq[2].bias.detach().clone()
    model = Chain(Dense(seq[0].weight.detach().clone(), seq[0].bias.detach().clone(), Flux.relu),
                  bn, Dense(seq[3].weight.detach().clone(), seq[3].bias.detach().clone()))
    return model, seq


# torch parameter name -> view parameter name, for _twins
_NAMES = {"0.weight": "layers.0.weight", "0.bias": "layers.0.bias", "2.weight": "layers.1.γ",
          "2.bias": "layers.1.β", "3.weight": "layers.2.weight", "3.bias": "layers.2.bias"}


# ---------------------------------------------------------------------- to_torch

def test_view_shares_the_models_tensors():
    model, _ = _twins()
    view = to_torch(model)
    assert isinstance(view, nn.Module) and isinstance(view, TorchView) and view.model is model
    names = dict(view.named_parameters())
    assert list(names) == ["layers.0.weight", "layers.0.bias", "layers.1.β", "layers.1.γ",
                           "layers.2.weight", "layers.2.bias"]
    for p, t in zip(names.values(), Flux.params(model)):
        assert isinstance(p, nn.Parameter) and p.requires_grad
        assert p.data_ptr() == t.data_ptr() and p.shape == t.shape
    assert dict(view.named_buffers()) == {"layers.1.μ": model[1].μ, "layers.1.σ2": model[1].σ2}
    assert view.get_buffer("layers.1.μ") is model[1].μ
    with torch.no_grad():                   # writes through the view reach the model
        names["layers.2.bias"].fill_(7.0)
    assert torch.equal(model[2].bias, torch.full((2,), 7.0))


def test_backward_matches_the_sequential_twin():
    model, seq = _twins()
    view = to_torch(model)
    x = torch.randn(8, 3)
    y_view, y_seq = view(x), seq(x)
    torch.testing.assert_close(y_view, y_seq)
    (y_view ** 2).sum().backward()
    (y_seq ** 2).sum().backward()
    params = dict(view.named_parameters())
    for tname, p in seq.named_parameters():
        torch.testing.assert_close(params[_NAMES[tname]].grad, p.grad)
    # running statistics were updated in place, as torch's (training mode)
    torch.testing.assert_close(model[1].μ, seq[2].running_mean)
    torch.testing.assert_close(model[1].σ2, seq[2].running_var)


@pytest.mark.parametrize("make_opt", [
    lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: torch.optim.Adam(ps, lr=0.01),
])
def test_torch_optim_steps_change_the_flux_model(make_opt):
    model, seq = _twins()
    view = to_torch(model)
    opt_v, opt_s = make_opt(view.parameters()), make_opt(seq.parameters())
    torch.manual_seed(1)
    for _ in range(4):
        x = torch.randn(8, 3)
        for net, opt in ((view, opt_v), (seq, opt_s)):
            opt.zero_grad()
            ((net(x) - 1) ** 2).mean().backward()
            opt.step()
    flux_tensors = {"layers.0.weight": model[0].weight, "layers.0.bias": model[0].bias,
                    "layers.1.γ": model[1].γ, "layers.1.β": model[1].β,
                    "layers.2.weight": model[2].weight, "layers.2.bias": model[2].bias}
    for tname, p in seq.named_parameters():
        torch.testing.assert_close(flux_tensors[_NAMES[tname]], p.detach())
    torch.testing.assert_close(model(torch.ones(2, 3)), seq.eval()(torch.ones(2, 3)))


def test_train_and_eval_modes():
    model = Chain(Dense(4, 4), Dropout(0.5))
    view = to_torch(model)
    x = torch.ones(200, 4)
    assert view.training and (view(x) == 0).any()            # a new view trains, as nn.Module
    view.eval()
    torch.testing.assert_close(view(x), model[0](x))
    view.train()
    assert (view(x) == 0).any()
    assert model[1].active is None                            # the model keeps its automatic mode


def test_state_dict_round_trip():
    model, seq = _twins()
    view = to_torch(model)
    sd = view.state_dict()
    assert list(sd) == ["layers.0.weight", "layers.0.bias", "layers.1.β", "layers.1.γ",
                        "layers.1.μ", "layers.1.σ2", "layers.2.weight", "layers.2.bias"]
    new = {k: torch.full_like(v, 0.5) for k, v in sd.items()}
    view.load_state_dict(new)
    assert torch.equal(model[0].weight, torch.full((4, 3), 0.5))
    assert torch.equal(model[1].μ, torch.full((4,), 0.5))
    new = {k: torch.full_like(v, 0.25) for k, v in sd.items()}
    view.load_state_dict(new, assign=True)                    # new tensors: the model follows
    assert torch.equal(model[2].bias, torch.full((2,), 0.25))
    assert view.get_parameter("layers.2.bias").data_ptr() == model[2].bias.data_ptr()


def test_hooks():
    model, _ = _twins()
    view = to_torch(model)
    seen = []
    h1 = view.register_forward_pre_hook(lambda mod, args: seen.append(("pre", args[0].shape)))
    h2 = view.register_forward_hook(lambda mod, args, out: out * 0)     # replaces the output
    p = view.get_parameter("layers.0.weight")
    p.register_hook(lambda g: seen.append(("grad", g.shape)))
    out = view(torch.randn(3, 3))
    assert torch.equal(out, torch.zeros(3, 2))
    h2.remove()
    view(torch.randn(3, 3)).sum().backward()
    assert ("pre", torch.Size([3, 3])) in seen and ("grad", torch.Size([4, 3])) in seen
    h1.remove()


def test_hooks_on_a_torch_module_inside():
    lin = nn.Linear(3, 2)
    model = Chain(Dense(3, 3, Flux.relu), lin)
    view = to_torch(model)
    assert view.get_submodule("layers.1") is lin
    assert view.get_parameter("layers.1.weight") is lin.weight     # its own Parameters
    calls = []
    lin.register_forward_hook(lambda m, a, o: calls.append(o.shape))
    view(torch.randn(5, 3)).sum().backward()
    assert calls == [torch.Size([5, 2])] and lin.weight.grad is not None
    view.eval()
    assert not lin.training


def test_torch_compile_of_the_view():
    dynamo = pytest.importorskip("torch._dynamo")
    model, seq = _twins()
    view = to_torch(model).eval()
    seq.eval()
    x = torch.randn(4, 3)
    dynamo.reset()
    compiled = torch.compile(view, backend="aot_eager")
    torch.testing.assert_close(compiled(x), seq(x))
    compiled(x).sum().backward()
    seq(x).sum().backward()
    params = dict(view.named_parameters())
    for tname, p in seq.named_parameters():
        torch.testing.assert_close(params[_NAMES[tname]].grad, p.grad)


def test_functional_call_and_copies():
    model, _ = _twins()
    view = to_torch(model).eval()
    x = torch.randn(2, 3)
    zeros = {k: torch.zeros_like(v) for k, v in view.named_parameters()}
    assert torch.equal(torch.func.functional_call(view, zeros, x), torch.zeros(2, 2))
    torch.testing.assert_close(view(x), model(x))             # back to its own tensors
    twin = copy.deepcopy(view)
    assert twin.get_parameter("layers.0.weight").data_ptr() == twin.model[0].weight.data_ptr()
    assert twin.model[0].weight.data_ptr() != model[0].weight.data_ptr()
    torch.testing.assert_close(twin(x), view(x))


def test_dtype_conversion_keeps_sharing():
    model, _ = _twins()
    view = to_torch(model).double()
    assert model[0].weight.dtype == torch.float64 and model[1].μ.dtype == torch.float64
    assert view.get_parameter("layers.0.weight").data_ptr() == model[0].weight.data_ptr()
    assert view.get_buffer("layers.1.μ") is model[1].μ
    assert view(torch.randn(3, 3, dtype=torch.float64)).dtype == torch.float64


@needs_cuda
def test_view_to_cuda_moves_the_model():
    model, _ = _twins()
    view = to_torch(model).cuda()
    assert model[0].weight.is_cuda and model[1].μ.is_cuda
    assert view(torch.randn(3, 3, device="cuda")).is_cuda


def test_to_torch_arguments():
    lin = nn.Linear(2, 2)
    assert to_torch(lin) is lin
    with pytest.raises(TypeError, match="to_torch expects a model"):
        to_torch(torch.zeros(2))
    assert repr(to_torch(Dense(3, 2))) == "TorchView(Dense(3, 2))  # 8 parameters"


# ---------------------------------------------------------------------- from_torch

def _check_twin(module, x, pairs, rtol=None, atol=None):
    """from_torch(module): same output (test mode) and same gradients (training mode, inside
    gradient) as the module; pairs maps torch parameter names to flux attribute paths."""
    layer = from_torch(module)
    tol = {} if rtol is None else {"rtol": rtol, "atol": atol}
    module.eval()
    torch.testing.assert_close(layer(x), module(x).detach(), **tol)
    module.train()
    xt = x.clone().requires_grad_(x.is_floating_point())
    out = module(xt)
    (out ** 2).sum().backward()
    if x.is_floating_point():
        g_layer, g_x = Flux.gradient(lambda m, x: (m(x) ** 2).sum(), layer, x)
        torch.testing.assert_close(g_x, xt.grad, **tol)
    else:                                      # ids: gradient would promote them to floats
        g_layer = Flux.gradient(lambda m: (m(x) ** 2).sum(), layer)[0]
    for tname, path in pairs.items():
        g = g_layer
        for k in path.split("."):
            g = getattr(g, k)
        torch.testing.assert_close(g, dict(module.named_parameters())[tname].grad, **tol)
    return layer


_WB = {"weight": "weight", "bias": "bias"}
_NORM = {"weight": "γ", "bias": "β"}


@pytest.mark.parametrize("make, shape, pairs", [
    (lambda: nn.Linear(5, 3), (4, 5), _WB),
    (lambda: nn.Linear(5, 3, bias=False), (4, 5), {"weight": "weight"}),
    (lambda: nn.Conv1d(2, 4, 3, stride=2, padding=1), (2, 2, 9), _WB),
    (lambda: nn.Conv2d(4, 6, (3, 2), padding="same", dilation=(1, 2), groups=2), (2, 4, 7, 8), _WB),
    (lambda: nn.Conv2d(3, 4, 2, padding="valid", bias=False), (2, 3, 5, 5), {"weight": "weight"}),
    (lambda: nn.Conv3d(2, 3, 2, padding=(0, 1, 1)), (1, 2, 4, 4, 4), _WB),
    (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2), (2, 4, 5, 5), _WB),
    (lambda: nn.ConvTranspose1d(2, 3, 4, dilation=2), (2, 2, 6), _WB),
    (lambda: nn.BatchNorm1d(4, momentum=0.3, eps=1e-3), (6, 4), _NORM),
    (lambda: nn.BatchNorm2d(3), (4, 3, 5, 5), _NORM),
    (lambda: nn.BatchNorm2d(3, affine=False, track_running_stats=False), (4, 3, 5, 5), {}),
    (lambda: nn.InstanceNorm2d(3, affine=True), (4, 3, 5, 5), _NORM),
    (lambda: nn.GroupNorm(2, 4), (3, 4, 5), _NORM),
    (lambda: nn.MaxPool2d(3, stride=2, padding=1), (2, 3, 9, 9), {}),
    (lambda: nn.AvgPool1d(2), (2, 3, 8), {}),
    (lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 5, 5), {}),
    (lambda: nn.AdaptiveMaxPool1d(1), (2, 3, 5), {}),
    (lambda: nn.Flatten(), (2, 3, 4), {}),
])
def test_from_torch_layers_match_their_module(make, shape, pairs):
    torch.manual_seed(0)
    module = make()
    with torch.no_grad():                      # non-trivial affine parameters and statistics
        for name, p in module.named_parameters():
            p.add_(torch.randn_like(p) * 0.1)
        for name, b in module.named_buffers():
            if b.is_floating_point():
                b.mul_(1.5).add_(0.1)
    _check_twin(module, torch.randn(*shape), pairs)


def test_from_torch_keeps_running_statistics_and_settings():
    bn = nn.BatchNorm1d(3, momentum=0.2, eps=1e-4)
    bn.running_mean.fill_(0.5)
    layer = from_torch(bn)
    assert layer.momentum == 0.2 and layer.ϵ == 1e-4 and torch.equal(layer.μ, bn.running_mean)
    assert layer.μ is not bn.running_mean                     # copied
    x = torch.randn(10, 3)
    Flux.gradient(lambda m: m(x).sum(), layer)                # training step updates μ as torch
    bn.train()(x)
    torch.testing.assert_close(layer.μ, bn.running_mean)
    torch.testing.assert_close(layer.σ2, bn.running_var)


def test_from_torch_embedding():
    emb = nn.Embedding(10, 4)
    ids = torch.tensor([[0, 3, 9], [2, 2, 1]])
    layer = _check_twin(emb, ids, {"weight": "weight"})
    assert isinstance(layer, Flux.Embedding)


@pytest.mark.parametrize("module, flux_f", [
    (nn.ReLU(), Flux.relu), (nn.Sigmoid(), Flux.σ), (nn.Tanh(), Flux.tanh),
    (nn.GELU(approximate="tanh"), Flux.gelu), (nn.GELU(), Flux.gelu_erf),
    (nn.Softmax(dim=-1), Flux.softmax), (nn.LogSoftmax(dim=-1), Flux.logsoftmax),
    (nn.LeakyReLU(), Flux.leakyrelu), (nn.ELU(), Flux.elu), (nn.SiLU(), Flux.swish),
    (nn.Softplus(), Flux.softplus), (nn.Identity(), Flux.identity), (nn.Flatten(), Flux.flatten),
    (nn.ReLU6(), Flux.relu6), (nn.SELU(), Flux.selu), (nn.CELU(), Flux.celu),
    (nn.Hardtanh(), Flux.hardtanh), (nn.Hardsigmoid(), Flux.hardσ), (nn.Hardswish(), Flux.hardswish),
    (nn.Mish(), Flux.mish), (nn.LogSigmoid(), Flux.logσ), (nn.Softsign(), Flux.softsign),
    (nn.Tanhshrink(), Flux.tanhshrink), (nn.Softshrink(), Flux.softshrink),
])
def test_from_torch_activations(module, flux_f):
    f = from_torch(module)
    assert f is flux_f
    x = torch.randn(3, 7) * 3
    torch.testing.assert_close(f(x), module(x))


def test_activation_modules_with_other_settings_stay_torch_silently():
    for m in (nn.LeakyReLU(0.2), nn.Softmax(dim=0), nn.ELU(alpha=2.0), nn.Flatten(0)):
        assert from_torch(m) is m                  # no warning: the suite turns warnings into errors


def test_from_torch_sequential_round_trip():
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.0), nn.Linear(4 * 4 * 4, 3),
                        nn.Sequential(nn.Tanh(), nn.Linear(3, 2)))
    model = from_torch(seq)
    assert isinstance(model, Chain) and isinstance(model[7], Chain)
    assert [type(m).__name__ for m in model[:2]] == ["Conv", "BatchNorm"]
    view = to_torch(model)
    x = torch.randn(5, 1, 8, 8)
    for mode in ("train", "eval"):
        getattr(view, mode)(), getattr(seq, mode)()
        torch.testing.assert_close(view(x), seq(x))
    view.train(), seq.train()
    view.zero_grad(), seq.zero_grad()
    view(x).square().sum().backward()
    seq(x).square().sum().backward()
    vps = [p for _, p in view.named_parameters()]
    tps = [p for _, p in seq.named_parameters()]
    # BatchNorm's (γ, β) are torch's (weight, bias) in Flux's field order (β, γ)
    vps[2], vps[3] = vps[3], vps[2]
    assert len(vps) == len(tps)
    for a, b in zip(vps, tps):
        torch.testing.assert_close(a.grad, b.grad)


def test_named_sequential_gives_a_named_chain():
    from collections import OrderedDict
    seq = nn.Sequential(OrderedDict(enc=nn.Linear(3, 2), act=nn.ReLU()))
    model = from_torch(seq)
    assert model.enc.weight.shape == (2, 3) and model.act is Flux.relu


def test_layernorm_matches_torch():
    ln = nn.LayerNorm((3, 4), eps=1e-5)
    with torch.no_grad():
        ln.weight.normal_(), ln.bias.normal_()
    layer = from_torch(ln)
    assert isinstance(layer, LayerNorm)
    x = torch.randn(5, 3, 4, dtype=torch.float64)
    layer, ln = Flux.f64(layer), ln.double()
    # oracle: Flux v0.16's normalise, (x - μ) / sqrt(σ² + ϵ), then the same affine
    mu = x.mean(dim=(-2, -1), keepdim=True)
    var = x.var(dim=(-2, -1), correction=0, keepdim=True)
    expected = (x - mu) / (var + 1e-5).sqrt() * ln.weight.detach() + ln.bias.detach()
    torch.testing.assert_close(layer(x), expected)
    # which is torch's own formula (Flux v0.14's (x - μ) / (σ + ϵ) was not)
    torch.testing.assert_close(layer(x), ln(x).detach())


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_recurrent_layers(kind, batch_first):
    torch.manual_seed(0)
    module = getattr(nn, kind)(3, 5, batch_first=batch_first)
    if kind == "GRU":
        with torch.no_grad():
            module.bias_hh_l0[10:] = 0           # Flux's GRU has no hidden candidate bias
    x = torch.randn(4, 6, 3)
    layer = from_torch(module)
    out_t = module(x)[0]
    torch.testing.assert_close(layer(x), out_t.detach())
    Flux.reset_(layer)
    assert isinstance(layer[1] if batch_first else layer, Recur)
    out_t.square().sum().backward()
    g, gx = Flux.gradient(lambda m, x: m(x).square().sum(), layer, x)
    g = g.layers[1] if batch_first else g
    torch.testing.assert_close(g.cell.Wi, module.weight_ih_l0.grad)
    torch.testing.assert_close(g.cell.Wh, module.weight_hh_l0.grad)
    torch.testing.assert_close(g.cell.b, module.bias_ih_l0.grad)
    xt = x.clone().requires_grad_()
    module(xt)[0].square().sum().backward()
    torch.testing.assert_close(gx, xt.grad)


def test_lstm_without_bias_gets_a_zero_bias():
    lstm = nn.LSTM(2, 3, bias=False)
    layer = from_torch(lstm)
    assert torch.equal(layer.cell.b, torch.zeros(12))
    x = torch.randn(5, 4, 2)
    torch.testing.assert_close(layer(x), lstm(x)[0].detach())


def test_dropout_conversions():
    d = from_torch(nn.Dropout(0.3))
    assert isinstance(d, Dropout) and d.p == 0.3 and d.dim is None and d.active is None
    d2 = Flux.trainmode_(from_torch(nn.Dropout2d(0.5)))
    y = d2(torch.ones(8, 6, 4, 4))                  # whole channels dropped, as torch's Dropout2d
    per_channel = y.reshape(8, 6, 16)
    assert torch.equal(per_channel.amin(-1), per_channel.amax(-1))
    assert isinstance(from_torch(nn.AlphaDropout(0.2)), Flux.AlphaDropout)


def test_gru_with_hidden_candidate_bias_is_kept():
    gru = nn.GRU(3, 4)
    with pytest.warns(UserWarning, match="GRU is kept as a wrapped torch module.*candidate"):
        assert from_torch(gru) is gru
    assert swap_batch_time(torch.zeros(2, 3)).shape == (3, 2)


# ---------------------------------------------------------------------- unsupported modules

def _mixed():
    with pytest.warns(UserWarning, match="Bilinear is kept as a wrapped torch module"):
        model = from_torch(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Bilinear(4, 4, 2)))
    return model


def test_unsupported_module_is_kept_with_a_warning():
    model = _mixed()
    assert isinstance(model, Chain) and isinstance(model[2], nn.Bilinear)
    with pytest.warns(UserWarning, match="Conv2d is kept.*padding_mode='reflect'"):
        conv = nn.Conv2d(1, 1, 3, padding_mode="reflect")
        assert from_torch(conv) is conv
    with pytest.warns(UserWarning, match="Embedding is kept.*padding_idx"):
        from_torch(nn.Embedding(5, 2, padding_idx=0))
    with pytest.raises(TypeError, match="already a flux_torch layer"):
        from_torch(Dense(2, 2))


def _chain_with_module():
    torch.manual_seed(0)
    lin = nn.Linear(4, 2)
    return Chain(Dense(3, 4, Flux.tanh), lin), lin


def test_chain_holding_a_torch_module_params_and_gradient():
    model, lin = _chain_with_module()
    ps = Flux.params(model)
    assert len(ps) == 4 and lin.weight in ps and lin.bias in ps
    x = torch.randn(6, 3)
    g = Flux.gradient(lambda m: m(x).square().sum(), model)[0]
    # oracle: torch.autograd on the same tensors
    W, b = model[0].weight.clone().requires_grad_(), model[0].bias.clone().requires_grad_()
    out = lin(torch.tanh(x @ W.T + b)).square().sum()
    gW, gb, gw2, gb2 = torch.autograd.grad(out, [W, b, lin.weight, lin.bias])
    torch.testing.assert_close(g.layers[0].weight, gW)
    torch.testing.assert_close(g.layers[0].bias, gb)
    torch.testing.assert_close(g.layers[1]["weight"], gw2)
    torch.testing.assert_close(g.layers[1]["bias"], gb2)


@pytest.mark.skipif(not has_optimise, reason="flux_torch.optimise is not there yet")
def test_chain_holding_a_torch_module_setup_and_update():
    from flux_torch.optimise import Descent, setup, update_
    model, lin = _chain_with_module()
    x = torch.randn(6, 3)
    before = lin.weight.detach().clone()
    state = setup(Descent(0.1), model)
    g = Flux.gradient(lambda m: m(x).square().sum(), model)[0]
    update_(state, model, g)
    torch.testing.assert_close(lin.weight.detach(), before - 0.1 * g.layers[1]["weight"])


@needs_cuda
def test_chain_holding_a_torch_module_gpu():
    model, _ = _chain_with_module()
    m = Flux.gpu(model)
    assert m[1].weight.is_cuda and m[0].weight.is_cuda
    assert m(torch.randn(2, 3, device="cuda")).is_cuda


def test_view_of_a_mixed_chain_trains_with_torch_optim():
    model, lin = _chain_with_module()
    view = to_torch(model)
    assert len(list(view.parameters())) == 4
    opt = torch.optim.SGD(view.parameters(), lr=0.1)
    w0, l0 = model[0].weight.clone(), lin.weight.detach().clone()
    view(torch.randn(5, 3)).sum().backward()
    opt.step()
    assert not torch.equal(model[0].weight, w0) and not torch.equal(lin.weight.detach(), l0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        repr(view)
