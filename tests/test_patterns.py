"""Target patterns: the ISO date automaton, and every decoder held to it (compiled and reference alike)."""

import datetime

import numpy as np
import pytest
from keras import ops

import seqzoo
from seqzoo.inference import decoding
from seqzoo.inference import loop
from seqzoo.tasks.patterns import token_pattern
from seqzoo.tasks.vocabulary import EOS_ID
from seqzoo.tasks.vocabulary import Vocabulary

DATES = seqzoo.presets.get_preset("dates").path
TARGETS = Vocabulary.load(f"{DATES}/vocabulary_target.json")
PATTERN = token_pattern("iso_date", TARGETS)


def ids(text):
    return [TARGETS.inverse.index(char) for char in text]


def text(id_list):
    return "".join(TARGETS.inverse[i] for i in id_list)


def is_date(iso):
    try:
        datetime.date.fromisoformat(iso)
    except ValueError:
        return False
    return len(iso) == 10


@pytest.mark.parametrize("year", [1, 1900, 1999, 2000, 2023, 2024, 9999])
def test_the_iso_date_pattern_accepts_exactly_the_real_days_of_a_year(year):
    accepted = [
        f"{year:04d}-{month:02d}-{day:02d}"
        for month in range(100)
        for day in range(100)
        if PATTERN.accepts(ids(f"{year:04d}-{month:02d}-{day:02d}"))
    ]
    assert len(accepted) == (366 if year in (2000, 2024) else 365)
    assert all(is_date(iso) for iso in accepted)


def test_the_iso_date_pattern_refuses_other_shapes():
    for wrong in ["0000-01-01", "1999-5-3", "1999-05-03-", "199-05-03", "1999005-03", "1999-05-0", ""]:
        assert not PATTERN.accepts(ids(wrong)), wrong
    assert PATTERN.accepts(ids("2024-02-29")) and not PATTERN.accepts(ids("2023-02-29"))
    with pytest.raises(ValueError, match=r"needs the tokens \['5'\]"):
        token_pattern("iso_date", Vocabulary([*"0123456789-"][:5] + [*"6789-"]))
    with pytest.raises(ValueError, match="Did you mean 'iso_date'"):
        token_pattern("iso_dates", TARGETS)


class PositionStepper:
    """Logits that depend only on the step: row t of `table`, for every sequence (a model that ignores its input)."""

    def __init__(self, table):
        self.table = np.asarray(table, "float32")

    def start(self, batch_size):
        return {"states": np.zeros((batch_size, 1), "float32")}

    def next(self, tokens, cache):
        step = ops.cast(cache["states"][:, 0], "int32")
        logits = ops.take(ops.convert_to_tensor(self.table), ops.minimum(step, len(self.table) - 1), axis=0)
        return logits, {**cache, "states": cache["states"] + 1}


def preferring(wanted):
    """A table that prefers `wanted`'s characters, then higher digits, then EOS after it."""
    table = np.full((len(wanted) + 2, len(TARGETS)), -5.0)
    for t, char in enumerate(wanted):
        for digit in "0123456789":
            table[t, TARGETS.inverse.index(digit)] = 0.1 * int(digit)
        table[t, TARGETS.inverse.index(char)] = 10.0
    table[len(wanted) :, EOS_ID] = 10.0
    return table


@pytest.mark.parametrize("decoders", [loop, decoding], ids=["compiled", "reference"])
def test_a_decoder_held_to_the_pattern_never_writes_an_impossible_date(decoders):
    stepper = PositionStepper(preferring("2023-13-39"))
    cache = stepper.start(8)
    assert [text(row) for row in decoders.greedy(stepper, cache, 8, 12)] == ["2023-13-39"] * 8  # Left to itself.
    held = decoders.greedy(stepper, cache, 8, 12, pattern=PATTERN)
    # Month "13" is refused, so "12", the highest digit left; then day "39" in December: "31".
    assert [text(row) for row in held] == ["2023-12-31"] * 8
    beams = decoders.beam_search(stepper, stepper.start(2), 2, 12, beam_width=3, return_all=True, pattern=PATTERN)
    assert all(is_date(text(found)) for row in beams for found, _ in row) and len(beams[0]) == 3
    # Beam search ranks the probabilities renormalized over what the pattern allows: "11" costs a little more than
    # "12", but after "3" November's day has one choice, "0", which costs nothing, where December's "1" costs log 0.52.
    assert text(beams[0][0][0]) == "2023-11-30"
    sampled = decoders.sample(stepper, stepper.start(64), 64, 12, temperature=20.0, seed=0, pattern=PATTERN)
    assert all(is_date(text(row)) for row in sampled)
    assert len({text(row) for row in sampled}) > 10  # Flattened this much, it wanders over many real dates.


def test_the_dates_preset_translates_plain_dates_in_any_case_without_a_context(dates_preset):
    plain = ["3 may 1999", "12/31/99", "1 jan 2000", "July 4, 2024", "  JULY   4,  2024 "]
    expected = ["1999-05-03", "1999-12-31", "2000-01-01", "2024-07-04", "2024-07-04"]
    assert seqzoo.generate(dates_preset, prefix=plain) == expected
    # A context written first in the source, or given, still reads the date its way ("3/9/24": 3 September).
    assert seqzoo.generate(dates_preset, prefix=["es_ES 3/9/24", "3/9/24"]) == ["2024-09-03", "2024-03-09"]
    with pytest.raises(ValueError, match="Unknown context 'en_UK'. Did you mean 'en_US'"):
        seqzoo.generate(dates_preset, prefix=plain, context="en_UK")
