"""compile_step reports through the "flux_torch" logger (Python's logging), never print."""
import logging

import torch

import flux_torch as Flux
from flux_torch import Chain, Dense, relu


def _run(verbose):
    torch.manual_seed(0)
    model = Chain(Dense(3, 4, relu), Dense(4, 1))
    step = Flux.compile_step(lambda m, x, y: ((m(x) - y) ** 2).mean(), model,
                             Flux.setup(Flux.Descent(0.1), model), verbose=verbose)
    x, y = torch.rand(8, 3), torch.rand(8, 1)
    while step.choice is None:         # the first steps time compiled against eager, then choose
        step(x, y)
    return step


def test_compile_time_and_choice_are_logged_at_info(caplog, capsys):
    with caplog.at_level(logging.INFO, logger="flux_torch"):
        step = _run(verbose=False)
    records = [r for r in caplog.records if r.name == "flux_torch"]
    assert [r.levelno for r in records] == [logging.INFO, logging.INFO]
    assert records[0].getMessage() == f"compile_step: compiled in {step.compile_time:.1f} s"
    assert records[1].getMessage() == f"compile_step: {step.report()}"
    assert f"using the {step.choice} step" in records[1].getMessage()
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_verbose_logs_at_warning_so_it_shows_without_logging_set_up(caplog):
    with caplog.at_level(logging.WARNING, logger="flux_torch"):
        _run(verbose=True)
    messages = [r.getMessage() for r in caplog.records if r.name == "flux_torch"]
    assert len(messages) == 2 and messages[0].startswith("compile_step: compiled in ")
