"""The names of a run folder's files and stages (plain data, no Keras: read by light code such as the presets')."""

RECORD, CONFIG, MODEL, METRICS = "run.json", "config.json", "model.keras", "metrics.json"
HISTORY, CURVE, CHECKPOINTS, BACKUP, LOGS = "history.csv", "training_curve.png", "checkpoints", "backup", "logs"
BEST, LAST = "best.keras", "last.keras"
VOCABULARY_PREFIX = "vocabulary_"
# Written first when a run starts, removed once run.json is: the files beside it before then are the run's own.
STARTING = ".starting"
STAGES = ("created", "training", "trained", "finished")
