"""Is a question in English? The embedding model (all-MiniLM-L6-v2) and the key-term index are English-only.

A Spanish question about Basra retrieves little, and without this check the
reply said "the articles do not answer this", which is false: they do, in
English. So a question that reads as another language gets one honest
sentence saying questions are answered in English.

The test counts function words, which every sentence has and names never are:
English ones against those of the languages a reader is most likely to try
(Spanish, French, German, Italian, Portuguese, Dutch), plus letters of a
non-Latin script. A language-ID library (langdetect, lingua) is either
non-deterministic on short text or ships large models; a question is short
and this only has to tell English from not-English.
"""

from __future__ import annotations

import re

from app.answer.text import STOP_WORDS, WORD

FOREIGN_FUNCTION_WORDS = frozenset(
    """el la los las un una unos unas del al que qué por porqué cómo como cuándo dónde quién quiénes cuál es son
    fue su sus en con para se lo le les y o pero más muy ya está están han ha
    le la les des du de et est sont ont une un pourquoi comment quand où qui quoi quel quelle leur leurs dans
    avec pour sur ce cette ces il ils elle elles a-t-il ont-ils ne pas
    der die das den dem des ein eine einen und ist sind warum wie wann wo wer was welche hat haben nicht mit für
    von zu auf im
    il lo gli perché come quando dove chi che cosa sono è ha hanno della delle degli nel nella con per
    o os as um uma por que quem onde quando porque como são foi tem com para não
    het een waarom hoe wanneer waar wie wat welke zijn heeft hebben niet met voor van""".split()
)
NON_LATIN = re.compile(r"[\u0370-\u03ff\u0400-\u04ff\u0590-\u05ff\u0600-\u06ff\u0900-\u097f\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")
INVERTED_PUNCTUATION = re.compile(r"[¿¡]")


def is_english(question: str) -> bool:
    """True unless the question plainly reads as another language; names and numbers are neutral."""
    letters = [ch for ch in question if ch.isalpha()]
    if letters and sum(bool(NON_LATIN.match(ch)) for ch in letters) > len(letters) / 3:
        return False
    words = [w.lower() for w in WORD.findall(question)]
    english = sum(w in STOP_WORDS for w in words)
    foreign = sum(w in FOREIGN_FUNCTION_WORDS and w not in STOP_WORDS for w in words)
    foreign += 2 * len(INVERTED_PUNCTUATION.findall(question))
    return not (foreign >= 2 and foreign > english)
