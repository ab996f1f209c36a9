"""Human-readable dates and their ISO 8601 form, rendered with babel."""

from seqzoo.tasks.builders.dates.builder import SeqzooDates

__all__ = ["SeqzooDates"]
