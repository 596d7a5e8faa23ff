""" "Did you mean": replace each query word that the catalogue hardly knows by the most common
indexed word one edit away (a letter left out, added, changed or two swapped), as in
``harry poter`` -> ``harry potter``. PostgreSQL adds look-alikes by trigram similarity
(``pg_trgm``) when no word is one edit away.

Candidates are looked up in ``catalog_search_word`` (word -> number of editions) with one
``IN`` query per query word, so the cost does not grow with the catalogue.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Callable, Sequence

from bieb.catalog.search.analysis import WORD_MAX, WORD_MIN

LETTERS = string.ascii_lowercase + string.digits
#: a word known to at least this many editions is taken as meant
KNOWN = 5
#: a correction must be this many times more common than the word it replaces
GAIN = 5


def edits1(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in LETTERS}
    inserts = {a + c + b for a, b in splits for c in LETTERS}
    return (deletes | swaps | replaces | inserts) - {word}


def distance(a: str, b: str) -> int:
    """Levenshtein distance (small words only: a correction is checked, not searched)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def corrections(
    words: Sequence[str],
    *,
    lookup: Callable[[Sequence[str]], dict[str, int]],
    similar: Callable[[str], list[tuple[str, int]]],
    per_word: int = 3,
    limit: int = 9,
) -> list[str]:
    """Corrected queries, most likely first: each unknown word replaced by one of its
    ``per_word`` most common close words. The caller picks the one that finds the most (so
    ``harry poter`` becomes ``harry potter``, not the more common but unrelated ``harry
    power``)."""
    known = lookup(list(words))
    options: list[list[str]] = []
    changed = False
    for word in words:
        docs = known.get(word, 0)
        if docs >= KNOWN or not WORD_MIN <= len(word) <= WORD_MAX or word.isdigit():
            options.append([word])
            continue
        candidates = lookup(sorted(edits1(word)))
        if not candidates:
            candidates = {w: n for w, n in similar(word) if distance(w, word) <= 2 and w != word}
        ranked = sorted(
            (item for item in candidates.items() if item[1] >= max(docs * GAIN, 1)),
            key=lambda item: (-item[1], item[0]),
        )[:per_word]
        if ranked:
            options.append([w for w, _n in ranked])
            changed = True
        else:
            options.append([word])
    if not changed:
        return []
    return [" ".join(combo) for combo in itertools.islice(itertools.product(*options), limit)]


def correct(
    words: Sequence[str],
    *,
    lookup: Callable[[Sequence[str]], dict[str, int]],
    similar: Callable[[str], list[tuple[str, int]]],
) -> str | None:
    """The most likely corrected query, or None when nothing needs correcting."""
    found = corrections(words, lookup=lookup, similar=similar, limit=1)
    return found[0] if found else None
