"""Text analysis shared by both backends, so SQLite and PostgreSQL index and query the same
tokens: ``text.fold`` for "the same letters" and Snowball stems (Dutch and English, PyStemmer)
computed in Python.

Each indexed field holds its folded words followed by the stems of those words that differ
from the word itself ("boeken gardening" + "boek garden"). A query word then matches the word
itself or one of its stems, in the field it was found in, so a stem match in a title still
weighs as a title match. Phrases ("de avonden") match the folded words in order.
"""

from __future__ import annotations

import re
import threading

import Stemmer

from bieb.catalog import text

#: query words beyond this are ignored: a longer query is a pasted paragraph, not a search
MAX_TERMS = 32
#: vocabulary words (for "did you mean") have this many characters at least and at most
WORD_MIN, WORD_MAX = 3, 30
#: words whose stems are remembered per thread before the memory starts over
STEM_CACHE_SIZE = 500_000

_local = threading.local()
_NON_WORD = re.compile(r"[^\w]+")


def words_of(value: str) -> list[str]:
    """``text.words(value)``, with a fast path for plain ASCII (most catalogue text): there
    accents and ligatures cannot occur, so lower-casing and splitting is the whole fold. The
    index runs this for every field of every edition."""
    if value.isascii():
        return _NON_WORD.sub(" ", value.lower()).replace("_", " ").split()
    return text.words(value)


def _stemmers() -> tuple[Stemmer.Stemmer, Stemmer.Stemmer]:
    # PyStemmer objects are not thread-safe: one pair per thread.
    pair = getattr(_local, "stemmers", None)
    if pair is None:
        pair = (Stemmer.Stemmer("dutch"), Stemmer.Stemmer("english"))
        _local.stemmers = pair
    return pair


def _word_stems(word: str) -> tuple[str, ...]:
    """The distinct Dutch and English stems of ``word`` other than itself, remembered: the
    same few hundred thousand words recur across a catalogue."""
    cache = getattr(_local, "stems", None)
    if cache is None or len(cache) > STEM_CACHE_SIZE:
        cache = _local.stems = {}
    found = cache.get(word)
    if found is None:
        dutch, english = _stemmers()
        nl, en = dutch.stemWord(word), english.stemWord(word)
        found = cache[word] = tuple(dict.fromkeys(s for s in (nl, en) if s != word))
    return found


def stems_of(words: list[str]) -> list[str]:
    """The Dutch and English stems of ``words`` that are not themselves among ``words``,
    each once, in order of first appearance."""
    seen = set(words)
    found: list[str] = []
    for word in words:
        for stem in _word_stems(word):
            if stem not in seen:
                seen.add(stem)
                found.append(stem)
    return found


def expansions(word: str) -> list[str]:
    """What one query word matches: the word and its distinct Dutch and English stems."""
    return [word, *stems_of([word])]


def field_text(value: str) -> tuple[list[str], str]:
    """The folded words of one field and the text to index for it (words, then stems)."""
    words = words_of(value)
    return words, " ".join(words + stems_of(words))


def vocabulary_words(words: list[str]) -> set[str]:
    """Words worth suggesting as a correction: not too short or long, not numbers."""
    return {w for w in words if WORD_MIN <= len(w) <= WORD_MAX and not w.isdigit()}
