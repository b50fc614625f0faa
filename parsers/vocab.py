"""Thai word lists for text repair and letter parsing.

The dictionary is pythainlp's word list (`pythainlp.corpus.thai_words()`, shipped inside the
package, so nothing is downloaded) plus the project's domain vocabulary in
`parsers/data/domain_words.txt`. Every list is loaded once per process and cached.
"""

import functools
import logging
from importlib import resources

logger = logging.getLogger(__name__)

DOMAIN_WORDS_FILE = "domain_words.txt"


@functools.cache
def domain_words() -> frozenset[str]:
    """Return the domain vocabulary: one word per line, `#` starts a comment line."""
    text = resources.files("parsers").joinpath("data", DOMAIN_WORDS_FILE).read_text("utf-8")
    words = set()
    for line in text.splitlines():
        word = line.strip()
        if word and not word.startswith("#"):
            words.add(word)
    logger.debug("loaded %s domain words", len(words))
    return frozenset(words)


@functools.cache
def thai_dictionary() -> frozenset[str]:
    """Return pythainlp's word list joined with the domain vocabulary."""
    from pythainlp.corpus import thai_words

    words = frozenset(thai_words()) | domain_words()
    logger.debug("loaded %s dictionary words", len(words))
    return words


@functools.cache
def word_frequencies() -> dict[str, int]:
    """Return word counts of the Thai National Corpus (shipped with pythainlp).

    Loading takes about half a second, so callers use it only to break rare ties.
    """
    from pythainlp.corpus import tnc

    return dict(tnc.word_freqs())


def is_word(text: str) -> bool:
    """Return True when `text` is a dictionary word (pythainlp or domain vocabulary)."""
    return text in thai_dictionary()


def is_domain_word(text: str) -> bool:
    """Return True when `text` is in the project's domain vocabulary."""
    return text in domain_words()
