"""A sweep's defaults and names, importable without TensorFlow or keras-tuner (the command line reads them).

`tune`'s keyword arguments default to these, and `seqzoo tune`'s flags to the
same, so each default is written once.
"""

TUNER_NAMES = ("random", "hyperband", "bayesian", "grid")  # keras-tuner's tuners, as `tune(tuner=...)` names them.
OWN_END = ("hyperband", "grid")  # The tuners that end by themselves, without max_trials.
TUNER = "random"
MAX_TRIALS = 10
EPOCHS = 5
OBJECTIVE = "val_loss"
EXECUTIONS_PER_TRIAL = 1
LOOPBACK = "127.0.0.1"  # Where the chief of a chief/worker sweep listens unless told otherwise.
WORKER_TIMEOUT = 60.0  # Seconds of silence after which a worker counts as dead.
TOP = 10  # How many of the best trials a sweep prints.
