"""Inference compiled end to end: next-token filters, the decoding loops, export for serving.

- `filters`: next-token filtering (forbidden ids, temperature, top-k, top-p)
  and seeded stateless draws, in `keras.ops`.
- `loop`: greedy, sampling and beam search with the whole loop in one
  compiled call (`tf.while_loop` under `tf.function`, `lax.while_loop`
  under `jax.jit`).
- `export`: a TensorFlow SavedModel whose `generate` takes and returns
  strings (a classifier's: strings in, class probabilities out).

`seqzoo.generate(...)` (`seqzoo.generation`) is the text-level entry point
built on these. (The package is not named `seqzoo.generate`: that name is
the public function.)
"""
