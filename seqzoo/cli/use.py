"""`seqzoo predict` and `seqzoo score`: a trained run asked about the user's own inputs, one line per answer.

Like `commands`, importing this module loads no Keras: `seqzoo` loads its
modules on first use.
"""

import contextlib
import json
import sys

import seqzoo
from seqzoo import atomic
from seqzoo import music
from seqzoo.trained.inputs import input_kind
from seqzoo.trained.inputs import read_inputs


def check_predict(args):
    """`predict`'s inputs, options together and `--out`: checked before TensorFlow loads."""
    if not args.inputs and args.input_file is None:
        raise ValueError("give the inputs to predict for: INPUT ... or --input FILE.")
    kind = None if args.input_file is None else input_kind(args.input_file)
    if kind in ("arrays", "melody") and args.inputs:
        raise ValueError(f"--input {args.input_file!r} holds {kind}; give it without INPUT texts.")
    if kind == "melody" and args.out is not None and args.json:
        raise ValueError("--json cannot apply with --out for a melody: --out writes the harmonized score.")
    if args.out is not None:
        atomic.check_can_write(args.out)


def predict(args):
    melody = args.input_file is not None and input_kind(args.input_file) == "melody"
    with contextlib.redirect_stdout(sys.stderr):
        trained = seqzoo.load(args.run, data_dir=args.data_dir)
        trained.require("predict")
        if melody and not (trained.topology == "many_to_many" and trained.tokenizer == "integers"):
            raise ValueError(
                f"--input {args.input_file!r} is a melody; {trained.where} is {trained.kind} of "
                f"{trained.tokenizer or 'numeric frames'}, not a harmonizer of MIDI pitches."
            )
        inputs, names = read_inputs(args.input_file) if args.input_file is not None else ([], None)
        results = trained.predict(list(args.inputs) + inputs, args.batch_size)
    for result, name in zip(results, names or [None] * len(results)):
        if name is not None:
            result["input"] = name
    if melody and args.out is not None:
        soprano = [int(token) for token in results[0]["tokens"]]
        bass = [int(token) for token in results[0]["tags"]]
        for path in music.write_voices([soprano, bass], args.out):
            print(path)
        return
    lines = [json.dumps(result) if args.json else _prediction_line(result) for result in results]
    _print_or_write(lines, args.out)


def _prediction_line(result):
    if "label" in result:
        return f"{result['label']}\t{result['probabilities'][result['label']]:.4f}\t{result['input']}"
    if "output" in result:
        return result["output"]
    return " ".join(f"{token}/{tag}" for token, tag in zip(result["tokens"], result["tags"]))


def score(args):
    with contextlib.redirect_stdout(sys.stderr):
        results = seqzoo.load(args.run, data_dir=args.data_dir).score(args.texts, condition=args.condition)
    for result in results:
        if args.json:
            print(json.dumps(result))
        else:
            print(
                f"{result['log_probability']:.4f}\t{result['bits_per_token']:.4f}\t{result['perplexity']:.3f}\t"
                f"{result['text']}"
            )


def _print_or_write(lines, out):
    """The result lines on stdout, or written to `out` (then its path is printed)."""
    if out is None:
        for line in lines:
            print(line)
    else:
        atomic.write_text(out, "".join(f"{line}\n" for line in lines))
        print(out)
