"""Decoding settings checked on their own: plain Python, no Keras, so the command line checks them first.

`seqzoo.inference.settings` and the decoders use them, so a bad value gets
the same message everywhere; `seqzoo generate` checks its arguments with them
before TensorFlow loads.

Example:

>>> check_settings(temperature=0)
ValueError: Received temperature=0; it must be a finite number > 0 ...
"""

import math
import numbers


def is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_settings(temperature=None, top_k=None, top_p=None, beam=None, num=None, max_length=None, length_penalty=None):
    """Raises a `ValueError` naming the received value and the allowed range.

    `None` means "not set" for every argument.
    """
    if temperature is not None and not (
        isinstance(temperature, numbers.Real)
        and not isinstance(temperature, bool)
        and math.isfinite(temperature)
        and temperature > 0
    ):
        raise ValueError(
            f"Received temperature={temperature!r}; it must be a finite number > 0 "
            "(1 samples from the model's distribution, values near 0 approach greedy decoding)."
        )
    for name, value in (("top_k", top_k), ("beam", beam), ("num", num), ("max_length", max_length)):
        if value is not None and not (is_int(value) and value >= 1):
            raise ValueError(f"Received {name}={value!r}; it must be an integer >= 1.")
    if top_p is not None and not (isinstance(top_p, numbers.Real) and not isinstance(top_p, bool) and 0 < top_p <= 1):
        raise ValueError(f"Received top_p={top_p!r}; it must be a number in (0, 1].")
    if length_penalty is not None and not (
        isinstance(length_penalty, numbers.Real)
        and not isinstance(length_penalty, bool)
        and math.isfinite(length_penalty)
        and length_penalty >= 0
    ):
        raise ValueError(
            f"Received length_penalty={length_penalty!r}; it must be a number >= 0 "
            "(0: plain sum of log-probabilities; the course's 0.7 divides it by Ty^0.7)."
        )


def decoding_strategy(topology, greedy_flag, beam, temperature, top_k, top_p):
    """`"beam"`, `"greedy"` or `"sample"`, from the settings given; a `ValueError` for settings that conflict.

    Beam search if `beam` is set, greedy if `greedy_flag`, else sampling
    (greedy for an encoder-decoder given no sampling setting). Beam search
    or greedy decoding with a sampling setting is refused.

    Args:
        topology: the model's topology, or `None` to check the settings alone.
        greedy_flag: whether greedy decoding was asked for.
        beam, temperature, top_k, top_p: as given, `None` when not.

    Example:

    >>> decoding_strategy("language_model", False, 4, None, None, None)
    'beam'
    """
    sampling = {"temperature": temperature, "top_k": top_k, "top_p": top_p}
    given = {name: value for name, value in sampling.items() if value is not None}
    if beam is not None:
        if greedy_flag or given:
            extra = ", ".join(f"{name}={value!r}" for name, value in given.items()) or "greedy=True"
            raise ValueError(f"Received beam={beam!r} with {extra}; beam search does not sample: choose one.")
        return "beam"
    if greedy_flag:
        if given:
            extra = ", ".join(f"{name}={value!r}" for name, value in given.items())
            raise ValueError(f"Received greedy=True with {extra}; greedy decoding does not sample: choose one.")
        return "greedy"
    if topology == "encoder_decoder" and not given:
        return "greedy"
    return "sample"
