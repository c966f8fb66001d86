"""Language descriptions: variety, determinism, typo rate, held-out disjointness, LOReL's rephrasing
categories and canonical instructions."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest

from robolearn.data.labels import DO_NOTHING, label_vocabulary
from robolearn.data.language import (
    BLOCK_COLOR_NAMES,
    HELDOUT,
    MIN_TYPO_LENGTH,
    REPHRASING_CATEGORIES,
    SHARED_TOKENS,
    TRAIN,
    bank_tokens,
    canonical,
    content_tokens,
    describe,
    describe_category,
    tokens,
)
from sim.scenes.desk import BLOCK_COLORS, ObjectStates
from sim.tasks.desk import DESK_TASKS

OPEN = ("drawer", "open", None)
NAMES = ObjectStates(
    mugs={"white_mug": np.zeros(3), "black_mug": np.zeros(3)},
    blocks={f"block_{i}": np.zeros(3) for i in range(8)},
    drawer=0.0,
    door=0.0,
    faucet=0.0,
    button=0.0,
).names()
VOCAB = label_vocabulary(NAMES)  # every label, blocks and DO_NOTHING included
CHANGES = VOCAB[:-1]


def random_label_sets(rng: np.random.Generator, n: int) -> list[list]:
    """``n`` label sets: a tenth do-nothing, the rest one to three distinct changes."""
    out = []
    for _ in range(n):
        if rng.random() < 0.1:
            out.append([DO_NOTHING])
        else:
            k = int(rng.integers(1, 4))
            out.append([CHANGES[int(i)] for i in rng.choice(len(CHANGES), k, replace=False)])
    return out


# ------------------------------------------------------------------------- variety
def test_open_drawer_has_many_phrasings():
    rng = np.random.default_rng(0)
    texts = [describe([OPEN], rng) for _ in range(500)]
    assert len(set(texts)) >= 30
    assert all(t and t == t.strip() for t in texts)
    lowered = {t.lower() for t in texts}
    assert any(t.startswith(("please", "could you", "can you")) for t in lowered)  # politeness
    assert any("should be" in t or "needs to be" in t or "i want" in t for t in lowered)  # other word order
    assert any(" out" in t for t in lowered)  # "pull the drawer out"
    assert any(t[0].isupper() for t in texts) and any(t[0].islower() for t in texts)
    assert any(t.endswith((".", "!", "?")) for t in texts) and any(t[-1].isalpha() for t in texts)


def test_compound_descriptions_join_every_change():
    rng = np.random.default_rng(1)
    labels = [OPEN, ("white_mug", "move", "up")]
    for _ in range(200):
        words = set(tokens(describe(labels, rng, typo_rate=0.0)))
        assert words & {"and", "then"}
        assert words & {"drawer"} and words & {"mug"}
        assert words & {"white"}


def test_do_nothing_phrasings():
    rng = np.random.default_rng(2)
    texts = {describe([DO_NOTHING], rng, typo_rate=0.0).lower().rstrip(".!?") for _ in range(300)}
    assert {"do nothing", "stay still", "don't move anything", "leave everything as it is"} <= {
        t.removeprefix("please ").removesuffix(" please").removesuffix(",") for t in texts
    }


def test_same_generator_state_gives_the_same_text_and_label_order_does_not_matter():
    labels = [OPEN, ("faucet", "turn", "right"), ("block_5", "move", "down")]
    a = [describe(labels, np.random.default_rng(s)) for s in range(50)]
    b = [describe(labels[::-1], np.random.default_rng(s)) for s in range(50)]
    assert a == b
    assert len(set(a)) > 40


def test_typo_rate_changes_only_spelling_at_about_the_requested_rate():
    rate, changed, eligible = 0.03, 0, 0
    for seed in range(3000):
        labels = random_label_sets(np.random.default_rng(10_000 + seed), 1)[0]
        rng_clean, rng_typo = np.random.default_rng(seed), np.random.default_rng(seed)
        clean = describe(labels, rng_clean, typo_rate=0.0)
        typo = describe(labels, rng_typo, typo_rate=rate)
        # Same sentence and same generator state afterwards, whatever the rate.
        assert rng_clean.random() == rng_typo.random()
        a, b = clean.split(), typo.split()
        assert len(a) == len(b)
        for wa, wb in zip(a, b):
            letters = wa.strip(",.!?;")
            if letters.isalpha() and len(letters) >= MIN_TYPO_LENGTH:
                eligible += 1
                changed += wa != wb
            else:
                assert wa == wb
    assert eligible > 10_000
    assert changed / eligible == pytest.approx(rate, abs=0.006)


def test_typos_never_empty_a_description():
    rng = np.random.default_rng(3)
    for labels in random_label_sets(rng, 300):
        text = describe(labels, rng, typo_rate=1.0)
        assert text.strip() and all(len(w.strip(",.!?;")) >= 1 for w in text.split())


# ---------------------------------------------------------------------- held out
def test_word_banks_share_only_function_and_direction_words():
    assert not content_tokens(TRAIN) & content_tokens(HELDOUT)
    assert {"shut", "rotate", "container", "tap", "dark", "cup"} <= content_tokens(HELDOUT)
    assert {"close", "turn", "drawer", "faucet", "black", "mug"} <= content_tokens(TRAIN)
    assert {"the", "left", "right", "up", "down"} <= SHARED_TOKENS


@pytest.mark.parametrize("typo_rate", [0.0, 0.03, 1.0])
def test_training_descriptions_never_contain_a_heldout_word(typo_rate):
    rng = np.random.default_rng(4)
    forbidden = content_tokens(HELDOUT)
    for labels in random_label_sets(rng, 3000):
        words = set(tokens(describe(labels, rng, "train", typo_rate)))
        assert not words & forbidden, (labels, words & forbidden)
        if typo_rate == 0.0:
            assert words <= bank_tokens(TRAIN)


@pytest.mark.parametrize("typo_rate", [0.0, 0.03, 1.0])
def test_heldout_descriptions_never_contain_a_training_word(typo_rate):
    rng = np.random.default_rng(5)
    forbidden = content_tokens(TRAIN)
    for labels in random_label_sets(rng, 3000):
        text = describe(labels, rng, "heldout", typo_rate)
        words = set(tokens(text))
        assert not words & forbidden, (labels, words & forbidden)
        if typo_rate == 0.0:
            assert words <= bank_tokens(HELDOUT)
            assert words & content_tokens(HELDOUT)  # every held-out description is recognisably held out


def test_clock_words_match_the_faucet_convention():
    """ "left" = lever to the camera's left = counter-clockwise seen from above; clock words are held out."""
    rng = np.random.default_rng(6)
    for direction, wrong in (("left", {"clockwise"}), ("right", {"counterclockwise", "anticlockwise"})):
        seen: set[str] = set()
        for _ in range(400):
            words = set(tokens(describe([("faucet", "turn", direction)], rng, "heldout", 0.0)))
            assert not words & wrong
            seen |= words
        assert seen & ({"counterclockwise", "anticlockwise"} if direction == "left" else {"clockwise"})


def test_mug_direction_phrases_match_the_image_directions():
    """up = away from the camera = toward the robot; down = toward the camera."""
    rng = np.random.default_rng(7)
    for direction in ("up", "down"):
        for _ in range(300):
            text = describe([("white_mug", "move", direction)], rng, typo_rate=0.0).lower()
            if direction == "up":
                assert "toward the camera" not in text and "away from the robot" not in text
            else:
                assert "toward the robot" not in text and "away from the camera" not in text


@pytest.mark.parametrize("category", REPHRASING_CATEGORIES)
def test_rephrasing_categories_change_only_what_they_name(category):
    rng = np.random.default_rng(8)
    heldout_verbs, heldout_nouns = content_tokens(HELDOUT, "verbs"), content_tokens(HELDOUT, "nouns")
    train_verbs, train_nouns = content_tokens(TRAIN, "verbs"), content_tokens(TRAIN, "nouns")
    new_verb = category in ("unseen_verb", "unseen_verb_noun")
    new_noun = category in ("unseen_noun", "unseen_verb_noun")
    for label in CHANGES:
        for _ in range(20):
            text = describe_category(label, category, rng)
            words = set(tokens(text))
            assert text == text.lower() and text == text.strip()
            assert bool(words & heldout_verbs) == new_verb, (category, text)
            assert bool(words & heldout_nouns) == new_noun, (category, text)
            assert bool(words & train_verbs) == (not new_verb), (category, text)
            assert bool(words & train_nouns) == (not new_noun), (category, text)


def test_rephrasing_examples_from_lorel_can_occur():
    rng = np.random.default_rng(9)

    def outputs(label, category):
        return {describe_category(label, category, rng) for _ in range(300)}

    assert "shut drawer" in outputs(("drawer", "close", None), "unseen_verb")
    assert "rotate faucet left" in outputs(("faucet", "turn", "left"), "unseen_verb")
    assert "close container" in outputs(("drawer", "close", None), "unseen_noun")
    assert "turn tap left" in outputs(("faucet", "turn", "left"), "unseen_noun")
    assert "move dark cup right" in outputs(("black_mug", "move", "right"), "unseen_noun")
    assert "close drawer" in outputs(("drawer", "close", None), "seen")


def test_do_nothing_categories():
    rng = np.random.default_rng(10)
    assert not set(tokens(describe_category(DO_NOTHING, "seen", rng))) & content_tokens(HELDOUT)
    for category in REPHRASING_CATEGORIES[1:]:
        assert set(tokens(describe_category(DO_NOTHING, category, rng))) <= bank_tokens(HELDOUT, "nothing")


# ---------------------------------------------------------------------- canonical
def test_canonical_equals_the_task_instruction():
    for task in DESK_TASKS.values():
        d = task.description
        assert canonical((d.object, d.change, d.direction)) == d.instruction()
    assert canonical(("drawer", "open", None)) == "open the drawer"
    assert canonical(("white_mug", "move", "up")) == "move the white mug up"
    assert canonical(("faucet", "turn", "left")) == "turn the faucet left"
    assert canonical(("button", "press", None)) == "push the button"
    assert canonical(DO_NOTHING) == "do nothing"
    assert canonical(("block_0", "move", "up")) == "move the blue block up"
    assert canonical(("block_3", "move", "left")) == "move the purple block left"
    assert canonical(("block_4", "move", "down")) == "move the second blue block down"
    for label in VOCAB:  # canonical instructions are training phrasings
        assert set(tokens(canonical(label))) <= bank_tokens(TRAIN)


def test_block_colour_names_match_the_scene_colours():
    expected_hue = {"blue": 220, "green": 135, "yellow": 50, "purple": 285}  # degrees
    assert len(BLOCK_COLOR_NAMES) == len(BLOCK_COLORS)
    for name, rgba in zip(BLOCK_COLOR_NAMES, BLOCK_COLORS):
        hue = colorsys.rgb_to_hsv(*rgba[:3])[0] * 360
        assert abs((hue - expected_hue[name] + 180) % 360 - 180) < 30, (name, hue)


# -------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "call,match",
    [
        (lambda r: describe([OPEN], r, split="test"), "split"),
        (lambda r: describe([OPEN], r, typo_rate=1.5), "typo_rate"),
        (lambda r: describe([], r), "at least one label"),
        (lambda r: describe([OPEN, DO_NOTHING], r), "DO_NOTHING"),
        (lambda r: describe([("drawer", "turn", "left")], r), "not a label"),
        (lambda r: describe([("lamp", "move", "up")], r), "lamp"),
        (lambda r: describe([("white_mug", "move", "sideways")], r), "not a label"),
        (lambda r: describe([("block_99", "move", "up")], r), "block"),
        (lambda r: describe_category(OPEN, "unseen_adverb", r), "category"),
        (lambda r: canonical(("drawer", "open")), "object, change, direction"),
    ],
)
def test_bad_inputs_are_explained(call, match):
    with pytest.raises(ValueError, match=match):
        call(np.random.default_rng(0))
