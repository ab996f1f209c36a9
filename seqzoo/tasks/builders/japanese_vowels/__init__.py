"""The UEA JapaneseVowels speaker-recognition set, as shipped in sktime."""

from seqzoo.tasks.builders.japanese_vowels.builder import SeqzooJapaneseVowels

__all__ = ["SeqzooJapaneseVowels"]
