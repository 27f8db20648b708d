"""The parts of a checkpoint file behind :func:`flux_torch.save` and :func:`flux_torch.load`
(``flux_torch/io.py``): ``files`` (atomic writes, opening only regular files),
``framing`` (the safetensors layout, sizes checked), ``bounded_json`` (JSON whose depth
is checked before it is parsed), ``values`` (plain values as JSON), ``encode`` (a
model's snapshot), ``decode`` (the state back) and ``leaf_state`` (optimiser states
checked against their rules)."""
