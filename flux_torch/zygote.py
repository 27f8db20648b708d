"""``Flux.Zygote``: the names of Zygote that flux_torch has, for code that writes ``Flux.Zygote.gradient``.

>>> import flux_torch as Flux
>>> Flux.Zygote.gradient(lambda x: x ** 2, 3.0)
(6.0,)
"""
from .gradient import WithGradient, gradient, ignore_derivatives, pullback, withgradient
from .grads import Grads
from .jacobian import diaghessian, hessian, hessian_reverse, jacobian, withjacobian
from .params import Params

ignore = ignore_derivatives     # Zygote's older name

__all__ = ["gradient", "withgradient", "pullback", "jacobian", "withjacobian", "hessian",
           "hessian_reverse", "diaghessian", "ignore_derivatives", "ignore", "WithGradient", "Grads",
           "Params"]
