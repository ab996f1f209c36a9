"""Generation speed: the compiled decoding loop against the NumPy reference decoders and a PyTorch eager loop.

The model is `gru_char_lm` as registered (an embedding of 32 into one GRU of
256 units, 64 tokens), untrained weights from a fixed seed, the head's bias
for EOS set to -1e9 so that every row writes exactly T tokens. Contenders,
side by side in one process, in alternating order each round:

- `compiled loop`: `seqzoo.inference.loop.sample` (temperature 0.8), the
  whole loop in one `tf.function` / `jax.jit` call;
- `reference`: `seqzoo.inference.decoding.sample`, the NumPy decoder over the
  compiled step (seqzoo's default before the compiled loop);
- `PyTorch eager`: the same shapes in `torch.nn` (`Embedding`, `GRUCell`,
  `Linear`) and `torch.multinomial` at temperature 0.8, under
  `torch.inference_mode`, on the same number of threads (2 here) and, since
  PyTorch's thread pool suffers most from a loaded machine, on 1 thread; the
  ratio is taken against the faster of the two.

Then beam search (width 4, length normalization 0.7): `seqzoo.inference.loop.beam_search`
against `seqzoo.inference.decoding.beam_search` (which it equals, checked here too), and
O(T): the compiled loop's time(2T) / time(T) (about 2).

Usage:

    KERAS_BACKEND=tensorflow python benchmarks/generation.py   # or KERAS_BACKEND=jax
    python benchmarks/generation.py --rounds 3 --length 300

It prints markdown tables (tokens per second: medians over the rounds, and
the load average); `GENERATION.md` keeps them. Benchmarks are never tests:
nothing here asserts a time.
"""

import argparse
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import torch  # noqa: E402

import seqzoo  # noqa: E402
from seqzoo.architectures import Stepper  # noqa: E402
from seqzoo.inference import decoding  # noqa: E402
from seqzoo.inference import loop  # noqa: E402
from seqzoo.tasks.vocabulary import BOS_ID  # noqa: E402
from seqzoo.tasks.vocabulary import EOS_ID  # noqa: E402
from seqzoo.tasks.vocabulary import PAD_ID  # noqa: E402

TEMPERATURE = 0.8


def build_model():
    keras.utils.set_random_seed(0)
    model = seqzoo.build("gru_char_lm")
    head = model.get_layer("head")
    kernel, bias = head.get_weights()
    bias[EOS_ID] = -1e9  # Never stop early: every sequence is exactly T tokens.
    head.set_weights([kernel, bias])
    return model


class TorchLoop:
    """The PyTorch eager baseline: embedding 32, GRUCell 256, Linear 64, multinomial."""

    def __init__(self, vocab=64, embedding=32, units=256, threads=None):
        torch.manual_seed(0)
        self.threads = threads or torch.get_num_threads()
        self.embedding = torch.nn.Embedding(vocab, embedding)
        self.cell = torch.nn.GRUCell(embedding, units)
        self.head = torch.nn.Linear(units, vocab)
        self.forbid = torch.zeros(vocab, dtype=torch.bool)
        self.forbid[[PAD_ID, BOS_ID, EOS_ID]] = True
        self.units = units

    def __call__(self, batch, length):
        threads = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            return self.loop(batch, length)
        finally:
            torch.set_num_threads(threads)

    @torch.inference_mode()
    def loop(self, batch, length):
        generator = torch.Generator().manual_seed(0)
        state = torch.zeros(batch, self.units)
        tokens = torch.full((batch,), BOS_ID, dtype=torch.long)
        out = []
        for _ in range(length):
            state = self.cell(self.embedding(tokens), state)
            logits = self.head(state).masked_fill(self.forbid, -float("inf")) / TEMPERATURE
            tokens = torch.multinomial(torch.softmax(logits, -1), 1, generator=generator)[:, 0]
            out.append(tokens)
        return torch.stack(out, 1)


def contenders(model):
    stepper = Stepper(model)

    def compiled(batch, length):
        return loop.sample(stepper, stepper.start(batch_size=batch), batch, length, TEMPERATURE, seed=0)

    def reference(batch, length):
        return decoding.sample(stepper, stepper.start(batch_size=batch), batch, length, TEMPERATURE, seed=0)

    return {
        "compiled loop": compiled,
        "reference": reference,
        "PyTorch eager": TorchLoop(),
        "PyTorch eager, 1 thread": TorchLoop(threads=1),
    }


def beams(model, width=4):
    stepper = Stepper(model)

    def compiled(batch, length):
        return loop.beam_search(stepper, stepper.start(batch_size=batch), batch, length, beam_width=width)

    def reference(batch, length):
        return decoding.beam_search(stepper, stepper.start(batch_size=batch), batch, length, beam_width=width)

    return {"compiled beam": compiled, "reference beam": reference}


def measure(runs, batch, length, rounds):
    """Median seconds per contender over `rounds`, in rotating order; the load averages seen."""
    times = {name: [] for name in runs}
    outputs, loads = {}, []
    for run in runs.values():
        run(batch, length)  # Trace and warm up.
    names = list(runs)
    for index in range(rounds):
        for name in names[index % len(names) :] + names[: index % len(names)]:
            start = time.perf_counter()
            outputs[name] = runs[name](batch, length)
            times[name].append(time.perf_counter() - start)
        loads.append(os.getloadavg()[0])
    return ({name: statistics.median(values) for name, values in times.items()}, outputs, loads)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--length", type=int, default=300)
    parser.add_argument("--beam-length", type=int, default=100)
    args = parser.parse_args(argv)
    model = build_model()
    backend = keras.backend.backend()
    print(
        f"backend {backend}; Keras {keras.__version__}; torch {torch.__version__} ({torch.get_num_threads()} threads);"
    )
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores\n")
    print(
        "| backend | batch | compiled loop tok/s | reference tok/s | PyTorch tok/s (2 threads / 1) "
        "| compiled / PyTorch (faster) | compiled / reference | load avg |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    runs = contenders(model)
    for batch in (1, 32):
        seconds, _, loads = measure(runs, batch, args.length, args.rounds)
        rate = {name: batch * args.length / value for name, value in seconds.items()}
        torch_rate = max(rate["PyTorch eager"], rate["PyTorch eager, 1 thread"])
        print(
            f"| {backend} | {batch} | {rate['compiled loop']:,.0f} | {rate['reference']:,.0f} | "
            f"{rate['PyTorch eager']:,.0f} / {rate['PyTorch eager, 1 thread']:,.0f} | "
            f"{rate['compiled loop'] / torch_rate:.2f}x | "
            f"{rate['compiled loop'] / rate['reference']:.1f}x | {min(loads):.1f}-{max(loads):.1f} |"
        )
    print("\n| backend | batch | beam 4, T | compiled tok/s | reference tok/s | speedup | same hypotheses | load avg |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    runs = beams(model)
    for batch in (1, 32):
        seconds, outputs, loads = measure(runs, batch, args.beam_length, max(1, args.rounds // 2))
        rate = {name: batch * args.beam_length / value for name, value in seconds.items()}
        same = "yes" if outputs["compiled beam"] == outputs["reference beam"] else "NO"
        print(
            f"| {backend} | {batch} | {args.beam_length} | {rate['compiled beam']:,.0f} | "
            f"{rate['reference beam']:,.0f} | "
            f"{rate['compiled beam'] / rate['reference beam']:.1f}x | {same} | {min(loads):.1f}-{max(loads):.1f} |"
        )
    runs = {"compiled loop": contenders(model)["compiled loop"]}
    single, _, _ = measure(runs, 1, args.length, args.rounds)
    double, _, loads = measure(runs, 1, 2 * args.length, args.rounds)
    ratio = double["compiled loop"] / single["compiled loop"]
    print(
        f"\nO(T): compiled loop, batch 1, time({2 * args.length}) / time({args.length}) = {ratio:.2f} "
        f"(load {max(loads):.1f})"
    )


if __name__ == "__main__":
    main()
