"""Decoding: greedy, sampling (temperature, top-k, top-p), beam search, on the step-wise path.

Small models are built with seqzoo's factories and fixed seeds; where a test
needs a known distribution, the weights are set by hand (a bigram table in a
linear RNN over one-hot inputs).
"""

import keras
import numpy as np
import pytest
from scipy import stats

import seqzoo
from seqzoo import music
from seqzoo.architectures import Stepper
from seqzoo.architectures import language_model
from seqzoo.inference import decoding
from seqzoo.inference import loop
from seqzoo.tasks.vocabulary import BOS_ID
from seqzoo.tasks.vocabulary import EOS_ID
from seqzoo.tasks.vocabulary import PAD_ID
from seqzoo.tasks.vocabulary import UNK_ID

VOCAB = 12
TINY = {"backbone.units": 8, "inputs.vocab_size": VOCAB, "inputs.embedding_dim": 6}


def _tiny_language_model(seed=0, head_bias=None):
    keras.utils.set_random_seed(seed)
    model = seqzoo.build("gru_char_lm", **TINY)
    if head_bias is not None:
        head = model.get_layer("head")
        kernel, _ = head.get_weights()
        head.set_weights([kernel * 3.0, np.asarray(head_bias, "float32")])
    return model


@pytest.fixture(scope="module")
def lm():
    """A tiny GRU language model whose first-token distribution is far from uniform."""
    return _tiny_language_model(head_bias=np.linspace(-1.5, 1.5, VOCAB))


@pytest.fixture(scope="module")
def translator():
    keras.utils.set_random_seed(1)
    model = seqzoo.build(
        "lstm_seq2seq_attention",
        **{"backbone.units": 6, "inputs.vocab_size": 15, "targets.vocab_size": VOCAB, "targets.embedding_dim": 5},
    )
    head = model.get_layer("head")
    kernel, bias = head.get_weights()
    bias[EOS_ID] = 0.6  # Some sequences end before max_length.
    head.set_weights([kernel * 4.0, bias])
    return model


@pytest.fixture(scope="module")
def conditioned():
    keras.utils.set_random_seed(2)
    model = seqzoo.build("lstm_music", **{**TINY, "backbone.depth": 2})
    head = model.get_layer("head")
    kernel, bias = head.get_weights()
    head.set_weights([kernel * 4.0, bias])
    return model


def _sources(batch=4, length=7, seed=0):
    rng = np.random.default_rng(seed)
    source = rng.integers(4, 15, size=(batch, length)).astype("int32")
    for row in range(batch):
        source[row, length - row :] = 0
    return source


def _starts():
    """(model fixture name, start kwargs, batch) for the three generative topologies."""
    return [
        ("lm", {"batch_size": 3}, 3),
        ("translator", {"source": _sources(3)}, 3),
        ("conditioned", {"condition": np.array([0, 1, 1])}, 3),
    ]


@pytest.fixture(params=["reference", "compiled"])
def sampler(request):
    """`sample` of the NumPy reference decoders, or of the compiled loop."""
    return decoding.sample if request.param == "reference" else loop.sample


def _masked_log_softmax(logits, forbid=(PAD_ID, BOS_ID)):
    x = np.array(logits, "float64")
    x[..., list(forbid)] = -np.inf
    return x - np.log(np.sum(np.exp(x - x.max(-1, keepdims=True)), -1, keepdims=True)) - x.max(-1, keepdims=True)


# -- greedy ------------------------------------------------------------------------------


@pytest.mark.parametrize("name, start, batch", _starts())
def test_greedy_is_the_stepwise_argmax(request, name, start, batch):
    model = request.getfixturevalue(name)
    stepper = Stepper(model)
    prefix = [[4], [5, 6], []]
    got = decoding.greedy(stepper, stepper.start(**start), batch, 12, prefix=prefix)

    # The reference: feed BOS and the prefix, then the argmax over allowed ids, by hand.
    cache = stepper.start(**start)
    outputs = [list(row) for row in prefix]
    tokens, finished = np.full(batch, BOS_ID), [False] * batch
    for t in range(2 + 12):
        logits, cache = stepper.next(tokens.astype("int32"), cache)
        best = _masked_log_softmax(keras.ops.convert_to_numpy(logits)).argmax(-1)
        for row in range(batch):
            if t < len(prefix[row]):
                best[row] = prefix[row][t]
            elif not finished[row]:
                if best[row] == EOS_ID or len(outputs[row]) - len(prefix[row]) >= 12:
                    finished[row] = True
                else:
                    outputs[row].append(int(best[row]))
        tokens = best
    assert got == outputs
    assert [row[: len(p)] for row, p in zip(got, prefix)] == prefix
    assert all(len(row) - len(p) <= 12 for row, p in zip(got, prefix))


def test_compiled_step_gives_the_eager_numbers(translator):
    stepper = Stepper(translator)
    compiled = decoding.step_function(stepper, compiled=True)
    assert compiled is not stepper.next or keras.backend.backend() not in ("tensorflow", "jax")
    eager_cache = compiled_cache = stepper.start(source=_sources())
    tokens = np.full(4, BOS_ID, "int32")
    for _ in range(6):
        eager, eager_cache = stepper.next(tokens, eager_cache)
        fast, compiled_cache = compiled(tokens, compiled_cache)
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(fast), keras.ops.convert_to_numpy(eager), rtol=1e-6, atol=1e-6
        )
        tokens = keras.ops.convert_to_numpy(eager).argmax(-1).astype("int32")
    start = stepper.start(source=_sources())
    assert decoding.greedy(stepper, start, 4, 10, compiled=True) == decoding.greedy(
        stepper, start, 4, 10, compiled=False
    )


def test_greedy_translate_keeps_working(translator):
    source = _sources()
    stepper = Stepper(translator)
    assert decoding.greedy_translate(translator, source, 9) == decoding.greedy(
        stepper, stepper.start(source=source), 4, 9
    )


# -- sampling --------------------------------------------------------------------------


@pytest.mark.parametrize("name, start, batch", _starts())
def test_top_k_1_and_temperature_near_0_are_greedy(request, name, start, batch, sampler):
    stepper = Stepper(request.getfixturevalue(name))
    greedy = decoding.greedy(stepper, stepper.start(**start), batch, 15)
    for seed in (0, 1):
        assert sampler(stepper, stepper.start(**start), batch, 15, top_k=1, seed=seed) == greedy
        assert sampler(stepper, stepper.start(**start), batch, 15, temperature=1e-6, seed=seed) == greedy


def _first_token_distribution(model):
    stepper = Stepper(model)
    logits, _ = stepper.next(np.array([BOS_ID], "int32"), stepper.start(batch_size=1))
    return np.exp(_masked_log_softmax(keras.ops.convert_to_numpy(logits))[0])


def _first_tokens(model, n, sampler, **settings):
    stepper = Stepper(model)
    rows = sampler(stepper, stepper.start(batch_size=n), n, 1, **settings)
    return np.array([row[0] if row else EOS_ID for row in rows])


def test_sampled_first_tokens_follow_the_softmax(lm, sampler):
    probabilities = _first_token_distribution(lm)
    n = 6000
    tokens = _first_tokens(lm, n, sampler, seed=0)
    allowed = [i for i in range(VOCAB) if i not in (PAD_ID, BOS_ID)]
    counts = np.bincount(tokens, minlength=VOCAB)
    assert counts[PAD_ID] == counts[BOS_ID] == 0
    assert stats.chisquare(counts[allowed], n * probabilities[allowed]).pvalue > 0.01
    # The test has power: the same counts reject a uniform distribution.
    assert stats.chisquare(counts[allowed], np.full(len(allowed), n / len(allowed))).pvalue < 1e-6


def test_temperature_sharpens_and_flattens(lm, sampler):
    probabilities = _first_token_distribution(lm)
    n = 4000
    top = probabilities.argmax()
    cold = np.mean(_first_tokens(lm, n, sampler, seed=1, temperature=0.5) == top)
    warm = np.mean(_first_tokens(lm, n, sampler, seed=1, temperature=2.0) == top)
    # p(top) at temperature T is softmax(logits / T)[top]; 4000 draws: within 0.03.
    logits = np.log(probabilities[[i for i in range(VOCAB) if i not in (PAD_ID, BOS_ID)]])
    for temperature, observed in ((0.5, cold), (2.0, warm)):
        expected = np.exp(logits.max() / temperature) / np.exp(logits / temperature).sum()
        assert observed == pytest.approx(expected, abs=0.03)
    assert cold > probabilities[top] > warm


def test_top_p_samples_only_the_nucleus(lm, sampler):
    probabilities = _first_token_distribution(lm)
    order = np.argsort(-probabilities)
    cumulative = np.cumsum(probabilities[order])
    top_p = 0.6
    nucleus = set(order[: int(np.searchsorted(cumulative, top_p) + 1)].tolist())
    assert 1 < len(nucleus) < VOCAB - 2
    tokens = _first_tokens(lm, 3000, sampler, seed=2, top_p=top_p)
    assert set(tokens.tolist()) == nucleus  # Every nucleus token drawn, nothing outside.
    # Inside the nucleus, frequencies follow the renormalized probabilities.
    kept = sorted(nucleus)
    counts = np.bincount(tokens, minlength=VOCAB)[kept]
    expected = probabilities[kept] / probabilities[kept].sum() * len(tokens)
    assert stats.chisquare(counts, expected).pvalue > 0.01


def test_filter_logits_by_hand():
    logits = np.log([[1.0, 0.05, 1.0, 0.1, 0.5, 0.25, 0.1]])
    logits[0, [0, 2]] = 5.0  # Padding and BOS look likely, but are never allowed.
    # Sorted: 4 (0.5), 5 (0.25), 3 and 6 (0.1 each: the lower id first), 1 (0.05).
    nuclei = (
        (0.5, {4}),
        (0.51, {4, 5}),
        (0.75, {4, 5}),
        (0.76, {3, 4, 5}),
        (0.86, {3, 4, 5, 6}),
        (1.0, {1, 3, 4, 5, 6}),
    )
    for top_p, kept in nuclei:
        probabilities = decoding.next_token_probabilities(logits, top_p=top_p)
        assert set(np.flatnonzero(probabilities[0]).tolist()) == kept, top_p
        assert probabilities.sum() == pytest.approx(1.0)
    probabilities = decoding.next_token_probabilities(logits, top_k=2)
    np.testing.assert_allclose(probabilities[0], [0, 0, 0, 0, 2 / 3, 1 / 3, 0])
    probabilities = decoding.next_token_probabilities(logits, forbid=decoding.forbidden_ids(forbid_unk=True))
    assert probabilities[0, UNK_ID] == 0 and probabilities[0, 4] == pytest.approx(0.5 / 0.95)


@pytest.mark.parametrize("name, start, batch", _starts())
def test_same_seed_same_output_other_seed_other_output(request, name, start, batch, sampler):
    stepper = Stepper(request.getfixturevalue(name))

    def run(seed):
        return sampler(stepper, stepper.start(**start), batch, 20, seed=seed, temperature=1.5)

    assert run(7) == run(7)
    assert run(7) != run(8)


# -- what is never emitted, and stopping ---------------------------------------------------


def test_never_pad_or_bos_and_forbid_unk():
    # Padding, UNK and BOS are by far the most likely ids of this model.
    bias = np.zeros(VOCAB)
    bias[[PAD_ID, UNK_ID, BOS_ID]] = 8.0
    model = _tiny_language_model(seed=3, head_bias=bias)
    stepper = Stepper(model)
    batch = 16

    def every_id(forbid_unk):
        start = lambda: stepper.start(batch_size=batch)  # noqa: E731
        rows = decoding.sample(stepper, start(), batch, 10, seed=0, forbid_unk=forbid_unk)
        rows += decoding.sample(stepper, start(), batch, 10, seed=1, temperature=3.0, forbid_unk=forbid_unk)
        rows += decoding.greedy(stepper, start(), batch, 10, forbid_unk=forbid_unk)
        rows += decoding.beam_search(stepper, stepper.start(batch_size=2), 2, 10, beam_width=3, forbid_unk=forbid_unk)
        return {token for row in rows for token in row}

    assert not every_id(forbid_unk=False) & {PAD_ID, BOS_ID, EOS_ID}
    assert UNK_ID in every_id(forbid_unk=False)  # Allowed, UNK is what this model wants...
    assert not every_id(forbid_unk=True) & {PAD_ID, UNK_ID, BOS_ID, EOS_ID}  # ...forbidden, never.


def test_stops_at_eos_and_at_max_length():
    bias = np.zeros(VOCAB)
    bias[EOS_ID] = 10.0
    stepper = Stepper(_tiny_language_model(seed=4, head_bias=bias))
    assert decoding.greedy(stepper, stepper.start(batch_size=3), 3, 10) == [[], [], []]
    assert decoding.greedy(stepper, stepper.start(batch_size=3), 3, 10, prefix=[5, 6]) == [[5, 6]] * 3
    bias[EOS_ID] = -10.0
    stepper = Stepper(_tiny_language_model(seed=4, head_bias=bias))
    rows = decoding.sample(stepper, stepper.start(batch_size=3), 3, 7, seed=0, prefix=[[4], [], [5, 6]])
    assert [len(row) for row in rows] == [8, 7, 9]


# -- step-wise probabilities against the full model -----------------------------------------


def test_stepwise_probabilities_match_the_full_model(lm, translator, conditioned):
    keras.utils.set_random_seed(5)
    single_state = seqzoo.build("gru_conditioned_char_lm", **TINY)  # One layer, one state: a<0> alone.
    rng = np.random.default_rng(0)
    sequences = [rng.integers(4, VOCAB, size=n).tolist() for n in (5, 3, 6)]
    width = max(len(s) for s in sequences) + 1
    inputs = np.zeros((3, width), "int32")  # BOS + sequence, padded.
    for row, sequence in enumerate(sequences):
        inputs[row, : len(sequence) + 1] = [BOS_ID] + sequence
    cases = [
        (lm, {"batch_size": 3}, inputs),
        (translator, {"source": _sources(3)}, {"inputs": _sources(3), "decoder_inputs": inputs}),
        (conditioned, {"condition": np.array([0, 1, 0])}, {"condition": np.array([0, 1, 0]), "inputs": inputs}),
        (single_state, {"condition": np.array([1, 0, 1])}, {"condition": np.array([1, 0, 1]), "inputs": inputs}),
    ]
    for model, start, full_inputs in cases:
        stepper = Stepper(model)
        stepwise = decoding.score(stepper, stepper.start(**start), sequences)
        full = _masked_log_softmax(np.asarray(model.predict_on_batch(full_inputs)))
        for row, sequence in enumerate(sequences):
            targets = sequence + [EOS_ID]
            expected = full[row, np.arange(len(targets)), targets]
            np.testing.assert_allclose(stepwise[row], expected, rtol=1e-5, atol=1e-5)


# -- beam search -------------------------------------------------------------------------------


@pytest.mark.parametrize("name, start, batch", _starts())
def test_beam_width_1_is_greedy(request, name, start, batch):
    stepper = Stepper(request.getfixturevalue(name))
    for prefix in (None, [[4], [], [5, 6]]):
        greedy = decoding.greedy(stepper, stepper.start(**start), batch, 12, prefix=prefix)
        for penalty in (0.0, 0.7, 1.0):
            beam = decoding.beam_search(
                stepper, stepper.start(**start), batch, 12, beam_width=1, length_penalty=penalty, prefix=prefix
            )
            assert beam == greedy


def _bigram_model(table):
    """A language model whose next-token distribution depends only on the last token.

    A linear RNN over one-hot inputs with an identity kernel and no recurrence
    keeps a<t> = one_hot(y<t-1>); the head's kernel row for a token holds the
    log-probabilities of the next token.
    """
    size = len(table)
    model = language_model(
        {"cell": "rnn", "units": size, "cell_options": {"activation": "linear"}},
        {"type": "one_hot", "vocab_size": size},
    )
    model.seqzoo_config = {"topology": "language_model"}
    cell = model.get_layer("backbone").cells[0]
    cell.kernel.assign(np.eye(size, dtype="float32"))
    cell.recurrent_kernel.assign(np.zeros((size, size), "float32"))
    cell.bias.assign(np.zeros(size, "float32"))
    with np.errstate(divide="ignore"):
        logits = np.maximum(np.log(np.asarray(table, "float64")), -30.0)
    model.get_layer("head").set_weights([logits.astype("float32"), np.zeros(size, "float32")])
    return model


def test_beam_search_beats_myopic_greedy():
    # ids: 0 PAD, 1 UNK, 2 BOS, 3 EOS, 4 a, 5 b, 6..9 c d e f.
    table = np.zeros((10, 10))
    table[BOS_ID, [4, 5]] = [0.6, 0.4]  # "a" looks best at first...
    table[4, 6:10] = 0.25  # ...but after it every continuation is unlikely,
    table[5, [EOS_ID, 6]] = [0.99, 0.01]  # while "b" then EOS is likely.
    table[6:10, EOS_ID] = 1.0
    table[[0, 1, 3], EOS_ID] = 1.0
    stepper = Stepper(_bigram_model(table))
    greedy = decoding.greedy(stepper, stepper.start(batch_size=1), 1, 5)
    assert greedy == [[4, 6]]
    for penalty in (0.0, 0.7):
        hypotheses = decoding.beam_search(
            stepper, stepper.start(batch_size=1), 1, 5, beam_width=2, length_penalty=penalty, return_all=True
        )[0]
        best, best_score = hypotheses[0]
        assert best == [5]
        # The scores are the step-wise log-probabilities, length-normalized.
        log_p = decoding.score(stepper, stepper.start(batch_size=2), [best, greedy[0]])
        assert best_score == pytest.approx(log_p[0].sum() / 2**penalty, abs=1e-5)
        assert log_p[0].sum() == pytest.approx(np.log(0.4 * 0.99), abs=1e-4)
        assert log_p[1].sum() == pytest.approx(np.log(0.6 * 0.25), abs=1e-4)
        assert best_score > log_p[1].sum() / 3**penalty
        assert [score for _, score in hypotheses] == sorted((score for _, score in hypotheses), reverse=True)


def test_beam_search_scores_on_a_real_translator(translator):
    stepper = Stepper(translator)
    source = _sources()
    beams = decoding.beam_search(stepper, stepper.start(source=source), 4, 10, beam_width=4, return_all=True)
    for row, hypotheses in enumerate(beams):
        assert 1 <= len(hypotheses) <= 4
        ids = [h for h, _ in hypotheses]
        rescored = decoding.score(stepper, stepper.start(source=np.repeat(source[row : row + 1], len(ids), 0)), ids)
        for (hypothesis, value), log_p in zip(hypotheses, rescored):
            ended = len(hypothesis) < 10
            total = log_p.sum() if ended else log_p[:-1].sum()  # At max_length, no EOS was scored.
            assert value == pytest.approx(total / (len(hypothesis) + ended) ** 0.7, abs=1e-4)


# -- settings and models that cannot generate ------------------------------------------------------


@pytest.mark.parametrize(
    "settings, words",
    [
        ({"temperature": 0}, ["temperature=0", "> 0"]),
        ({"temperature": -0.5}, ["temperature=-0.5", "> 0"]),
        ({"temperature": float("nan")}, ["temperature=nan", "> 0"]),
        ({"top_k": 0}, ["top_k=0", ">= 1"]),
        ({"top_k": 2.5}, ["top_k=2.5", "integer"]),
        ({"top_p": 0}, ["top_p=0", "(0, 1]"]),
        ({"top_p": 1.5}, ["top_p=1.5", "(0, 1]"]),
        ({"beam": 0}, ["beam=0", ">= 1"]),
        ({"num": 0}, ["num=0", ">= 1"]),
        ({"max_length": -3}, ["max_length=-3", ">= 1"]),
        ({"beam": 2, "num": 3}, ["num=3", "beam=2"]),
        ({"beam": 2, "temperature": 0.5}, ["beam=2", "temperature=0.5"]),
    ],
)
def test_bad_settings_name_the_value_and_the_range(lm, settings, words):
    with pytest.raises(ValueError) as error:
        seqzoo.generate(lm, **settings)
    for word in words:
        assert word in str(error.value)


def test_sampling_functions_check_their_settings(lm):
    stepper = Stepper(lm)
    with pytest.raises(ValueError, match=r"top_p=0\.0"):
        decoding.sample(stepper, stepper.start(batch_size=1), 1, 5, top_p=0.0)
    with pytest.raises(ValueError, match="beam=0"):
        decoding.beam_search(stepper, stepper.start(batch_size=1), 1, 5, beam_width=0)
    with pytest.raises(ValueError, match="length_penalty=-1"):
        decoding.beam_search(stepper, stepper.start(batch_size=1), 1, 5, length_penalty=-1)


def test_a_many_to_one_model_cannot_generate():
    model = seqzoo.build("gru_uni", **{"backbone.units": 4})
    with pytest.raises(ValueError, match="many_to_one.*language_model, one_to_many, encoder_decoder"):
        seqzoo.generate(model)


def test_generate_on_ids_without_a_task(lm, translator, conditioned):
    rows = seqzoo.generate(lm, num=3, seed=0, prefix=[4, 5], max_length=6)
    assert len(rows) == 3 and all(row[:2] == [4, 5] and len(row) <= 8 for row in rows)
    assert seqzoo.generate(lm, num=3, seed=0, prefix=[4, 5], max_length=6) == rows
    stepper = Stepper(translator)
    source = _sources(2)
    expected = decoding.greedy(stepper, stepper.start(source=source), 2, 100)
    assert seqzoo.generate(translator, source=[list(row[row > 0]) for row in source]) == expected
    assert seqzoo.generate(translator, source=[list(row[row > 0]) for row in source], beam=1) == expected
    assert len(seqzoo.generate(conditioned, num=2, condition=[0, 1], seed=0, max_length=5)) == 4
    with pytest.raises(ValueError, match="conditioned"):
        seqzoo.generate(conditioned)


def test_melody_runs_merge_repeated_pitches():
    assert music.melody_runs([60, 60, 62, 0, 0, 62, 62, 62]) == [(60, 2), (62, 1), (0, 2), (62, 3)]
    assert music.melody_runs([]) == []


# -- the compiled loop against the reference decoders ------------------------------------------------


@pytest.mark.parametrize("name, start, batch", _starts())
def test_compiled_greedy_and_beam_equal_the_reference(request, name, start, batch):
    stepper = Stepper(request.getfixturevalue(name))
    # Each beam setting compiles its own loop: widths 1 and above, with and without a length penalty,
    # with and without a prefix, in four compilations.
    for prefix, beams in ((None, ((3, 0.0), (4, 1.0))), ([[4], [5, 6], []], ((1, 0.7), (3, 0.7)))):
        expected = decoding.greedy(stepper, stepper.start(**start), batch, 12, prefix=prefix)
        assert loop.greedy(stepper, stepper.start(**start), batch, 12, prefix=prefix) == expected
        for width, penalty in beams:
            settings = {"beam_width": width, "length_penalty": penalty, "prefix": prefix, "return_all": True}
            reference = decoding.beam_search(stepper, stepper.start(**start), batch, 12, **settings)
            compiled = loop.beam_search(stepper, stepper.start(**start), batch, 12, **settings)
            assert [[ids for ids, _ in row] for row in compiled] == [[ids for ids, _ in row] for row in reference]
            for row, expected_row in zip(compiled, reference):
                np.testing.assert_allclose([v for _, v in row], [v for _, v in expected_row], rtol=1e-5, atol=1e-5)


def test_compiled_beam_search_beats_myopic_greedy():
    table = np.zeros((10, 10))
    table[BOS_ID, [4, 5]] = [0.6, 0.4]
    table[4, 6:10] = 0.25
    table[5, [EOS_ID, 6]] = [0.99, 0.01]
    table[6:10, EOS_ID] = 1.0
    table[[0, 1, 3], EOS_ID] = 1.0
    stepper = Stepper(_bigram_model(table))
    assert loop.greedy(stepper, stepper.start(batch_size=1), 1, 5) == [[4, 6]]
    (best, value), *_ = loop.beam_search(stepper, stepper.start(batch_size=1), 1, 5, beam_width=2, return_all=True)[0]
    assert best == [5] and value == pytest.approx(np.log(0.4 * 0.99) / 2**0.7, abs=1e-5)


def test_compiled_top_k_with_temperature_follows_the_filtered_distribution(lm):
    logits, _ = Stepper(lm).next(np.array([BOS_ID], "int32"), Stepper(lm).start(batch_size=1))
    expected = decoding.next_token_probabilities(keras.ops.convert_to_numpy(logits), temperature=0.7, top_k=5)[0]
    n = 5000
    counts = np.bincount(_first_tokens(lm, n, loop.sample, seed=3, temperature=0.7, top_k=5), minlength=VOCAB)
    kept = np.flatnonzero(expected)
    assert len(kept) == 5 and counts.sum() == counts[kept].sum()
    assert stats.chisquare(counts[kept], n * expected[kept]).pvalue > 0.01


def test_compiled_decoders_never_emit_forbidden_ids_and_stop():
    bias = np.zeros(VOCAB)
    bias[[PAD_ID, UNK_ID, BOS_ID]] = 8.0
    stepper = Stepper(_tiny_language_model(seed=3, head_bias=bias))
    rows = loop.sample(stepper, stepper.start(batch_size=16), 16, 10, seed=0, forbid_unk=True)
    rows += loop.greedy(stepper, stepper.start(batch_size=4), 4, 10, forbid_unk=True)
    rows += loop.beam_search(stepper, stepper.start(batch_size=2), 2, 10, beam_width=3, forbid_unk=True)
    assert not {token for row in rows for token in row} & {PAD_ID, UNK_ID, BOS_ID, EOS_ID}
    bias = np.zeros(VOCAB)
    bias[EOS_ID] = -10.0
    stepper = Stepper(_tiny_language_model(seed=4, head_bias=bias))
    rows = loop.sample(stepper, stepper.start(batch_size=3), 3, 7, seed=0, prefix=[[4], [], [5, 6]])
    assert [len(row) for row in rows] == [8, 7, 9] and [row[:1] for row in rows] == [[4], rows[1][:1], [5]]


def test_a_reloaded_model_generates_identically(translator, conditioned, tmp_path):
    for model, settings in ((translator, {"source": [[5, 6, 7], [8, 9]]}), (conditioned, {"condition": [0, 1]})):
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        loaded = keras.saving.load_model(path)
        for options in ({"greedy": True}, {"beam": 3, "num": 2}, {"temperature": 0.9, "seed": 4, "num": 2}):
            kwargs = {**settings, **options, "max_length": 8}
            assert seqzoo.generate(loaded, **kwargs) == seqzoo.generate(model, **kwargs)


def test_a_long_batched_job_runs_in_chunks_with_progress_on_stderr(lm, capsys):
    rows = seqzoo.generate(lm, num=300, seed=1, prefix=[4], max_length=3)
    out, err = capsys.readouterr()
    assert len(rows) == 300 and all(row[:1] == [4] and len(row) <= 4 for row in rows)
    assert out == "" and "300/300" in err
    assert seqzoo.generate(lm, num=300, seed=1, prefix=[4], max_length=3) == rows
