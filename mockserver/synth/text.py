"""Deterministic prose: plausible English sentences drawn from a seeded random source.

The words carry no meaning; what matters to a test is that the same request and seed
give the same text, that lengths vary like real answers, and that the text exercises
a client (punctuation, multi-byte characters now and then, several sentences).
"""

from __future__ import annotations

import random

_WORDS = (
    "the a an this that these those it they we you our their its each every some many few "
    "model answer request system server client token stream message response result value "
    "test data record field list item example question detail context reason method step "
    "order time moment part case point way idea plan change issue error retry network call "
    "is are was were be been has have had can could will would should may might must does do "
    "make take give find show keep build check send read write return wait move start stop "
    "clear simple quick careful small large early late new old first last next other same "
    "short long useful exact certain likely common rare open closed ready stable fast slow "
    "and or but so because when while after before if then also often still just only "
    "in on at by for with from into over under about between through without within across"
).split()
_NAMES = ("Paris", "Tokyo", "Lisbon", "Nairobi", "Montréal", "Zürich", "São Paulo", "Kraków", "Oslo", "Lima")


def sentence(rng: random.Random, words: int | None = None) -> str:
    count = words or rng.randint(6, 16)
    picked = rng.choices(_WORDS, k=count)
    if rng.random() < 0.2:
        picked[rng.randrange(count)] = rng.choice(_NAMES)
    if count > 8 and rng.random() < 0.3:
        picked[rng.randrange(2, count - 2)] += ","
    text = " ".join(picked)
    return text[0].upper() + text[1:] + rng.choice(".....!?")


def paragraph(rng: random.Random, sentences: int | None = None) -> str:
    return " ".join(sentence(rng) for _ in range(sentences or rng.randint(1, 4)))


def words(rng: random.Random, low: int = 1, high: int = 3) -> str:
    return " ".join(rng.choices(_WORDS, k=rng.randint(low, high)))
