"""The machine a throughput benchmark ran on, as its tables record it."""

import os
import platform


def threads():
    """The intra-op threads TensorFlow uses (and PyTorch is given)."""
    if os.environ.get("SEQZOO_BENCHMARK_SINGLE_THREAD"):
        return 1
    return int(os.environ.get("OMP_NUM_THREADS", os.cpu_count()))


def machine():
    """The processor (its model name, family and model), cores, threads and the frameworks' versions."""
    import keras

    fields = {}
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    # A virtual machine may name only the vendor's line ("AMD EPYC"): family and model say which.
    cpu = f"{fields.get('model name', 'unknown')} (family {fields.get('cpu family')}, model {fields.get('model')})"
    versions = {"python": platform.python_version(), "keras": keras.__version__}
    for package in ("tensorflow", "jax", "torch"):
        try:
            versions[package] = __import__(package).__version__
        except ImportError:
            pass
    return {"cpu": cpu, "cores": os.cpu_count(), "threads": threads(), "versions": versions}
