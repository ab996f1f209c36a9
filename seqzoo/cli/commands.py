"""What each `seqzoo` command does: it calls the library and prints the result on stdout.

`seqzoo` loads its modules on first use, so importing this module loads no
Keras; a command loads what it needs when it runs.
"""

import contextlib
import json
import os
import sys

import yaml

import seqzoo
from seqzoo import atomic
from seqzoo import music
from seqzoo import registry
from seqzoo.cli import arguments
from seqzoo.cli.quiet_import import import_tensorflow_quietly
from seqzoo.inference.checks import check_settings
from seqzoo.inference.checks import decoding_strategy
from seqzoo.presets.sources import run_path
from seqzoo.registry.index import indexed
from seqzoo.registry.sources import is_path
from seqzoo.registry.sources import list_models as model_names
from seqzoo.runs.layout import CONFIG
from seqzoo.tasks import catalog


def list_models(args):
    """The table of named models, from the index: no Keras unless a config was edited since it was written."""
    rows = [("name", "topology", "cell", "direction", "depth", "parameters")]
    for name in model_names(args.pattern):
        config, parameters = _named_model(name)
        backbone = config["backbone"]
        direction = "bi" if backbone["bidirectional"] else "uni"
        row = (name, config["topology"], backbone["cell"], direction, str(backbone["depth"]))
        rows.append((*row, f"{parameters:,}"))
    _print_table(rows)


def show(args):
    """The resolved config on stdout; on stderr a named model's size, or a YAML file's or a run's Keras summary.

    A named model is read from the index, without Keras; a run's config is
    printed before Keras loads its model for the summary.
    """
    if arguments.names_run(args.model):
        _print_config(atomic.read_json(os.path.join(run_path(args.model), CONFIG)))
        import_tensorflow_quietly()
        model = seqzoo.load(args.model).model
    elif is_path(args.model):
        import_tensorflow_quietly()
        _print_config(seqzoo.get_config(args.model))
        model = seqzoo.build(args.model)
    else:
        config, parameters = _named_model(args.model)
        _print_config(config)
        print(
            f"{args.model}: {parameters:,} parameters (its layers: seqzoo.build({args.model!r}).summary())",
            file=sys.stderr,
        )
        return
    with contextlib.redirect_stdout(sys.stderr):
        model.summary()


def _named_model(name):
    """`(resolved config, parameter count)` of a named model: from the index, else computed with Keras."""
    entry = indexed(name)
    if entry is not None:
        return entry["config"], entry["parameters"]
    import_tensorflow_quietly()
    config = seqzoo.get_config(name)
    return config, registry.parameter_count(config)


def _print_config(config):
    print(yaml.safe_dump(config, sort_keys=False).rstrip(), flush=True)


def tasks(args):
    rows = [
        (
            name,
            catalog.TOPOLOGIES[kind],
            "offline" if name in catalog.OFFLINE_TASKS else "download",
            options["description"],
        )
        for name, (kind, options) in catalog.TASKS.items()
    ]
    rows.sort(key=lambda row: row[0] not in catalog.OFFLINE_TASKS)
    rows += [
        (pattern, topology, "yours", description) for pattern, (topology, description) in catalog.DATA_TASKS.items()
    ]
    for row in rows:
        print(f"{row[0]:28} {row[1]:16} {row[2]:9} {row[3]}")


def presets(args):
    rows = [("name", "task", "model", "test metric", "bar", "overrides of the model")]
    for preset in seqzoo.list_presets():
        overrides = ", ".join(f"{key}: {json.dumps(value)}" for key, value in preset.overrides.items())
        rows.append(
            (preset.name, preset.task, preset.model, f"{preset.metric} {preset.value:.4f}", preset.bar, overrides)
        )
    _print_table(rows)


def train(args):
    with contextlib.redirect_stdout(sys.stderr):  # Keras's and TFDS's progress: stdout is the JSON line.
        folder = seqzoo.train(
            args.model,
            args.task,
            epochs=args.epochs,
            batch_size=args.batch_size,
            out=args.out,
            from_run=args.from_run,
            freeze_backbone=args.freeze_backbone,
            partial=args.partial,
            patience=args.patience,
            seed=args.seed,
            data_dir=args.data_dir,
            task_options=args.task_option,
            tensorboard=args.tensorboard,
            strategy=args.strategy,
            **args.set,
        )
        metrics = seqzoo.RunFolder(folder).metrics()
    print(json.dumps({"run": folder, **metrics}))


def evaluate(args):
    with contextlib.redirect_stdout(sys.stderr):
        metrics = seqzoo.evaluate(
            args.run, task=args.task, split=args.split, batch_size=args.batch_size, data_dir=args.data_dir
        )
    named = {"task": args.task or seqzoo.load(args.run).record["task"], "split": args.split} if args.json else {}
    print(json.dumps({"run": args.run, **named, **metrics}))


def check_generate(args):
    """`generate`'s settings, alone and together, and its `--out`: checked before TensorFlow loads."""
    check_settings(args.temperature, args.top_k, args.top_p, args.beam, args.num, args.max_length, args.length_penalty)
    decoding_strategy(None, args.greedy, args.beam, args.temperature, args.top_k, args.top_p)
    if args.out is not None:
        atomic.check_can_write(args.out)  # Before generating, not after.


def generate(args):
    with contextlib.redirect_stdout(sys.stderr):
        trained = seqzoo.load(args.run, data_dir=args.data_dir)
        trained.require("generate")
        melodies = args.out is not None and trained.tokenizer == "integers"  # MIDI pitches, 0 a rest.
        if melodies and args.json:
            raise ValueError("--json cannot apply with --out for melodies: --out writes them as MIDI and MusicXML.")
        sequences = trained.generate(
            num=args.num,
            temperature=args.temperature,
            top_k=args.top_k,
            top_p=args.top_p,
            beam=args.beam,
            prefix=list(args.texts) + list(args.prefix) or None,
            condition=args.condition,
            seed=args.seed,
            max_length=args.max_length,
            context=args.context,
            greedy=args.greedy,
            **_given(length_penalty=args.length_penalty),
            forbid_unk=not args.allow_unk,
            labelled=args.json,
        )
    if args.json:
        sequences = [json.dumps(sequence) for sequence in sequences]
    if args.out is None:
        for sequence in sequences:
            print(sequence)
    elif melodies:
        stem = os.path.splitext(args.out)[0]
        for index, sequence in enumerate(sequences, 1):
            path = stem if len(sequences) == 1 else f"{stem}_{index}"
            for written in music.write_melody([int(token) for token in sequence.split()], path):
                print(written)
    else:
        atomic.write_text(args.out, "".join(f"{sequence}\n" for sequence in sequences))
        print(args.out)


def tune(args):
    with contextlib.redirect_stdout(sys.stderr):
        result = seqzoo.tune(
            args.model,
            args.task,
            tuner=args.tuner,
            max_trials=args.max_trials or None,
            epochs=args.epochs,
            out=args.out,
            data_dir=args.data_dir,
            objective=args.objective,
            direction=args.direction,
            executions_per_trial=args.executions_per_trial,
            overwrite=args.overwrite,
            workers=args.workers,
            batch_size=args.batch_size,
            seed=args.seed,
            oracle_ip=args.oracle_ip,
            oracle_port=args.oracle_port,
            worker_timeout=args.worker_timeout,
            verbose=args.verbose,
            top=args.top,
            **args.set,
        )
    if result is not None:  # None: a worker process of a chief/worker sweep.
        print(json.dumps(result.summary()))


def export(args):
    with contextlib.redirect_stdout(sys.stderr):
        endpoints = seqzoo.generation.export_run(
            args.run,
            args.out,
            data_dir=args.data_dir,
            forbid_unk=not args.allow_unk,
            overwrite=args.overwrite,
            **_given(max_length=args.max_length),
        )
    print(json.dumps({"run": args.run, "out": args.out, "endpoints": endpoints}))


def _print_table(rows):
    """Rows of strings as aligned columns, the header first."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())


def _given(**options):
    """The options the user gave; the others keep the library's defaults (written once, there)."""
    return {key: value for key, value in options.items() if value is not None}
