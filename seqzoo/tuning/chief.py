"""keras-tuner's chief/worker mode, with a watch for dead workers: serving the oracle, heartbeats, launching.

One chief process holds the oracle behind a gRPC service; worker processes
(`KERASTUNER_TUNER_ID=tuner0, tuner1, ...`) ask it for trials. keras-tuner
1.4.8 has no notion of a dead worker: the trial a killed worker was running
stays "ongoing" forever and the chief waits for it forever. `serve_oracle`
is keras-tuner's chief loop plus a watch: workers send a heartbeat while
they train (`heartbeat`), and a trial whose worker has been silent for
`worker_timeout` seconds goes back to the queue, where the next worker that
asks for a trial takes it; and a worker that asks for a trial when none is
left waits (instead of being told to stop) while other workers' trials
still run. `launch_sweep` starts a chief and workers on this machine, each
`python -m seqzoo.tuning OUT`, which reads the sweep's own `sweep.json`.
"""

import contextlib
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent import futures

import keras_tuner

from seqzoo import _compat
from seqzoo.tuning.defaults import LOOPBACK
from seqzoo.tuning.defaults import WORKER_TIMEOUT

TUNER_ID, ORACLE_IP, ORACLE_PORT = (
    "KERASTUNER_TUNER_ID",
    "KERASTUNER_ORACLE_IP",
    "KERASTUNER_ORACLE_PORT",
)
LOGS = "logs"


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


def settings_message(ip, port, first_worker_id=0, out="OUT"):
    """How to run more workers, on this machine or another, for the chief at `ip:port` of the sweep in `out`."""
    lines = [
        f"To add a worker (on this machine, or another that shares the sweep folder), run "
        f"`python -m seqzoo.tuning {out}` with:",
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
    last_asked = {} if last_asked is None else last_asked

    @keras_tuner.synchronized
    def release(oracle):  # Under the oracle's lock, as keras-tuner's own `exit_chief`.
        released = []
        for tuner_id, trial in list(oracle.ongoing_trials.items()):
            heard = last_heard.setdefault(trial.trial_id, now)
            if now - heard > timeout:
                oracle.ongoing_trials.pop(tuner_id)
                oracle.tuner_ids.discard(tuner_id)
                _compat.retry_later(oracle, trial.trial_id)
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
    trial_type, status = _compat.trial_class()

    @keras_tuner.synchronized
    def create(oracle):
        trial = oracle.create_trial(tuner_id)
        if trial.status != status.STOPPED:
            return trial, False
        if any(other != tuner_id for other in oracle.ongoing_trials):
            oracle.tuner_ids.add(tuner_id)  # `create_trial` forgot it when it said STOPPED.
            return trial_type(oracle.get_space(), trial_id="", status=status.IDLE), False
        return trial, True

    return create(oracle)


def _watching_servicer(oracle):
    """keras-tuner's `OracleServicer`, noting when each trial's worker was last heard from."""
    servicer_class, service, _, _ = _compat.oracle_service()

    class WatchingServicer(servicer_class):
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
            return service.CreateTrialResponse(trial=trial.to_proto())

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


def serve_oracle(oracle, worker_timeout=WORKER_TIMEOUT, poll=1.0):
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
    import grpc

    _, _, service_grpc, exit_chief = _compat.oracle_service()
    ip, port = os.environ[ORACLE_IP], os.environ[ORACLE_PORT]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = _watching_servicer(oracle)
    service_grpc.add_OracleServicer_to_server(servicer, server)
    server.add_insecure_port(f"{ip}:{port}")
    server.start()
    print(
        f"seqzoo tune: chief serving the oracle at {ip}:{port}",
        file=sys.stderr,
        flush=True,
    )
    try:
        while True:
            time.sleep(poll)
            for tuner_id, trial_id in _release_silent_workers(
                oracle,
                servicer.last_heard,
                worker_timeout,
                time.monotonic(),
                servicer.last_asked,
            ):
                then = f"trial {trial_id} goes back to the queue for another worker" if trial_id else "it is forgotten"
                print(
                    f"seqzoo tune: worker {tuner_id} has been silent for over {worker_timeout:g} s; {then}.",
                    file=sys.stderr,
                    flush=True,
                )
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
    stub = _compat.oracle_stub(oracle)
    if stub is None:
        yield
        return
    import grpc

    _, service, _, _ = _compat.oracle_service()

    stop = threading.Event()

    def beat():
        while not stop.wait(interval):
            try:
                stub.GetTrial(
                    service.GetTrialRequest(trial_id=trial_id),
                    timeout=max(interval, 1.0),
                )
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
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    for name in (TUNER_ID, ORACLE_IP, ORACLE_PORT):
        env.pop(name, None)
    return env


def launch_sweep(out, workers, ip=LOOPBACK, port=None, worker_timeout=WORKER_TIMEOUT, grace=None):
    """Runs the sweep in `out` as a chief and `workers` worker processes on this machine.

    Each process runs `python -m seqzoo.tuning OUT` (which reads `OUT/sweep.json`) with keras-tuner's
    variables set (`KERASTUNER_TUNER_ID=chief`, `tuner0`, ...). The logs go to
    `<out>/logs/<tuner id>.log`. A worker that dies is reported, and the
    chief hands its trial to another worker after `worker_timeout` seconds.
    If every worker has exited and the chief still waits `grace` seconds
    later (default: twice `worker_timeout`, at least 30 s), the chief is
    stopped; running the command again resumes the sweep.

    Args:
        out: the sweep folder, its `sweep.json` written.
        workers: how many workers to start.
        ip: the address the chief listens on (loopback by default).
        port: its port (default: a free one).
        worker_timeout: seconds of silence after which a worker counts as dead.
        grace: see above.

    Returns:
        The chief's exit code.
    """
    port = port or free_port(ip)
    logs = os.path.join(out, LOGS)
    os.makedirs(logs, exist_ok=True)
    grace = max(2 * worker_timeout, 30.0) if grace is None else grace
    print(security_warning(ip, port), file=sys.stderr, flush=True)
    print(
        f"seqzoo tune: starting the chief and {workers} worker(s) at {ip}:{port}; logs in {logs}/\n"
        + settings_message(ip, port, first_worker_id=workers, out=out),
        file=sys.stderr,
        flush=True,
    )
    base = _environment()
    command = [sys.executable, "-m", "seqzoo.tuning", out]

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
                        file=sys.stderr,
                        flush=True,
                    )
            if all(process.poll() is not None for process in processes.values()):
                all_gone = all_gone or time.monotonic()
                if time.monotonic() - all_gone > grace:
                    print(
                        "seqzoo tune: every worker has exited but the chief still waits for trials; stopping it. "
                        "Run the same command again to resume the sweep.",
                        file=sys.stderr,
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
