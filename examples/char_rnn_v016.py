"""The model zoo's character-level LSTM (char-rnn) in Flux v0.16's terms.

`char_rnn.py` ports the model zoo's script as written for Flux v0.14 (stateful `Recur`
layers, `reset!` in every loss). Since Flux v0.15 the recurrent layers keep no state:
`LSTM(N => 128)` takes a whole sequence and an explicit initial state (zeros when none is
given) and returns every step's output. So the same model, `Chain(LSTM(N => 128),
LSTM(128 => 128), Dense(128 => N))`, needs no `reset!`, and sampling one character at a
time carries each layer's state by hand, with the layers' cells: `y, state = cell(x, state)`.

Sequences are batch first, `(N, T, F)`: Flux v0.16's `F x T x N` reversed, which is
`torch.nn.LSTM(batch_first=True)`'s layout.

Run:  python examples/char_rnn_v016.py [--steps N]     (about 10 s on a 2-core CPU)
A progress bar counts the steps; the loss is printed as it goes down, then text
sampled from the model.
"""
import argparse

import torch

import flux_torch as Flux
from flux_torch import LSTM, Chain, Dense, initialstates, onehotbatch, softmax
from flux_torch.losses import logitcrossentropy

TEXT = """\
the cat sat on the mat and the dog sat on the log.
the cat saw the dog and the dog saw the cat.
a small cat and a big dog sat in the sun on the mat by the log.
the dog ran to the cat and the cat ran up the tree.
then the sun went down and the cat and the dog sat on the mat again.
"""


def getdata(text=TEXT):
    """The alphabet and the text as one-hot rows, (len(text), len(alphabet))."""
    alphabet = sorted(set(text))
    return alphabet, onehotbatch(text, alphabet)


def batch(onehot, seqlen, batchsize, gen):
    """Random windows of the text: inputs and next characters, each (N, T, V), batch first."""
    starts = torch.randint(0, onehot.shape[0] - seqlen - 1, (batchsize,), generator=gen)
    idx = starts[:, None] + torch.arange(seqlen)[None, :]        # (N, T)
    return onehot[idx], onehot[idx + 1]


def build_model(nchars, hidden=64):
    return Chain(LSTM(nchars, hidden), LSTM(hidden, hidden), Dense(hidden, nchars))


def loss(m, xs, ys):
    return logitcrossentropy(m(xs), ys)    # each LSTM starts from zeros: nothing to reset


def step(m, x, states):
    """One character through the model: each LSTM's cell advances its own state."""
    *lstms, dense = m.layers
    new = []
    for lstm, state in zip(lstms, states):
        x, state = lstm.cell(x, state)
        new.append(state)
    return dense(x), new


def sample(m, alphabet, length, gen, start="t"):
    """Feed the model its own output one character at a time (one step = a vector of features)."""
    states = [initialstates(layer) for layer in m.layers[:-1]]
    out = [start]
    x = onehotbatch(start, alphabet)[0]
    for _ in range(length):
        logits, states = step(m, x, states)
        i = int(torch.multinomial(softmax(logits), 1, generator=gen))
        out.append(alphabet[i])
        x = torch.zeros(len(alphabet))
        x[i] = 1
    return "".join(out)


def train(steps=200, seqlen=32, batchsize=16, eta=1e-2, seed=0):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    alphabet, onehot = getdata()
    model = build_model(len(alphabet))
    opt_state = Flux.setup(Flux.Adam(eta), model)
    xs, ys = batch(onehot, seqlen, batchsize, gen)
    print(f"alphabet of {len(alphabet)} characters, text of {onehot.shape[0]}")
    print(f"loss before: {float(loss(model, xs, ys)):.4f}")
    every = max(1, steps // 10)
    bar = Flux.progress(range(1, steps + 1), "steps")
    for i in bar:
        xs, ys = batch(onehot, seqlen, batchsize, gen)
        val, grads = Flux.withgradient(loss, model, xs, ys)
        Flux.update_(opt_state, model, grads[0])
        if i % every == 0 or i == steps:
            bar.write(f"step {i:4d}  loss {float(val):.4f}")
    xs, ys = batch(onehot, seqlen, 64, gen)
    print(f"loss after: {float(loss(model, xs, ys)):.4f}")
    return model, alphabet, gen


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)     # tensors this small run fastest on one thread
    model, alphabet, gen = train(steps=args.steps)
    print(model)
    print("sample:", repr(sample(model, alphabet, 120, gen)))


if __name__ == "__main__":
    main()
