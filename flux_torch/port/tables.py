"""What Julia packages' names become in Python.

``PACKAGES[pkg][name]`` is the Python code for ``pkg.name`` (and for ``name`` after
``using pkg``); ``None`` marks a name known to have no counterpart, with the
package's reason in ``NO_COUNTERPART``. Packages that are parts of Flux's API
(NNlib, MLUtils, Zygote, ...) resolve in the Flux namespace, checked at translation
time against what flux_torch exports.

>>> PACKAGES["Random"]["seed!"]
'jl.seed_'
>>> FLUX_PACKAGES["Zygote"]
'Zygote'
"""
from __future__ import annotations

__all__ = ["PACKAGES", "FLUX_PACKAGES", "ZYGOTE_EXTRAS", "NO_COUNTERPART", "FLUX_VERSIONS", "V014_IDIOMS",
           "LAYOUT_FIELDS", "IGNORED_PACKAGES"]

# Zygote names that are not differentiation API in flux_torch but have a plain meaning
ZYGOTE_EXTRAS = {"forwarddiff": "jl.forwarddiff"}

# Julia package -> attribute path under `Flux` where its names live in flux_torch
FLUX_PACKAGES = {
    "Flux": "", "NNlib": "", "MLUtils": "", "OneHotArrays": "", "Zygote": "Zygote",
    "Optimisers": "Optimisers", "Functors": "Functors", "ChainRulesCore": "",
}

_STATS = {n: f"jl.{n}" for n in ("mean", "std", "var", "median", "cor", "cov", "quantile")}
_LINALG = {n: f"jl.{n}" for n in ("norm", "dot", "diag", "diagm", "det", "inv", "tr", "I",
                                   "normalize", "cross", "kron", "mul_", "transpose",
                                   "Diagonal", "svd", "qr", "triu", "tril")}

_IMAGES = {"Gray": "jl.Gray", "save": "jl.save_image", "load": "jl.load_image",
           "colorview": "jl.colorview", "channelview": "jl.channelview", "RGB": None,
           "imresize": None, "mosaicview": None, "N0f8": None}

PACKAGES = {
    "Base": {},                                   # Base.x resolves like a bare x
    "Core": {},
    "Statistics": _STATS,
    "StatsBase": dict(_STATS, wsample="jl.wsample", sample="jl.sample", countmap="jl.countmap",
                      mode="jl.statmode", zscore="jl.zscore", Weights="jl.Weights"),
    "LinearAlgebra": _LINALG,
    "Random": {"seed!": "jl.seed_", "shuffle": "jl.shuffle", "shuffle!": "jl.shuffle_",
               "randperm": "jl.randperm", "rand": "jl.rand", "randn": "jl.randn",
               "MersenneTwister": "jl.MersenneTwister", "Xoshiro": "jl.MersenneTwister",
               "default_rng": "jl.default_rng", "GLOBAL_RNG": "jl.default_rng()",
               "AbstractRNG": "jl.AbstractRNG", "randsubseq": "jl.randsubseq", "bitrand": "jl.bitrand"},
    "Printf": {"@printf": "jl.printf", "@sprintf": "jl.sprintf"},
    "Iterators": {"partition": "jl.partition", "repeated": "jl.repeated", "take": "jl.take",
                  "drop": "jl.drop", "cycle": "jl.cycle", "flatten": "jl.iflatten",
                  "product": "jl.iproduct", "countfrom": "jl.countfrom", "zip": "zip",
                  "enumerate": "jl.enumerate", "reverse": "jl.reverse", "peel": "jl.peel"},
    "CUDA": {"functional": "torch.cuda.is_available", "has_cuda": "torch.cuda.is_available",
             "has_cuda_gpu": "torch.cuda.is_available", "cu": "Flux.gpu",
             "allowscalar": "jl.noop", "@allowscalar": "", "device!": "jl.noop",
             "CuArray": "Flux.gpu", "reclaim": "torch.cuda.empty_cache", "@sync": ""},
    "cuDNN": {},
    "JLD2": {"jldsave": "jl.jldsave", "load": "jl.jld2_load", "save": "jl.jld2_save",
             "@save": None, "@load": None, "jldopen": None},
    "FileIO": {"load": "jl.jld2_load", "save": "jl.jldsave"},
    "DelimitedFiles": {"readdlm": "jl.readdlm", "writedlm": "jl.writedlm"},
    "MLDatasets": {n: f"jl.MLDatasets.{n}" for n in (
        "MNIST", "FashionMNIST", "CIFAR10", "CIFAR100", "Iris", "BostonHousing", "SVHN2",
        "EMNIST", "KMNIST", "convert2image", "Mutagenesis")},
    "ProgressMeter": {"@showprogress": "", "@progress": "", "Progress": "jl.Progress",
                      "next!": "jl.noop", "update!": "jl.noop", "finish!": "jl.noop"},
    "ProgressLogging": {"@progress": "", "@withprogress": "", "@logprogress": ""},
    "Parameters": {"@with_kw": "", "@unpack": ""},
    "Logging": {"@info": "", "@warn": "", "@error": "", "@debug": "",
                "with_logger": "jl.with_logger", "ConsoleLogger": None, "global_logger": None},
    "Dates": {"now": "jl.now", "format": None},
    "BenchmarkTools": {"@btime": "", "@benchmark": ""},
    "Test": {"@test": "", "@testset": ""},
    "DataFrames": {}, "CSV": {}, "Plots": {}, "Images": _IMAGES, "ImageCore": _IMAGES,
    "ImageInTerminal": {}, "ImageShow": {}, "ImageMagick": {}, "BSON": {"@save": None, "@load": None},
    "TensorBoardLogger": {}, "Metalhead": {}, "Distributions": {"Uniform": "jl.Uniform", "Normal": "jl.Normal"},
    "Colors": {},
    "PyPlot": {}, "Makie": {}, "CairoMakie": {}, "GLMakie": {},
    "Interact": {}, "ReinforcementLearning": {}, "OpenAIGym": {}, "Gym": {}, "CSVFiles": {},
    "HTTP": {}, "Downloads": {"download": "jl.download"}, "ZipFile": {}, "WAV": {},
    "Juno": {"@progress": ""}, "TimerOutputs": {"@timeit": ""}, "Distances": {},
    "Lathe": {}, "Pkg": {"activate": "jl.noop", "instantiate": "jl.noop", "add": "jl.noop"},
    "Distributed": {}, "Unicode": {"normalize": "jl.unicode_normalize"},
    "DrWatson": {"struct2dict": "jl.struct2dict", "@dict": None, "savename": None,
                 "datadir": None, "projectdir": None, "@quickactivate": None},
    "DataStructures": {"CircularBuffer": "jl.CircularBuffer"},
    "TOML": {"parsefile": "jl.toml_parsefile", "parse": "jl.toml_parse"}, "DiffEqFlux": {}, "DifferentialEquations": {},
    "Optim": {},
    "ParameterSchedulers": {}, "Serialization": {}, "Markdown": {}, "InteractiveUtils": {},
    "Transformers": {}, "MLJ": {}, "Tracker": {}, "ForwardDiff": {}, "Reexport": {},
}

NO_COUNTERPART = {
    "Plots": "plotting is left to a person (matplotlib is the usual choice)",
    "Images": "only Gray images map (save/load need Pillow); colour types are left to a person",
    "ImageCore": "only Gray images map; colour types are left to a person",
    "ImageInTerminal": "showing images in a terminal has no counterpart",
    "ImageShow": "showing images has no counterpart",
    "BSON": "BSON stores Julia objects; save Flux.state(model) with Flux.save instead",
    "JLD2": "JLD2's macros store Julia objects; use Flux.save / Flux.load of Flux.state",
    "DataFrames": "DataFrames maps to pandas, which is not a dependency",
    "CSV": "CSV files map to numpy.loadtxt or pandas, chosen by a person",
    "Metalhead": "pretrained Metalhead models map to torchvision.models, chosen by a person",
    "Distributions": "Distributions maps to torch.distributions, chosen by a person",
    "TensorBoardLogger": "logging maps to torch.utils.tensorboard, chosen by a person",
    "Zygote": "custom adjoints map to torch.autograd.Function",
}

# Flux names that changed across versions: name -> the Flux versions that had it
FLUX_VERSIONS = {
    "Recur": "Flux ≤ v0.14", "reset!": "Flux ≤ v0.14", "ADAM": "Flux ≤ v0.13",
    "Params": "Flux ≤ v0.14", "@epochs": "Flux ≤ v0.12", "Optimise": "Flux ≤ v0.14",
    "Data": "Flux ≤ v0.13", "throttle": "Flux ≤ v0.14", "@treelike": "Flux ≤ v0.9",
    "param": "Flux ≤ v0.9 (Tracker)", "Tracker": "Flux ≤ v0.9 (Tracker)",
    "data": "Flux ≤ v0.9 (Tracker)", "back!": "Flux ≤ v0.9 (Tracker)",
    "@functor": "Flux v0.10 – v0.15", "ADAMW": "Flux ≤ v0.13", "Recurrence": "Flux ≥ v0.16",
    "initialstates": "Flux ≥ v0.16", "@layer": "Flux ≥ v0.14", "state": "Flux ≥ v0.14",
    "trainables": "Flux ≥ v0.15", "@autosize": "Flux ≥ v0.13.4", "normalise": "Flux ≤ v0.14",
    "onehot": "Flux v0.10 – now (OneHotArrays)", "Nesterov": "Flux v0.10 – now",
    "Momentum": "Flux v0.10 – now", "cpu": "Flux v0.10 – now", "train!": "Flux v0.10 – now",
}

# idioms of Flux ≤ v0.14 that choose the flux_torch.v014 namespace
V014_IDIOMS = ("Flux.reset!", "reset!(", "Flux.params", "params(", "Flux.Optimise", "Recur(",
               "@epochs", "Flux.Data.", "throttle(", "ADAM(", "Tracker")

# fields flux_torch stores in Julia's (out, in) layout while data is reversed
LAYOUT_FIELDS = {"weight": ("Dense", "Bilinear"),
                 "Wi": ("RNNCell", "LSTMCell", "GRUCell", "GRUv3Cell"),
                 "Wh": ("RNNCell", "LSTMCell", "GRUCell", "GRUv3Cell")}

# packages whose `using` brings nothing a translation needs
IGNORED_PACKAGES = {"ImageInTerminal", "ImageShow", "ImageMagick", "Images", "ImageCore", "Base", "Core", "Main", "Pkg",
                    "Reexport", "InteractiveUtils",
                    "Markdown", "Logging", "Printf", "Test", "Dates", "Parameters",
                    "ProgressMeter", "ProgressLogging", "Juno", "BenchmarkTools", "cuDNN",
                    "TimerOutputs", "Random", "Statistics", "LinearAlgebra", "StatsBase",
                    "CUDA", "MLDatasets", "JLD2", "DelimitedFiles", "FileIO", "Downloads",
                    "Serialization"}
