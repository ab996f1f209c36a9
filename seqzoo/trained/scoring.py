"""`score`: how likely a language model finds each text, the course's "probability of a sentence".

P(y<1>, ..., y<Ty>) = P(y<1>) P(y<2> | y<1>) ... P(<EOS> | y<1>, ..., y<Ty>): the
text is framed by start and end tokens as in training, fed to the model in
one teacher-forced call, and each next token's log-probability read from the
softmax of its logits, so pooled over a split's texts, `-sum / count / ln 2`
is `evaluate`'s `bits_per_token`.

Example:

>>> [round(s["bits_per_token"], 2) for s in score(seqzoo.from_preset("names"), ["Maria", "Xzqkjvw"])]
[1.61, 5.97]
"""

import numpy as np

from seqzoo.metrics import language_model_metrics
from seqzoo.metrics import log_softmax
from seqzoo.tasks.vocabulary import BOS_ID
from seqzoo.tasks.vocabulary import EOS
from seqzoo.tasks.vocabulary import EOS_ID
from seqzoo.trained.generation import condition_ids
from seqzoo.trained.text import encode_text
from seqzoo.trained.text import padded
from seqzoo.trained.text import text_tokens

BATCH = 64


def score(trained, texts, condition=None):
    """Scores texts under a language model (or a one-to-many model, given a condition).

    Args:
        trained: a `TrainedRun` of a language or one-to-many model.
        texts: a text or a list of texts, e.g. `["Maria", "Xzqkjvw"]`.
        condition: for a one-to-many model, the class (name or id) every
            text is scored under, e.g. `"female"`.

    Returns:
        One dict per text: `text` (and `condition`), `tokens` (the text's
        tokens and the end token), `log_probabilities` (natural log of each
        token's probability given those before it), `log_probability`
        (their sum: the log-probability of the whole text), `bits_per_token`,
        `perplexity` (exp of the mean negative log-probability) and `count`
        (tokens scored, the end token included).

    Example:

    >>> score(seqzoo.from_preset("names_by_gender"), "Maria", condition="female")[0]["perplexity"]
    3.1
    """
    texts = [texts] if isinstance(texts, str) else list(texts)
    if not texts:
        raise ValueError(f"{trained.where}: give at least one text to score.")
    label = {}
    if trained.topology == "one_to_many":
        if condition is None:
            names = ", ".join(repr(name) for name in trained.condition_names or [])
            raise ValueError(f"{trained.where} is conditioned: give condition= one of {names}.")
        label = {"condition": condition}
        (class_id,) = condition_ids([condition], trained.condition_names, trained.where)
    elif condition is not None:
        raise ValueError(f"Received condition={condition!r}; {trained.where} is an unconditioned language model.")
    vocabulary = trained.vocabularies["inputs"]
    ids = [encode_text(text, vocabulary, trained.tokenizer, "text") for text in texts]
    results = []
    for start in range(0, len(texts), BATCH):
        rows = ids[start : start + BATCH]
        inputs = padded([[BOS_ID, *row] for row in rows])
        if label:
            inputs = {"condition": np.full((len(rows),), class_id, "int32"), "inputs": inputs}
        log_probabilities = log_softmax(np.asarray(trained.model.predict_on_batch(inputs), "float64"))
        for offset, row in enumerate(rows):
            targets = [*row, EOS_ID]
            values = log_probabilities[offset, np.arange(len(targets)), targets]
            text = texts[start + offset]
            results.append(
                {
                    "text": text,
                    **label,
                    "tokens": [*text_tokens(text, trained.tokenizer), EOS],
                    "log_probabilities": [float(value) for value in values],
                    "log_probability": float(values.sum()),
                    **_summary(-float(values.sum()), len(targets)),
                }
            )
    return results


def _summary(nll, count):
    metrics = language_model_metrics(nll, count)
    return {"bits_per_token": metrics["bits_per_token"], "perplexity": metrics["perplexity"], "count": count}
