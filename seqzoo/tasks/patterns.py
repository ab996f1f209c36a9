"""Target patterns: which tokens may come next, as a finite automaton that a decoder follows.

A task whose targets have a fixed form names a pattern (the dates task:
`target_pattern="iso_date"`), so every run and preset of that task decodes
within it: the decoders (`seqzoo.inference`) set the logits of the ids the
automaton does not allow to `-inf` before they pick, and step the automaton
with the id they picked. `iso_date` allows `YYYY-MM-DD` only with a real
month and a real day of that month in that year (29 February in leap years),
then the end token.

Example:

>>> pattern = token_pattern("iso_date", task.vocabularies["target"])
>>> decoding.greedy(stepper, cache, 4, 12, pattern=pattern)  # never "1999-02-30"
"""

import calendar
from dataclasses import dataclass

import numpy as np
from keras import ops

from seqzoo.errors import unknown_name_error
from seqzoo.tasks.vocabulary import EOS_ID

DIGITS = "0123456789"
_END = ("end",)
STATE_KEY = "pattern_states"  # Where `TokenPattern.held` keeps each row's state in a decoder's cache.


@dataclass(frozen=True, eq=False)
class TokenPattern:
    """A finite automaton over a vocabulary's ids.

    State 0 is the start. The last state is free: every id is allowed there
    and leads back to it; an id the automaton does not allow (a prefix a
    user forced) leads there.

    Args:
        name: the pattern's name, e.g. `"iso_date"`.
        allowed: `(states, vocab)` bools, True where an id may come next.
        transitions: `(states, vocab)` int32, the state after each id.
    """

    name: str
    allowed: np.ndarray
    transitions: np.ndarray

    def restrict(self, logits, states):
        """NumPy logits `(batch, vocab)` with `-inf` where `states` (`(batch,)` ints) allow no id."""
        return np.where(self.allowed[np.asarray(states)], np.asarray(logits, "float64"), -np.inf)

    def advance(self, states, tokens):
        """The states after each row's token."""
        return self.transitions[np.asarray(states), np.asarray(tokens)].astype("int32")

    def held(self, step):
        """`step(tokens, cache) -> (logits, cache)` with NumPy logits held to the pattern (the reference decoders').

        Each row's state rides in the cache (so a beam search's reordering of
        the cache reorders it too) and follows the tokens fed in; the first
        (BOS) starts it.
        """

        def held_step(tokens, cache):
            states = cache.get(STATE_KEY)
            states = np.zeros(len(tokens), "int32") if states is None else self.advance(states, tokens)
            logits, cache = step(tokens, {key: value for key, value in cache.items() if key != STATE_KEY})
            return self.restrict(ops.convert_to_numpy(logits), states), {**cache, STATE_KEY: states}

        return held_step

    def accepts(self, ids):
        """Whether `ids` (without BOS; EOS appended here) is a whole sequence of the pattern."""
        state = 0
        for token in [*ids, EOS_ID]:
            if not self.allowed[state, token]:
                return False
            state = self.transitions[state, token]
        return True


def _iso_date_step(state, char):
    """The ISO date automaton on characters: the state after `char`, or `None` where it may not come.

    A year's digits carry `(count, year so far x 10^(4 - count) mod 400, any nonzero digit)`: enough to
    tell a leap year (the Gregorian rule repeats every 400 years) and to refuse year 0000.
    """
    kind = state[0]
    if kind == "year":
        _, count, value, nonzero = state
        if char not in DIGITS:
            return None
        count, value, nonzero = count + 1, (value + int(char) * 10 ** (3 - count)) % 400, nonzero or char != "0"
        if count < 4:
            return ("year", count, value, nonzero)
        return ("year-", calendar.isleap(value or 400)) if nonzero else None
    if kind == "year-":
        return ("month", state[1], None) if char == "-" else None
    if kind == "month":
        _, leap, first = state
        if char not in DIGITS:
            return None
        if first is None:
            return ("month", leap, char) if char in "01" else None
        month = int(first + char)
        return ("month-", calendar.monthrange(2000 if leap else 2001, month)[1]) if 1 <= month <= 12 else None
    if kind == "month-":
        return ("day", state[1], None) if char == "-" else None
    if kind == "day":
        _, days, first = state
        if char not in DIGITS:
            return None
        if first is None:
            return ("day", days, char) if int(char) <= days // 10 else None
        return _END if 1 <= int(first + char) <= days else None
    return None


def _tables(name, step, start, vocabulary, needed):
    """An automaton on characters (`step`) as a `TokenPattern` over `vocabulary`'s ids, by breadth-first search."""
    missing = [char for char in needed if char not in vocabulary.inverse]
    if missing:
        raise ValueError(
            f"Target pattern {name!r} needs the tokens {missing} that the target vocabulary lacks; "
            "it fits a vocabulary of the pattern's own characters."
        )
    ids = {char: vocabulary.inverse.index(char) for char in needed}
    states, queue = {start: 0}, [start]
    edges = []
    while queue:
        state = queue.pop(0)
        for char, token in ids.items():
            after = step(state, char)
            if after is None:
                continue
            if after not in states:
                states[after] = len(states)
                queue.append(after)
            edges.append((states[state], token, states[after]))
    free = len(states)
    allowed = np.zeros((free + 1, len(vocabulary)), bool)
    transitions = np.full((free + 1, len(vocabulary)), free, "int32")
    for source, token, target in edges:
        allowed[source, token] = True
        transitions[source, token] = target
    allowed[states[_END], EOS_ID] = True
    transitions[states[_END], EOS_ID] = states[_END]
    allowed[free] = True
    return TokenPattern(name, allowed, transitions)


def iso_date_pattern(vocabulary):
    """`YYYY-MM-DD` with a real month and day for the year (0001 to 9999), then EOS, over `vocabulary`'s ids."""
    return _tables("iso_date", _iso_date_step, ("year", 0, 0, False), vocabulary, DIGITS + "-")


PATTERNS = {"iso_date": iso_date_pattern}


def token_pattern(name, vocabulary):
    """The pattern named `name` (one of `PATTERNS`) over a target vocabulary."""
    if name not in PATTERNS:
        raise unknown_name_error("target pattern", name, sorted(PATTERNS))
    return PATTERNS[name](vocabulary)
