"""The Flux model zoo's character-level LSTM (char-rnn), written for Flux v0.14.

The model zoo's script (text/char-rnn, Flux 0.13-0.14) trains
`Chain(LSTM(N => 128), LSTM(128 => 128), Dense(128 => N))` to predict each next
character, calling `Flux.reset!(m)` at the start of every loss. Here the corpus is
a few lines kept in this file, so the example runs anywhere in seconds.

It imports `flux_torch.v014`, v0.14's stateful `Recur` layers: sequences are time
first, `(T, N, F)` (Flux v0.14's `F x N x T` reversed, `torch.nn.LSTM`'s
batch_first=False). One call `m(xs)` runs the whole sequence; `reset_(m)` puts
every LSTM back to its initial state. `char_rnn_v016.py` is the same model in
Flux v0.16's terms (batch first, explicit state, no reset).

Run:  python examples/char_rnn.py [--steps N]     (about 10 s on a 2-core CPU)
A progress bar counts the steps; the loss is printed as it goes down, then text
sampled from the model.
"""
import argparse

import torch

import flux_torch.v014 as Flux
from flux_torch.v014 import LSTM, Chain, Dense, onehotbatch, reset_, softmax
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
    """Random windows of the text: inputs and next characters, each (T, N, V), time first."""
    starts = torch.randint(0, onehot.shape[0] - seqlen - 1, (batchsize,), generator=gen)
    idx = starts[None, :] + torch.arange(seqlen)[:, None]        # (T, N)
    return onehot[idx], onehot[idx + 1]


def build_model(nchars, hidden=64):
    return Chain(LSTM(nchars, hidden), LSTM(hidden, hidden), Dense(hidden, nchars))


def loss(m, xs, ys):
    reset_(m)                              # as the model zoo's Flux.reset!(m)
    return logitcrossentropy(m(xs), ys)


def sample(m, alphabet, length, gen, start="t"):
    """Feed the model its own output one character at a time (one step = a vector of features)."""
    reset_(m)
    out = [start]
    x = onehotbatch(start, alphabet)[0]
    for _ in range(length):
        p = softmax(m(x))
        i = int(torch.multinomial(p, 1, generator=gen))
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
    for step in bar:
        xs, ys = batch(onehot, seqlen, batchsize, gen)
        val, grads = Flux.withgradient(loss, model, xs, ys)
        Flux.update_(opt_state, model, grads[0])
        if step % every == 0 or step == steps:
            bar.write(f"step {step:4d}  loss {float(val):.4f}")
    xs, ys = batch(onehot, seqlen, 64, gen)
    print(f"loss after: {float(loss(model, xs, ys)):.4f}")
    return model, alphabet, gen


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)     # tensors this small run fastest on one thread
    model, alphabet, gen = train(steps=args.steps)
    print(reset_(model))
    print("sample:", repr(sample(model, alphabet, 120, gen)))


if __name__ == "__main__":
    main()
