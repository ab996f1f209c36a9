"""The names of a run folder's files and stages (plain data, no Keras: read by light code such as the presets')."""

from seqzoo.runs.lock import LOCK_FILE

RECORD, CONFIG, MODEL, METRICS = "run.json", "config.json", "model.keras", "metrics.json"
HISTORY, CURVE, CHECKPOINTS, BACKUP, LOGS = "history.csv", "training_curve.png", "checkpoints", "backup", "logs"
BEST, LAST = "best.keras", "last.keras"
VOCABULARY_PREFIX = "vocabulary_"
STAGES = ("created", "training", "trained", "finished")
# What a run folder may hold, so that --out never writes into a folder of other files.
LAYOUT = (RECORD, CONFIG, MODEL, METRICS, HISTORY, CURVE, CHECKPOINTS, BACKUP, LOGS, LOCK_FILE)
