"""Distribution: tf.distribute strategies for training, keras-tuner's chief/worker mode for sweeps.

Two engines, neither of them ours:

- Training on several devices or machines runs on TensorFlow's
  `tf.distribute` (`MirroredStrategy` on one machine's devices,
  `MultiWorkerMirroredStrategy` across machines described by `TF_CONFIG`).
  `seqzoo.train(..., strategy="mirrored")` builds and compiles the model
  inside `strategy.scope()`; with several workers only the chief writes the
  run folder, the others write to a temporary folder (as TensorFlow advises).
- Sweeps on several processes or machines run on keras-tuner's chief/worker
  mode: one chief process holds the oracle behind a gRPC service, worker
  processes (the same command, `KERASTUNER_TUNER_ID=tuner0, tuner1, ...`)
  ask it for trials. keras-tuner 1.4.8 has no notion of a dead worker: the
  trial a killed worker was running stays "ongoing" forever and the chief
  waits for it forever. `serve_oracle` is keras-tuner's chief loop plus a
  watch: workers send a heartbeat while they train (`heartbeat`), and a trial
  whose worker has been silent for `worker_timeout` seconds goes back to
  the queue, where the next worker that asks for a trial takes it; and a
  worker that asks for a trial when none is left waits (instead of being
  told to stop) while other workers' trials still run.
"""

import contextlib
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from seqzoo.errors import unknown_name_error

STRATEGIES = ("mirrored", "multiworker")
TUNER_ID, ORACLE_IP, ORACLE_PORT = "KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"
LOOPBACK = "127.0.0.1"


# -- tf.distribute for training ----------------------------------------------


def get_strategy(strategy):
    """The `tf.distribute.Strategy` that `strategy` names.

    Args:
        strategy: `None` (no strategy), `"mirrored"` (every GPU of this
            machine, or its CPU), `"multiworker"` (the machines that the
            `TF_CONFIG` environment variable lists) or a
            `tf.distribute.Strategy`.

    Returns:
        A `tf.distribute.Strategy`, or `None`.

    Raises:
        ValueError: for an unknown name, or on a Keras backend other than
            TensorFlow (tf.distribute drives TensorFlow only).
    """
    if strategy is None:
        return None
    import keras

    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"Received strategy={strategy!r}, but tf.distribute strategies need the TensorFlow backend "
            f"and the Keras backend is {keras.backend.backend()!r}. Set KERAS_BACKEND=tensorflow, or "
            f"train without a strategy."
        )
    import tensorflow as tf

    if isinstance(strategy, tf.distribute.Strategy):
        return strategy
    if strategy not in STRATEGIES:
        raise unknown_name_error("strategy", strategy, STRATEGIES)
    if strategy == "mirrored":
        return tf.distribute.MirroredStrategy()
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except (RuntimeError, ValueError) as error:
        raise ValueError(
            f"Could not start MultiWorkerMirroredStrategy ({error}). It must be created before TensorFlow runs "
            f"anything: call seqzoo.train(..., strategy='multiworker') first thing in the program, or create "
            f"tf.distribute.MultiWorkerMirroredStrategy() at its start and pass it as strategy=."
        ) from error


def scope(strategy):
    """`strategy.scope()`, or a context that does nothing for `None`."""
    return contextlib.nullcontext() if strategy is None else strategy.scope()


def is_multi_worker(strategy):
    """Whether `strategy` spans several worker processes (a `TF_CONFIG` cluster)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return False
    cluster = resolver.cluster_spec().as_dict()
    return sum(len(tasks) for tasks in cluster.values()) > 1


def is_chief(strategy):
    """Whether this process writes the results: the `chief` task, else worker 0, else the only process."""
    if strategy is None or not is_multi_worker(strategy):
        return True
    resolver = strategy.cluster_resolver
    if "chief" in resolver.cluster_spec().as_dict():
        return resolver.task_type == "chief"
    return resolver.task_type in (None, "worker") and (resolver.task_id or 0) == 0


def worker_folder(folder, strategy):
    """Where this worker writes its run files: `folder` on the chief, a new temporary folder elsewhere."""
    if is_chief(strategy):
        return folder
    resolver = strategy.cluster_resolver
    return tempfile.mkdtemp(prefix=f"seqzoo-{resolver.task_type}{resolver.task_id}-")


def check_can_resume(folder, strategy, config_name="config.json"):
    """Refuses to resume an unfinished run on several workers.

    Keras's `BackupAndRestore` restores each worker from its own files, and a
    non-chief worker's files are temporary, so the workers would start from
    different epochs and weights and wait on each other forever.
    """
    if is_multi_worker(strategy) and is_chief(strategy) and os.path.exists(os.path.join(folder, config_name)):
        from seqzoo.run_folder import RunFolderError

        raise RunFolderError(
            f"Run folder {folder!r} holds an unfinished run; a multi-worker run does not resume "
            f"(each worker would restore different state). Choose another --out."
        )


def remove_worker_folder(folder, work):
    """Deletes a non-chief worker's temporary folder (`work`), once training is over or has failed."""
    if work != folder:
        shutil.rmtree(work, ignore_errors=True)


def shard_by_data(dataset, strategy):
    """Shards `dataset` by element across workers (its batches come from one cached source, not files)."""
    if not is_multi_worker(strategy):
        return dataset
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def prepare_to_fit(model, batches, strategy):
    """Builds the model's metrics and loss in `strategy`'s scope from one local batch.

    Keras 3 (3.15) builds them at the start of `fit`/`evaluate` from a first
    batch that it averages across all replicas (`strategy.reduce`); with
    several workers that fails, because each worker's batch is its own and
    bucketed sequences give batches of different lengths. Built here from
    this worker's own batch, nothing is left for that step to do, so it is
    skipped.
    """
    if strategy is None:
        return
    with strategy.scope():
        model._symbolic_build(data_batch=next(iter(batches)))
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None
    if is_multi_worker(strategy):
        _average_scalar_logs_across_workers()


def _average_scalar_logs_across_workers():
    """Lets Keras 3 average each step's scalar logs (loss, metrics) across workers.

    Keras 3.15's TensorFlow trainer reduces the logs of a multi-worker step
    with `strategy.reduce("MEAN", value, axis=0)`, which fails on a scalar
    ("Invalid reduction dimension 0 for input with 0 dimensions",
    tensorflow/tensorflow#72388). This wraps its `reduce_per_replica` so that
    scalars are averaged over the replicas (`axis=None`); every other case
    goes to Keras's own function unchanged. Installed once, only when a
    multi-worker strategy trains.
    """
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer

    original = trainer.reduce_per_replica
    if getattr(original, "seqzoo_scalar_mean", False):
        return

    def local_rank(value, strategy):
        local = strategy.experimental_local_results(value)[0] if trainer._is_per_replica_instance(value) else value
        return getattr(getattr(local, "shape", None), "rank", None)

    def reduce_per_replica(values, strategy, reduction):
        if reduction not in ("auto", "mean") or not trainer._collective_all_reduce_multi_worker(strategy):
            return original(values, strategy, reduction)

        def reduce(value):
            if local_rank(value, strategy) == 0:
                return strategy.reduce("MEAN", value, axis=None)
            return original(value, strategy, reduction)

        return tree.map_structure(reduce, values)

    reduce_per_replica.seqzoo_scalar_mean = True
    trainer.reduce_per_replica = reduce_per_replica


def barrier(strategy):
    """Waits until every worker gets here (an all-reduce of one number); nothing to wait for otherwise."""
    if not is_multi_worker(strategy):
        return
    import tensorflow as tf

    strategy.reduce("SUM", strategy.run(lambda: tf.constant(1.0)), axis=None)


def chief_first(strategy, prepare):
    """Runs `prepare` on the chief, then lets every worker go on.

    With several workers sharing a data folder, one process generates a
    dataset that does not exist yet while the others wait, instead of all of
    them writing it at once.
    """
    if is_multi_worker(strategy):
        if is_chief(strategy):
            prepare()
        barrier(strategy)


def rebuild_in_scope(model, strategy):
    """A copy of a seqzoo model whose variables live in `strategy`'s scope, same weights."""
    from seqzoo.zoo import build_from_config

    with scope(strategy):
        copy = build_from_config(model.seqzoo_config, name=model.name)
    copy.set_weights(model.get_weights())
    return copy


# -- keras-tuner's chief/worker mode for sweeps ------------------------------


def free_port(ip=LOOPBACK):
    """A TCP port that nothing listens on at `ip` right now."""
    with socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET) as probe:
        probe.bind((ip, 0))
        return probe.getsockname()[1]


def is_loopback(ip):
    """Whether `ip` is a loopback address (127.0.0.0/8, ::1, localhost)."""
    if ip == "localhost":
        return True
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def role():
    """`"chief"`, `"worker"` or `None` (no chief/worker mode), from keras-tuner's environment variables."""
    from keras_tuner.src.distribute import utils

    if not utils.has_chief_oracle():
        return None
    return "chief" if utils.is_chief_oracle() else "worker"


def settings_message(ip, port, first_worker_id=0):
    """How to run more workers, on this machine or another, for the chief at `ip:port`."""
    lines = [
        "To add a worker, run the same `seqzoo tune` command without --workers (same --out, on a shared filesystem) with:",
        f"    {TUNER_ID}=tuner{first_worker_id}   (a different id per worker: tuner{first_worker_id}, "
        f"tuner{first_worker_id + 1}, ...; the chief runs with {TUNER_ID}=chief)",
        f"    {ORACLE_IP}={ip}",
        f"    {ORACLE_PORT}={port}",
    ]
    return "\n".join(lines)


def security_warning(ip, port):
    """The warning the chief prints: its gRPC service takes requests from anyone who can reach it."""
    where = (
        "only processes on this machine can reach it"
        if is_loopback(ip)
        else "ANY machine that can reach this address can read and change the sweep; use it only on a trusted network"
    )
    return (
        f"WARNING: the keras-tuner oracle's gRPC service at {ip}:{port} has no authentication and no "
        f"encryption; {where}. It binds {LOOPBACK} unless told otherwise (--oracle-ip)."
    )


def _release_silent_workers(oracle, last_heard, timeout, now, last_asked=None):
    """Forgets workers silent for `timeout` seconds; their trials go back to the queue.

    Args:
        oracle: the chief's oracle.
        last_heard: trial id -> when its worker last sent word (a request or a heartbeat).
        timeout: seconds of silence after which a worker counts as dead.
        now: the time (`time.monotonic()`).
        last_asked: tuner id -> when it last asked for a trial or ended one; a
            worker between trials (waiting for one) is forgotten after as long.

    Returns:
        `[(tuner_id, trial_id or None), ...]`, the workers forgotten.
    """
    from keras_tuner.src.engine.oracle import synchronized

    last_asked = {} if last_asked is None else last_asked

    @synchronized
    def release(oracle):  # Under the oracle's lock, as keras-tuner's own `exit_chief`.
        released = []
        for tuner_id, trial in list(oracle.ongoing_trials.items()):
            heard = last_heard.setdefault(trial.trial_id, now)
            if now - heard > timeout:
                oracle.ongoing_trials.pop(tuner_id)
                oracle.tuner_ids.discard(tuner_id)
                oracle._retry_queue.append(trial.trial_id)
                last_heard.pop(trial.trial_id, None)
                oracle.save()
                released.append((tuner_id, trial.trial_id))
        for tuner_id in sorted(oracle.tuner_ids):
            if tuner_id not in oracle.ongoing_trials and now - last_asked.setdefault(tuner_id, now) > timeout:
                oracle.tuner_ids.discard(tuner_id)
                released.append((tuner_id, None))
        return released

    return release(oracle)


def _create_trial_or_wait(oracle, tuner_id):
    """keras-tuner's `oracle.create_trial`, except that a worker is not told to stop while
    other workers' trials still run (one of them may come back to the queue): it is told
    to wait (an `IDLE` trial) instead. Returns `(trial, stop)`."""
    from keras_tuner.src.engine import trial as trial_module
    from keras_tuner.src.engine.oracle import synchronized

    @synchronized
    def create(oracle):
        trial = oracle.create_trial(tuner_id)
        if trial.status != trial_module.TrialStatus.STOPPED:
            return trial, False
        if any(other != tuner_id for other in oracle.ongoing_trials):
            oracle.tuner_ids.add(tuner_id)  # `create_trial` forgot it when it said STOPPED.
            return trial_module.Trial(oracle.get_space(), trial_id="", status=trial_module.TrialStatus.IDLE), False
        return trial, True

    return create(oracle)


def _watching_servicer(oracle):
    """keras-tuner's `OracleServicer`, noting when each trial's worker was last heard from."""
    from keras_tuner.src import protos
    from keras_tuner.src.distribute import oracle_chief

    class WatchingServicer(oracle_chief.OracleServicer):
        def __init__(self, oracle):
            super().__init__(oracle)
            self.last_heard, self.last_asked = {}, {}

        def CreateTrial(self, request, context):
            self.last_asked[request.tuner_id] = time.monotonic()
            trial, stop = _create_trial_or_wait(self.oracle, request.tuner_id)
            if stop:
                self.stop_triggered = True
            elif trial.status == "RUNNING":
                self.last_heard[trial.trial_id] = time.monotonic()
            return protos.get_service().CreateTrialResponse(trial=trial.to_proto())

        def UpdateTrial(self, request, context):
            self.last_heard[request.trial_id] = time.monotonic()
            return super().UpdateTrial(request, context)

        def EndTrial(self, request, context):
            for tuner_id, trial in list(self.oracle.ongoing_trials.items()):
                if trial.trial_id == request.trial.trial_id:
                    self.last_asked[tuner_id] = time.monotonic()
            return super().EndTrial(request, context)

        def GetTrial(self, request, context):  # Also the workers' heartbeat.
            self.last_heard[request.trial_id] = time.monotonic()
            return super().GetTrial(request, context)

    return WatchingServicer(oracle)


def serve_oracle(oracle, worker_timeout=60.0, poll=1.0):
    """Runs the chief: serves `oracle` over gRPC until the sweep is over.

    keras-tuner's `start_server`, plus: a trial whose worker has been silent
    (no heartbeat, no request) for `worker_timeout` seconds goes back to the
    queue, and its worker is forgotten, so a killed worker neither stalls the
    sweep nor loses a trial. The chief ends once a worker has been told that
    `max_trials` are reached and no trial is running.

    Args:
        oracle: the tuner's `keras_tuner.Oracle`.
        worker_timeout: seconds of silence after which a worker counts as dead.
        poll: seconds between checks.
    """
    from concurrent import futures

    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute.oracle_chief import exit_chief

    ip, port = os.environ[ORACLE_IP], os.environ[ORACLE_PORT]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = _watching_servicer(oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    server.add_insecure_port(f"{ip}:{port}")
    server.start()
    print(f"seqzoo tune: chief serving the oracle at {ip}:{port}", flush=True)
    try:
        while True:
            time.sleep(poll)
            for tuner_id, trial_id in _release_silent_workers(
                oracle, servicer.last_heard, worker_timeout, time.monotonic(), servicer.last_asked
            ):
                then = f"trial {trial_id} goes back to the queue for another worker" if trial_id else "it is forgotten"
                print(f"seqzoo tune: worker {tuner_id} has been silent for over {worker_timeout:g} s; {then}.", flush=True)
            if servicer.stop_triggered and exit_chief(oracle):
                break
    finally:
        server.stop(grace=None)


@contextlib.contextmanager
def heartbeat(oracle, trial_id, interval):
    """While the block runs, tells the chief every `interval` seconds that this worker lives.

    Does nothing outside chief/worker mode (when `oracle` is not keras-tuner's
    `OracleClient`).
    """
    stub = getattr(oracle, "stub", None) if type(oracle).__name__ == "OracleClient" else None
    if stub is None:
        yield
        return
    import grpc
    from keras_tuner.src import protos

    stop = threading.Event()

    def beat():
        while not stop.wait(interval):
            try:
                stub.GetTrial(protos.get_service().GetTrialRequest(trial_id=trial_id), timeout=max(interval, 1.0))
            except grpc.RpcError:
                pass

    thread = threading.Thread(target=beat, name=f"seqzoo-heartbeat-{trial_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _environment():
    """This process's environment, with seqzoo importable from the children."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    for name in (TUNER_ID, ORACLE_IP, ORACLE_PORT):
        env.pop(name, None)
    return env


def launch_sweep(arguments, workers, out, ip=LOOPBACK, port=None, worker_timeout=60.0, grace=None):
    """Runs a sweep as a chief and `workers` worker processes on this machine.

    Each process runs `python -m seqzoo tune <arguments>` with keras-tuner's
    variables set (`KERASTUNER_TUNER_ID=chief`, `tuner0`, ...). The logs go to
    `<out>/logs/<tuner id>.log`. A worker that dies is reported, and the
    chief hands its trial to another worker after `worker_timeout` seconds.
    If every worker has exited and the chief still waits `grace` seconds
    later (default: twice `worker_timeout`, at least 30 s), the chief is
    stopped; running the command again resumes the sweep.

    Args:
        arguments: the `seqzoo tune` arguments (without `--workers`).
        workers: how many workers to start.
        out: the sweep folder.
        ip: the address the chief listens on (loopback by default).
        port: its port (default: a free one).
        worker_timeout: seconds of silence after which a worker counts as dead.
        grace: see above.

    Returns:
        The chief's exit code.
    """
    port = port or free_port(ip)
    logs = os.path.join(out, "logs")
    os.makedirs(logs, exist_ok=True)
    grace = max(2 * worker_timeout, 30.0) if grace is None else grace
    print(security_warning(ip, port), flush=True)
    print(
        f"seqzoo tune: starting the chief and {workers} worker(s) at {ip}:{port}; logs in {logs}/\n"
        + settings_message(ip, port, first_worker_id=workers),
        flush=True,
    )
    base = _environment()
    command = [sys.executable, "-m", "seqzoo", "tune", *arguments]

    def start(tuner_id):
        env = {**base, TUNER_ID: tuner_id, ORACLE_IP: ip, ORACLE_PORT: str(port)}
        log = open(os.path.join(logs, f"{tuner_id}.log"), "ab")
        try:
            return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()

    chief = start("chief")
    processes = {f"tuner{index}": start(f"tuner{index}") for index in range(workers)}
    reported, all_gone = set(), None
    try:
        while chief.poll() is None:
            time.sleep(0.5)
            for tuner_id, process in processes.items():
                code = process.poll()
                if code not in (None, 0) and tuner_id not in reported:
                    reported.add(tuner_id)
                    print(
                        f"seqzoo tune: worker {tuner_id} exited with {_exit_reason(code)} (see {logs}/{tuner_id}.log); "
                        f"the chief gives its trial to another worker after {worker_timeout:g} s of silence.",
                        flush=True,
                    )
            if all(process.poll() is not None for process in processes.values()):
                all_gone = all_gone or time.monotonic()
                if time.monotonic() - all_gone > grace:
                    print(
                        f"seqzoo tune: every worker has exited but the chief still waits for trials; stopping it. "
                        f"Run the same command again to resume the sweep.",
                        flush=True,
                    )
                    chief.terminate()
                    chief.wait(30)
        if chief.returncode == 0:  # The workers were told to stop; give them time to exit.
            for process in processes.values():
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    pass
    finally:
        for process in [chief, *processes.values()]:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
    return chief.returncode


def _exit_reason(code):
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"
