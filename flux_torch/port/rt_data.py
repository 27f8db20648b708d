"""Runtime: data sets and files (MLDatasets, JLD2 checkpoints, DelimitedFiles).

MLDatasets' data sets load through torchvision or scikit-learn when installed, in
MLDatasets' layout reversed (MNIST features ``28×28×N`` are ``(N, 28, 28)``). With
``FLUX_TORCH_PORT_STANDIN=1`` in the environment they are small deterministic
stand-ins of the same layout whose classes can be learned (for trial runs and tests):
512 training and 64 test observations, or ``FLUX_TORCH_PORT_STANDIN_N`` training ones.

>>> import os; os.environ["FLUX_TORCH_PORT_STANDIN"] = "1"
>>> d = MLDatasets.MNIST(split="test")
>>> tuple(d.features.shape), d.targets[:5].tolist(), len(d)
((64, 28, 28), [0, 1, 2, 3, 4], 64)
"""
from __future__ import annotations

import os

import torch

__all__ = ["Gray", "save_image", "load_image", "colorview", "channelview", "MLDatasets", "jldsave",
           "jld2_save", "jld2_load", "readdlm", "writedlm"]

_SIZES = {"train": 512, "test": 64}


def _standin():
    return os.environ.get("FLUX_TORCH_PORT_STANDIN", "") not in ("", "0")


def _images(n, shape, classes, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % classes
    x = torch.rand((n,) + shape, generator=g) * 0.3
    h = shape[-2]
    band = max(h // classes, 1)
    for c in range(classes):                 # each class lights its own band of rows
        rows = slice((c * band) % h, (c * band) % h + band)
        x[y == c, ..., rows, :] += 0.7
    return x.clamp(0, 1), y


class _Dataset:
    def __init__(self, features, targets, name, split):
        self.features, self.targets, self.name, self.split = features, targets, name, split

    def __len__(self):
        return self.features.shape[0]

    def __getitem__(self, i):
        return (self.features, self.targets) if i == slice(None) else (self.features[i], self.targets[i])

    def getindex(self, *idx):                # Julia's dataset[:] and dataset[i]
        from .rt_index import ix
        from .rt_types import Colon
        if idx[0] is Colon:
            from .rt_types import NamedTuple
            return NamedTuple(features=self.features, targets=self.targets)
        k = ix(idx[0])
        return self.features[k], self.targets[k]

    def __repr__(self):
        return f"{self.name}(split={self.split!r}, {len(self)} observations)"


def _split(args, kw):
    split = kw.get("split", "train")
    for a in args:
        if isinstance(a, str):
            split = a
    return split


def _vision(name, shape, classes):
    def load(*args, **kw):
        split = _split(args, kw)
        if _standin():
            n = int(os.environ.get("FLUX_TORCH_PORT_STANDIN_N") or 0) or _SIZES.get(split, 64)
            n = n if split == "train" else min(n, _SIZES["test"])
            x, y = _images(n, shape, classes, seed=0 if split == "train" else 1)
            return _Dataset(x, y, name, split)
        return _torchvision(name, split)
    load.__name__ = name

    def traindata(*args, **kw):
        d = load(split="train")
        return d.features, d.targets

    def testdata(*args, **kw):
        d = load(split="test")
        return d.features, d.targets
    load.traindata, load.testdata = traindata, testdata
    return load


def _torchvision(name, split):
    try:
        import torchvision.datasets as tvd
    except ImportError:
        raise RuntimeError(
            f"MLDatasets.{name}: install torchvision to load the real data, or set "
            "FLUX_TORCH_PORT_STANDIN=1 for a small stand-in of the same layout") from None
    root = os.environ.get("FLUX_TORCH_PORT_DATA", os.path.expanduser("~/.cache/flux_torch_port"))
    ds = getattr(tvd, name)(root, train=(split == "train"), download=True)
    x = torch.as_tensor(ds.data)
    x = x.float() / 255
    if x.ndim == 4:                                   # CIFAR: (N, H, W, C) -> Julia's W×H×C×N reversed
        x = x.permute(0, 3, 1, 2)
    return _Dataset(x, torch.as_tensor(ds.targets), name, split)


def _tabular(name, n_features, kind):
    def load(*args, **kw):
        if _standin():
            g = torch.Generator().manual_seed(2)
            n = 150
            x = torch.randn(n, n_features, generator=g, dtype=torch.float64)
            if kind == "classes":
                y = torch.arange(n) // 50             # sorted by class, as the real data
                x[:, 0] += y.double() * 2
                targets = [["Iris-setosa", "Iris-versicolor", "Iris-virginica"][i] for i in y.tolist()]
            else:
                w = torch.linspace(-1, 1, n_features, dtype=torch.float64)
                targets = (x @ w + 0.1 * torch.randn(n, generator=g, dtype=torch.float64)).reshape(n, 1)
            return _Dataset(x, targets, name, "all")
        return _sklearn(name)
    load.__name__ = name
    load.features = lambda: load().features.T
    load.labels = lambda: load().targets
    return load


def _sklearn(name):
    try:
        from sklearn import datasets
    except ImportError:
        raise RuntimeError(f"MLDatasets.{name}: install scikit-learn, or set FLUX_TORCH_PORT_STANDIN=1") from None
    if name == "Iris":
        d = datasets.load_iris()
        names = ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
        return _Dataset(torch.as_tensor(d.data), [names[i] for i in d.target], name, "all")
    raise RuntimeError(f"MLDatasets.{name}: no loader here; scikit-learn no longer ships it")


class MLDatasets:
    """MLDatasets' data sets with the same layout, reversed (batch first)."""
    MNIST = staticmethod(_vision("MNIST", (28, 28), 10))
    FashionMNIST = staticmethod(_vision("FashionMNIST", (28, 28), 10))
    KMNIST = staticmethod(_vision("KMNIST", (28, 28), 10))
    EMNIST = staticmethod(_vision("EMNIST", (28, 28), 10))
    CIFAR10 = staticmethod(_vision("CIFAR10", (3, 32, 32), 10))
    CIFAR100 = staticmethod(_vision("CIFAR100", (3, 32, 32), 100))
    SVHN2 = staticmethod(_vision("SVHN", (3, 32, 32), 10))
    Iris = staticmethod(_tabular("Iris", 4, "classes"))
    BostonHousing = staticmethod(_tabular("BostonHousing", 13, "regression"))

    @staticmethod
    def convert2image(d, x):
        return x

    @staticmethod
    def Mutagenesis(*a, **k):
        raise RuntimeError("MLDatasets.Mutagenesis has no counterpart here")


def jldsave(path, *unnamed, **values):
    """JLD2's ``jldsave(path; model_state=Flux.state(model))`` as ``Flux.save``."""
    import flux_torch
    if unnamed:                      # FileIO's save(path, image): an image file
        raise RuntimeError(f"save({path!r}, ...): writing images is left to a person (PIL or torchvision)")
    flux_torch.save(os.path.splitext(path)[0] + ".safetensors" if path.endswith(".jld2") else path,
                    values)


def jld2_save(path, *keys_and_values):
    """JLD2.save(path, "key", value, ...)."""
    it = iter(keys_and_values)
    jldsave(path, **{k: v for k, v in zip(it, it)})


def jld2_load(path, key=None):
    import flux_torch
    p = os.path.splitext(path)[0] + ".safetensors" if path.endswith(".jld2") else path
    data = flux_torch.load(p)
    return data if key is None else data[key]


def readdlm(path, delim=None, t=None, *args, header=False, **kw):
    import numpy as np
    data = np.loadtxt(path, delimiter=None if delim is None or delim == " " else delim,
                      skiprows=1 if header else 0)
    return torch.as_tensor(data).T


def writedlm(path, x, delim="\t"):
    import numpy as np
    np.savetxt(path, torch.as_tensor(x).T.numpy(), delimiter=delim)


def Gray(x):
    """ImageCore's Gray: a grey level keeps its value (an image is its array here)."""
    return x


Gray.elementwise = True


def colorview(kind, x):
    return x


def channelview(x):
    return x


def save_image(path, img):
    """Images' save(path, img) for a grey image (Julia's H×W, reversed here); needs Pillow."""
    try:
        from PIL import Image
    except ImportError:
        raise RuntimeError(f"save({path!r}, image): install Pillow to write images") from None
    t = torch.as_tensor(img).detach().float().cpu()
    if t.ndim != 2:
        raise ValueError(f"save({path!r}, image): only grey images (a matrix) are written, got shape {tuple(t.shape)}")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    Image.fromarray((t.T.clamp(0, 1) * 255).round().to(torch.uint8).numpy()).save(path)


def load_image(path):
    try:
        from PIL import Image
    except ImportError:
        raise RuntimeError(f"load({path!r}): install Pillow to read images") from None
    import numpy as np
    with Image.open(path) as im:
        a = np.asarray(im.convert("L"), dtype=np.float32) / 255
    return torch.as_tensor(a).T.contiguous()
