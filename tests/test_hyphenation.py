"""The hyphenation adapter: pyphen's patterns loaded in one process are used by another, not loaded again."""

from __future__ import annotations

import pickle

import pyphen

from zinepress import hyphenation


def test_patterns_sent_from_another_process_are_the_ones_pyphen_uses():
    sent = pickle.loads(pickle.dumps(hyphenation.loaded("en")))
    assert sent, "pyphen has English patterns"
    saved = dict(pyphen.hdcache)
    pyphen.hdcache.clear()
    try:
        hyphenation.adopt(sent)
        dictionary = pyphen.Pyphen(lang=pyphen.language_fallback("en"))
        assert dictionary.hd is next(iter(sent.values())), (
            f"pyphen {pyphen.__version__} no longer keeps its patterns in pyphen.hdcache: the patterns sent "
            "by the rendering process are not used (see zinepress.hyphenation)")
        assert dictionary.inserted("hyphenation") == "hy-phen-a-tion"
    finally:
        pyphen.hdcache.clear()
        pyphen.hdcache.update(saved)


def test_a_language_without_patterns_sends_none():
    assert hyphenation.loaded("ja") == {} and hyphenation.loaded("") == {}
