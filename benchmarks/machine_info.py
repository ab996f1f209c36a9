"""The machine a throughput benchmark ran on, as its tables record it."""

import os
import platform


def threads():
    """The intra-op threads TensorFlow uses (and PyTorch is given)."""
    if os.environ.get("SEQZOO_BENCHMARK_SINGLE_THREAD"):
        return 1
    return int(os.environ.get("OMP_NUM_THREADS", os.cpu_count()))


def processor():
    """The processor's model name, family and model (Linux), else what `platform` says.

    A virtual machine may name only the vendor's line ("AMD EPYC"): family
    and model say which.
    """
    fields = {}
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        return platform.processor() or platform.machine()
    return f"{fields.get('model name', 'unknown')} (family {fields.get('cpu family')}, model {fields.get('model')})"


def machine():
    """The processor, cores, threads and the frameworks' versions."""
    import keras

    versions = {"python": platform.python_version(), "keras": keras.__version__}
    for package in ("tensorflow", "jax", "torch"):
        try:
            versions[package] = __import__(package).__version__
        except ImportError:
            pass
    return {"cpu": processor(), "cores": os.cpu_count(), "threads": threads(), "versions": versions}
