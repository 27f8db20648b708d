"""gpu / cpu / f16 / f32 / f64 / bf16 and the float64-input rule (SPEC §2), against Flux's
test/utils.jl "Precision" and "zero bias" testsets. CUDA-only checks skip without CUDA."""
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import flux_torch
import flux_torch as Flux
from flux_torch import (Chain, DataLoader, Dense, Device, bf16, cpu, cpu_device, f16, f32, f64,
                        gpu, gradient, relu)
from flux_torch import devices as _device

HAS_ACCEL = torch.cuda.is_available() or (
    getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available())
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture
def fresh_flags(monkeypatch):
    """The once-per-process warnings are module globals: start each test from 'not yet warned'."""
    monkeypatch.setattr(_device, "_warned_no_gpu", False)
    monkeypatch.setattr(_device, "_warned_f64", False)


def model():
    return Chain(Dense(10, 5, relu, bias=False), Dense(5, 2))


def tied():
    W = torch.randn(3, 3)
    return Chain(Dense(W, False), Dense(W, True, torch.tanh))


# ------------------------------------------------------------------ gpu without an accelerator

@pytest.mark.skipif(HAS_ACCEL, reason="checks the CPU-only behaviour")
def test_gpu_without_accelerator_returns_unchanged_and_warns_once(fresh_flags):
    m = model()
    with pytest.warns(UserWarning, match="gpu"):
        out = gpu(m)
    assert out is m
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = torch.ones(2)
        assert gpu(x) is x
        d = {"a": np.zeros(2)}
        assert gpu(d) is d
        assert flux_torch.gpu_device() == cpu_device()


# ------------------------------------------------------------------ cpu / Device

def test_cpu_moves_containers_and_leaves_numpy():
    a = np.zeros(3)
    out = cpu({"w": torch.ones(2), "n": a, "s": "tag"})
    assert out["w"].device.type == "cpu" and out["n"] is a and out["s"] == "tag"
    m = model()
    assert cpu(m)[0].weight is m[0].weight           # already there: no copy
    assert cpu_device()(torch.ones(1)).device.type == "cpu"
    assert Device("cpu") == cpu_device()


# ------------------------------------------------------------------ precision (Flux "Precision")

def test_precision_of_models():
    m = model()
    x64, x32 = torch.rand(10, dtype=torch.float64), torch.rand(10)
    assert m[0].weight.dtype == torch.float32
    assert m(x32).dtype == torch.float32
    m64 = f64(m)
    assert m64[0].weight.dtype == torch.float64 and m64[1].bias.dtype == torch.float64
    assert m[0].weight.dtype == torch.float32                # original unchanged
    assert type(m64) is Chain and m64[0].σ is relu
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # float32 -> float64: silent
        assert m64(x32).dtype == torch.float64
    assert m64(x64).dtype == torch.float64
    assert f32(m64)[0].weight.dtype == torch.float32
    assert f16(m)[1].weight.dtype == torch.float16
    assert bf16(m)[1].weight.dtype == torch.bfloat16
    torch.testing.assert_close(m64(x64), torch.relu(x64 @ m64[0].weight.T) @ m64[1].weight.T
                               + m64[1].bias)


def test_precision_of_arrays():
    x64, x32 = torch.rand(10, dtype=torch.float64), torch.rand(10)
    i64, i32 = torch.randint(0, 9, (10,)), torch.randint(0, 9, (10,), dtype=torch.int32)
    assert f32(x64).dtype == torch.float32
    assert f32(x32) is x32                                   # no copy when the dtype is right
    assert f32(i64) is i64 and f32(i32) is i32               # integers untouched
    assert f16(x64).dtype == torch.float16
    n = f32(np.ones(3))
    assert isinstance(n, np.ndarray) and n.dtype == np.float32
    ni = np.arange(3)
    assert f32(ni).dtype == ni.dtype
    assert f64(np.ones(3, dtype=np.float32)).dtype == np.float64
    (g,) = gradient(lambda x: f16(x).sum(), x32)             # gradient keeps the input dtype
    assert g.dtype == torch.float32
    (g,) = gradient(lambda x: f64(x).sum(), x32)
    assert g.dtype == torch.float32


def test_precision_of_complex_numbers():
    # Flux test/utils.jl "complex numbers": f32 turns ComplexF64 into ComplexF32, f64 the reverse
    c32, c64 = torch.rand(2, 2, dtype=torch.complex64), torch.rand(2, 2, dtype=torch.complex128)
    assert f32(c32) is c32
    assert f32(c64).dtype == torch.complex64
    nt = {"a": c64, "b": c32}
    assert all(v.dtype == torch.complex128 for v in f64(nt).values())


def test_zero_bias_stays_none():
    m = Dense(3, 2, bias=False)
    assert f64(m).bias is None and f32(m).bias is None and f16(m).bias is None


def test_ties_kept():
    m = tied()
    for conv in (f16, f32, f64, bf16, cpu):
        out = conv(m)
        assert out[0].weight is out[1].weight, conv.__name__
    d = {"a": torch.ones(2, dtype=torch.float64)}
    d["b"] = d["a"]
    out = f32(d)
    assert out["a"] is out["b"] and out["a"].dtype == torch.float32


def test_nn_module_converted():
    lin = nn.Linear(3, 2)
    lin64 = f64(lin)
    assert isinstance(lin64, nn.Linear) and lin64.weight.dtype == torch.float64
    assert isinstance(lin64.weight, nn.Parameter)
    m = f64(Chain(Dense(2, 3), nn.Linear(3, 1)))
    assert m[1].weight.dtype == torch.float64
    x = torch.rand(4, 2, dtype=torch.float64)
    assert m(x).dtype == torch.float64


def test_dataloader_converted_per_batch():
    loader = f32(DataLoader(torch.ones(6, 2, dtype=torch.float64), batchsize=3))
    batches = list(loader)
    assert len(batches) == 2 and all(b.dtype == torch.float32 and b.shape == (3, 2)
                                     for b in batches)


# ------------------------------------------------------------------ input conversion in layers

def test_float64_input_to_float32_dense_warns_once_and_converts(fresh_flags):
    d1 = Dense(2, 3)
    d2 = Dense(d1.weight, False)
    x1 = torch.randn(4, 2)
    x2 = x1.double()
    with pytest.warns(UserWarning, match="float64"):
        y = d1(x2)
    assert y.dtype == torch.float32
    torch.testing.assert_close(y, x1 @ d1.weight.T + d1.bias)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # only once per process
        assert d2(x2).dtype == torch.float32
        torch.testing.assert_close(d2(x2), x1 @ d1.weight.T)


def test_integer_and_bool_input_converted_silently(fresh_flags):
    d = Dense(2, 3)
    x3 = torch.randint(-5, 6, (4, 2))
    x4 = torch.rand(4, 2) > 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x in (x3, x4, x3.tolist(), x3.numpy()):
            y = d(x)
            assert y.dtype == torch.float32
            torch.testing.assert_close(y, torch.as_tensor(x).float() @ d.weight.T + d.bias)


# ------------------------------------------------------------------ with CUDA

@needs_cuda
def test_gpu_moves_and_converts_float64():
    m = tied()
    g = gpu(m)
    assert g[0].weight.device.type == "cuda" and g[0].weight is g[1].weight
    x = gpu(np.ones((4, 3)))
    assert isinstance(x, torch.Tensor) and x.device.type == "cuda" and x.dtype == torch.float32
    assert gpu(torch.ones(2, dtype=torch.float64)).dtype == torch.float32
    assert gpu(torch.arange(3)).dtype == torch.int64
    torch.testing.assert_close(cpu(g(x)), m(torch.ones(4, 3)))
    back = cpu(g)
    assert back[0].weight.device.type == "cpu" and back[0].weight is back[1].weight
    lin = gpu(nn.Linear(3, 2))
    assert lin.weight.device.type == "cuda" and isinstance(lin.weight, nn.Parameter)


@needs_cuda
def test_wrong_device_error_names_layer_and_devices():
    d = gpu(Dense(3, 2))
    with pytest.raises(RuntimeError) as err:
        d(torch.ones(4, 3))
    msg = str(err.value)
    assert "Dense(3, 2)" in msg and "cuda" in msg and "cpu" in msg
    c = Dense(3, 2)
    with pytest.raises(RuntimeError) as err:
        c(torch.ones(4, 3, device="cuda"))
    assert "Dense(3, 2)" in str(err.value) and "cuda" in str(err.value)


# ------------------------------------------------------------------ MLDataDevices (Flux v0.16)

def test_device_objects_of_each_kind():
    assert Flux.Device("cpu") == Flux.cpu_device() == Flux.CPUDevice()
    assert type(Flux.Device("cuda:1")) is Flux.CUDADevice and Flux.Device("cuda:1").device == torch.device("cuda:1")
    assert repr(Flux.Device("cuda:1")) == "CUDADevice(1)" and repr(Flux.Device("mps")) == "MetalDevice()"
    with pytest.raises(ValueError, match="no device object for torch device type 'meta'"):
        Flux.Device("meta")


def test_gpu_device_without_an_accelerator(monkeypatch):
    monkeypatch.setattr(_device, "_ACCEL", [None])
    monkeypatch.setattr(_device, "_warned_no_gpu", False)
    with pytest.warns(UserWarning, match="no CUDA or MPS device"):
        assert Flux.gpu_device() == Flux.cpu_device()
    with pytest.raises(RuntimeError, match="force=True"):
        Flux.gpu_device(force=True)


def test_gpu_device_counts_from_zero(monkeypatch):
    """SPEC §1: Julia's 1-based numbers are 0-based here; MLDataDevices' gpu_device(2) is cuda:1."""
    monkeypatch.setattr(_device, "_ACCEL", [torch.device("cuda")])
    assert Flux.gpu_device(1).device == torch.device("cuda:1")
    assert Flux.gpu_device(0).device == torch.device("cuda:0")
    with pytest.raises(ValueError, match="counting from 0"):
        Flux.gpu_device(-1)


def test_get_device_type_of_models_and_data():
    m = Chain(Dense(2, 3), Dense(3, 1))
    assert Flux.get_device_type(m) is Flux.CPUDevice
    assert Flux.get_device_type(np.ones(2)) is Flux.CPUDevice
    assert Flux.get_device_type("no arrays") is None
    with pytest.raises(ValueError, match="no device object for torch device type 'meta'"):
        Flux.get_device_type({"a": torch.ones(1), "b": torch.ones(1, device="meta")})


def test_device_objects_move_data_loaders():
    loader = DataLoader((torch.arange(6.0).reshape(6, 1), torch.arange(6)), batchsize=2)
    moved = Flux.cpu_device()(loader)
    batches = list(moved)
    assert len(batches) == 3 and all(b[0].device.type == "cpu" for b in batches)
    assert torch.equal(batches[1][0], torch.tensor([[2.0], [3.0]]))


def test_deprecated_device_functions_warn_as_flux_does():
    with pytest.warns(DeprecationWarning, match=r"get_device\(\) is deprecated. Use `gpu_device\(\)`"):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning)
            Flux.get_device()
    with pytest.warns(DeprecationWarning, match="supported_devices"):
        assert "CUDA" in Flux.supported_devices()
    import flux_torch.v014 as F14
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert F14.get_device("CPU") == Flux.cpu_device()      # v0.14: not deprecated
    with pytest.raises(ValueError, match="unknown backend 'TPU'"):
        F14.get_device("TPU")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_device_moves_to_cuda():
    dev = Flux.gpu_device()
    assert type(dev) is Flux.CUDADevice
    assert Flux.get_device_type(dev(Dense(2, 3))) is Flux.CUDADevice
