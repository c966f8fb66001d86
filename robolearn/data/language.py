"""Natural-language descriptions of hindsight labels, with the variety of crowd-sourced text.

LOReL's simulated labels were templated ("open drawer and move white mug up"); its real-robot
labels came from crowd workers and varied in verbs, nouns, word order, politeness, punctuation
and spelling. ``describe`` imitates that variety from fixed word banks, so that a reward model
trained on it does not overfit one phrasing, and it keeps a second, disjoint set of banks for
evaluation on phrasings training never sees (LOReL's rephrasing protocol).

Two splits:

* ``TRAIN``: what training descriptions are drawn from.
* ``HELDOUT``: other verbs, nouns (including colour words), sentence frames, passive templates,
  conjunctions and do-nothing phrasings. Every word of a held-out phrase is either in
  ``SHARED_TOKENS`` (articles, "to", "you", the plain direction words, ordinals) or never occurs in
  any training phrase, and vice versa. This is checked when the module is imported, and typos are
  never allowed to turn a word into one of the other split's words, so a training description
  can never contain a held-out word.

Directions follow ``sim.tasks.desk``: for mugs and blocks up = away from the camera (toward the
robot), down = toward the camera, left/right as seen in the image. For the faucet, "left" is the
lever swinging to the camera's left, which is counter-clockwise seen from above (the camera looks
down on the desk, so it sees the same sense of rotation); clock words are held-out phrasings only,
as in LOReL's free-form rephrasings ("turn faucet counterclockwise").

Everything is a pure function of the labels and the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from robolearn.data.labels import DO_NOTHING, FURNITURE, MOVE_DIRECTIONS, Label, label_to_task
from sim.scenes.desk import BLOCK_COLORS
from sim.tasks.desk import DESK_TASKS

__all__ = [
    "BLOCK_COLOR_NAMES",
    "HELDOUT",
    "REPHRASING_CATEGORIES",
    "SHARED_TOKENS",
    "SPLITS",
    "TRAIN",
    "WordBank",
    "bank_tokens",
    "canonical",
    "content_tokens",
    "describe",
    "describe_category",
    "tokens",
]

#: LOReL's rephrasing categories: the training instruction, then a held-out verb, a held-out noun, both
REPHRASING_CATEGORIES: tuple[str, ...] = ("seen", "unseen_verb", "unseen_noun", "unseen_verb_noun")
SPLITS: tuple[str, ...] = ("train", "heldout")

#: colour names of block_0, block_1, ... in the order of ``sim.scenes.desk.BLOCK_COLORS``; block i has
#: colour i % 4, and blocks beyond the fourth get an ordinal ("the second blue block")
BLOCK_COLOR_NAMES: tuple[str, ...] = ("blue", "green", "yellow", "purple")
if len(BLOCK_COLOR_NAMES) != len(BLOCK_COLORS):  # pragma: no cover - guards against a change in the scene
    raise ImportError(f"BLOCK_COLOR_NAMES has {len(BLOCK_COLOR_NAMES)} names for {len(BLOCK_COLORS)} block colours")
_ORDINALS: tuple[str, ...] = ("", "second ", "third ", "fourth ")  # enough for sim's limit of 8 blocks

# ------------------------------------------------------------------ sampling probabilities
# Crowd workers often drop articles; LOReL's own templated labels had none at all.
P_ARTICLE = 0.8
# Share of descriptions in the passive / "I want" word order ("the drawer should be opened").
P_DECLARATIVE = 0.2
# Share of descriptions wrapped in a politeness or request frame ("please ...", "could you ...").
P_FRAME = 0.4
# Capitalisation: first letter upper-cased with this probability, otherwise all lower case.
P_CAPITALIZED = 0.5
# Trailing punctuation of statements and of questions ("could you ...?"); the rest gets none.
STATEMENT_ENDINGS: tuple[tuple[str, float], ...] = (("", 0.5), (".", 0.4), ("!", 0.1))
QUESTION_ENDINGS: tuple[tuple[str, float], ...] = (("?", 0.6), ("", 0.4))
# Words shorter than this never get typos: dropping a letter of a two-letter word leaves a fragment.
MIN_TYPO_LENGTH = 3

Verb = tuple[str, str]
"""(imperative pattern, participle pattern): ``("pull {obj} out", "pulled out")``; ``{dir}`` marks the
direction for moves and turns, e.g. ``("move {obj} {dir}", "moved {dir}")``."""


@dataclass(frozen=True)
class WordBank:
    """The phrasings one split draws from.

    Attributes:
        verbs: (object kind, change) → verb forms. Kinds: drawer, cabinet_door, faucet, button,
            mug, block.
        nouns: object kind → head nouns ("drawer", "coffee mug"); mugs and blocks also get a colour.
        colours: colour key (white, black, blue, ...) → adjectives.
        directions: (direction kind "free" | "faucet", direction) → phrases ("to the left").
        nothing: complete do-nothing clauses.
        declaratives: passive / desire templates with ``{obj}`` (noun phrase) and ``{done}`` (participle).
        frames: request frames around the whole sentence ``{s}``, each with whether it is a question.
        joiners: what joins two clauses of a compound description.
    """

    verbs: Mapping[tuple[str, str], tuple[Verb, ...]]
    nouns: Mapping[str, tuple[str, ...]]
    colours: Mapping[str, tuple[str, ...]]
    directions: Mapping[tuple[str, str], tuple[str, ...]]
    nothing: tuple[str, ...]
    declaratives: tuple[str, ...]
    frames: tuple[tuple[str, bool], ...]
    joiners: tuple[str, ...]


_MOVE_TRAIN: tuple[Verb, ...] = (
    ("move {obj} {dir}", "moved {dir}"),
    ("push {obj} {dir}", "pushed {dir}"),
    ("slide {obj} {dir}", "slid {dir}"),
    ("shift {obj} {dir}", "shifted {dir}"),
    ("nudge {obj} {dir}", "nudged {dir}"),
)
_MOVE_HELDOUT: tuple[Verb, ...] = (
    ("shove {obj} {dir}", "shoved {dir}"),
    ("scoot {obj} {dir}", "scooted {dir}"),
    ("relocate {obj} {dir}", "relocated {dir}"),
    ("drag {obj} {dir}", "dragged {dir}"),
)

#: Directions both splits use (and ``describe_category`` uses for every category, so that a category
#: changes only the verb or the noun, as in LOReL's "rotate faucet left").
SHARED_DIRECTIONS: Mapping[tuple[str, str], tuple[str, ...]] = {
    (kind, d): ((d, f"to the {d}") if d in ("left", "right") else (d,))
    for kind in ("free", "faucet")
    for d in MOVE_DIRECTIONS
    if kind == "free" or d in ("left", "right")
}

TRAIN = WordBank(
    verbs={
        ("drawer", "open"): (
            ("open {obj}", "opened"),
            ("pull {obj} open", "pulled open"),
            ("pull {obj} out", "pulled out"),
            ("pull out {obj}", "pulled out"),
            ("slide {obj} open", "slid open"),
            ("slide {obj} out", "slid out"),
        ),
        ("drawer", "close"): (
            ("close {obj}", "closed"),
            ("push {obj} closed", "pushed closed"),
            ("push {obj} in", "pushed in"),
            ("push in {obj}", "pushed in"),
            ("slide {obj} closed", "slid closed"),
        ),
        ("cabinet_door", "open"): (
            ("open {obj}", "opened"),
            ("swing {obj} open", "swung open"),
            ("pull {obj} open", "pulled open"),
        ),
        ("cabinet_door", "close"): (
            ("close {obj}", "closed"),
            ("swing {obj} closed", "swung closed"),
            ("push {obj} closed", "pushed closed"),
        ),
        ("faucet", "turn"): (
            ("turn {obj} {dir}", "turned {dir}"),
            ("twist {obj} {dir}", "twisted {dir}"),
            ("swivel {obj} {dir}", "swiveled {dir}"),
            ("swing {obj} {dir}", "swung {dir}"),
        ),
        ("button", "press"): (
            ("push {obj}", "pushed"),
            ("press {obj}", "pressed"),
            ("press down on {obj}", "pressed down"),
            ("push down {obj}", "pushed down"),
            ("hit {obj}", "hit"),
            ("click {obj}", "clicked"),
        ),
        ("mug", "move"): _MOVE_TRAIN,
        ("block", "move"): _MOVE_TRAIN,
    },
    nouns={
        "drawer": ("drawer", "desk drawer", "small drawer", "sliding drawer"),
        "cabinet_door": ("cabinet door", "cabinet", "cupboard door", "door"),
        "faucet": ("faucet", "faucet handle", "faucet lever", "spigot"),
        "button": ("button", "round button", "desk button"),
        "mug": ("mug", "coffee mug"),
        "block": ("block", "toy block"),
    },
    colours={
        "white": ("white",),
        "black": ("black",),
        "blue": ("blue",),
        "green": ("green",),
        "yellow": ("yellow",),
        "purple": ("purple",),
    },
    directions={
        **SHARED_DIRECTIONS,
        ("free", "up"): ("up", "upward", "toward the robot", "away from the camera"),
        ("free", "down"): ("down", "downward", "toward the camera", "away from the robot"),
        ("free", "left"): SHARED_DIRECTIONS[("free", "left")] + ("leftward",),
        ("free", "right"): SHARED_DIRECTIONS[("free", "right")] + ("rightward",),
    },
    nothing=(
        "do nothing",
        "stay still",
        "don't move anything",
        "leave everything as it is",
        "don't touch anything",
        "keep everything where it is",
        "nothing should change",
    ),
    declaratives=(
        "{obj} should be {done}",
        "{obj} needs to be {done}",
        "I want {obj} {done}",
        "I'd like {obj} {done}",
        "get {obj} {done}",
    ),
    frames=(
        ("please {s}", False),
        ("{s} please", False),
        ("{s}, please", False),
        ("could you {s}", True),
        ("can you {s}", True),
        ("could you please {s}", True),
        ("try to {s}", False),
    ),
    joiners=(" and ", ", and ", " and then ", ", then ", " then "),
)

HELDOUT = WordBank(
    verbs={
        ("drawer", "open"): (("extend {obj}", "extended"), ("tug {obj} outward", "tugged outward")),
        ("drawer", "close"): (("shut {obj}", "shut"), ("retract {obj}", "retracted")),
        ("cabinet_door", "open"): (("unlatch {obj}", "unlatched"), ("fling {obj} wide", "flung wide")),
        ("cabinet_door", "close"): (("shut {obj}", "shut"), ("latch {obj}", "latched")),
        ("faucet", "turn"): (
            ("rotate {obj} {dir}", "rotated {dir}"),
            ("spin {obj} {dir}", "spun {dir}"),
            ("crank {obj} {dir}", "cranked {dir}"),
        ),
        ("button", "press"): (("depress {obj}", "depressed"), ("poke {obj}", "poked"), ("activate {obj}", "activated")),
        ("mug", "move"): _MOVE_HELDOUT,
        ("block", "move"): _MOVE_HELDOUT,
    },
    nouns={
        "drawer": ("container", "compartment"),
        "cabinet_door": ("hatch", "locker"),
        "faucet": ("tap", "water tap"),
        "button": ("switch", "buzzer"),
        "mug": ("cup", "teacup"),
        "block": ("cube", "brick"),
    },
    colours={
        "white": ("pale", "ivory"),
        "black": ("dark",),
        "blue": ("azure",),
        "green": ("emerald",),
        "yellow": ("golden",),
        "purple": ("violet",),
    },
    directions={
        **SHARED_DIRECTIONS,
        ("faucet", "left"): SHARED_DIRECTIONS[("faucet", "left")] + ("counterclockwise", "anticlockwise"),
        ("faucet", "right"): SHARED_DIRECTIONS[("faucet", "right")] + ("clockwise",),
    },
    nothing=("freeze", "remain idle", "wait", "hold position", "take no action", "stand by"),
    declaratives=("{obj} ought to be {done}", "{obj} must be {done}", "{obj} has to be {done}"),
    frames=(
        ("kindly {s}", False),
        ("would you {s}", True),
        ("I need you to {s}", False),
        ("your job is to {s}", False),
        ("the goal is to {s}", False),
    ),
    joiners=(", after that ", "; also ", ", afterwards "),
)

_BANKS: dict[str, WordBank] = {"train": TRAIN, "heldout": HELDOUT}

#: Words both splits may produce: articles and pronouns of the frames, "to"/"be" of templates, plain
#: direction words and block ordinals. Every other word belongs to exactly one split.
SHARED_TOKENS: frozenset[str] = frozenset(
    {"the", "to", "you", "i", "is", "be"}
    | {w for phrases in SHARED_DIRECTIONS.values() for p in phrases for w in p.split()}
    | {o.strip() for o in _ORDINALS if o}
)

_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")


def tokens(text: str) -> list[str]:
    """Lower-case words of ``text`` ("Don't push!" → ["don't", "push"])."""
    return _TOKEN.findall(text.lower())


def _strip_fields(pattern: str) -> str:
    return re.sub(r"\{[a-z]+\}", " ", pattern)


def bank_tokens(bank: WordBank, part: str = "all") -> frozenset[str]:
    """Every word ``bank`` can produce in ``part``: "verbs", "nouns" (colours included), "directions",
    "nothing", "templates" (declaratives, frames, joiners) or "all". Typos aside, a description drawn
    from ``bank`` only contains these words."""
    parts: dict[str, list[str]] = {
        "verbs": [f for forms in bank.verbs.values() for v in forms for f in v],
        # Noun phrases also take the article and, for the fifth block on, an ordinal.
        "nouns": [n for ns in bank.nouns.values() for n in ns]
        + [c for cs in bank.colours.values() for c in cs]
        + ["the"]
        + list(_ORDINALS),
        "directions": [d for ds in bank.directions.values() for d in ds],
        "nothing": list(bank.nothing),
        "templates": list(bank.declaratives) + [f for f, _ in bank.frames] + list(bank.joiners),
    }
    if part != "all" and part not in parts:
        raise ValueError(f"unknown bank part {part!r}; choose from {sorted(parts) + ['all']}")
    chosen = [p for name, ps in parts.items() if part in ("all", name) for p in ps]
    return frozenset(w for p in chosen for w in tokens(_strip_fields(p)))


def content_tokens(bank: WordBank, part: str = "all") -> frozenset[str]:
    """``bank_tokens`` without ``SHARED_TOKENS``: the words that identify the split."""
    return bank_tokens(bank, part) - SHARED_TOKENS


def _check_banks() -> None:
    """Raise if the splits share a non-shared word, or a bank lacks or misuses an entry.

    This is what makes the held-out phrasings held out: run at import, so an edit of a bank that
    leaks a word into the other split fails immediately.
    """
    for split, bank in _BANKS.items():
        if (
            set(bank.verbs) != set(TRAIN.verbs)
            or set(bank.nouns) != set(TRAIN.nouns)
            or set(bank.colours) != set(TRAIN.colours)
            or set(bank.directions) != set(TRAIN.directions)
        ):
            raise ImportError(f"{split} word bank must cover the same objects, colours and directions as TRAIN")
        for (kind, change), forms in bank.verbs.items():
            directional = change in ("move", "turn")
            for imperative, participle in forms:
                if "{obj}" not in imperative or any(("{dir}" in f) != directional for f in (imperative, participle)):
                    raise ImportError(
                        f"{split} verb {imperative!r} / {participle!r} for {kind} {change} must have "
                        f"{{obj}}{' and {dir}' if directional else ' and no {dir}'}"
                    )
        phrases = (
            [d for d in bank.declaratives]
            + [f for f, _ in bank.frames]
            + list(bank.joiners)
            + list(bank.nothing)
            + [n for ns in bank.nouns.values() for n in ns]
            + [c for cs in bank.colours.values() for c in cs]
            + [f[0] for forms in bank.verbs.values() for f in forms]
        )
        for phrase in phrases:
            if not set(tokens(_strip_fields(phrase))) - SHARED_TOKENS:
                raise ImportError(f"{split} phrase {phrase!r} has no word of its own to tell the splits apart")
    leaked = content_tokens(TRAIN) & content_tokens(HELDOUT)
    if leaked:
        raise ImportError(f"words in both the train and held-out word banks: {sorted(leaked)}")
    both = content_tokens(HELDOUT, "verbs") & content_tokens(HELDOUT, "nouns")
    if both:  # the categories are told apart by these words, so a word must not be both verb and noun
        raise ImportError(f"held-out words that are both verbs and nouns: {sorted(both)}")


_check_banks()

# Words a typo must not create: training text must never show a held-out word, and vice versa.
_FORBIDDEN_BY_TYPO: dict[str, frozenset[str]] = {"train": content_tokens(HELDOUT), "heldout": content_tokens(TRAIN)}


# ---------------------------------------------------------------------------- labels → words
def _kind(obj: str) -> str:
    """Word-bank kind of a label's object; ValueError for objects there are no words for."""
    if obj in FURNITURE:
        return obj
    if obj in ("white_mug", "black_mug"):
        return "mug"
    if re.fullmatch(r"block_\d+", obj):
        return "block"
    raise ValueError(f"no words for object {obj!r}; known: {sorted(FURNITURE)}, white_mug, black_mug, block_<i>")


def _check_label(label: Label) -> Label:
    """``label`` as a tuple, or a ValueError if it is not one the label rules can produce."""
    try:
        obj, change, direction = label
    except (TypeError, ValueError):
        raise ValueError(f"a label is (object, change, direction), got {label!r}") from None
    label = (obj, change, direction)
    if label == DO_NOTHING:
        return label
    kind = _kind(obj)
    if kind in ("mug", "block"):
        valid = change == "move" and direction in MOVE_DIRECTIONS
    else:
        valid = label in FURNITURE[kind]
    if not valid:
        raise ValueError(f"{label!r} is not a label the hindsight rules produce for {obj!r}")
    if kind == "block":
        _block_parts(obj)  # raises for too many blocks
    return label


def _block_parts(obj: str) -> tuple[str, str]:
    """(ordinal prefix, colour key) of ``block_<i>``."""
    i = int(obj.split("_")[1])
    ordinal = i // len(BLOCK_COLOR_NAMES)
    if ordinal >= len(_ORDINALS):
        raise ValueError(f"no words for {obj!r}: at most {len(_ORDINALS) * len(BLOCK_COLOR_NAMES)} blocks are named")
    return _ORDINALS[ordinal], BLOCK_COLOR_NAMES[i % len(BLOCK_COLOR_NAMES)]


def _pick(rng: np.random.Generator, options: Sequence):
    """One element of ``options``, uniformly (rng.choice would turn tuples into arrays)."""
    return options[int(rng.integers(len(options)))]


def _pick_weighted(rng: np.random.Generator, options: Sequence[tuple[str, float]]) -> str:
    weights = np.array([w for _, w in options])
    return options[int(rng.choice(len(options), p=weights / weights.sum()))][0]


def _noun_phrase(obj: str, bank: WordBank, rng: np.random.Generator) -> str:
    """E.g. "the white coffee mug", "drawer", "the second blue block"."""
    kind = _kind(obj)
    noun = _pick(rng, bank.nouns[kind])
    if kind == "mug":
        noun = f"{_pick(rng, bank.colours[obj[: -len('_mug')]])} {noun}"
    elif kind == "block":
        ordinal, colour = _block_parts(obj)
        noun = f"{ordinal}{_pick(rng, bank.colours[colour])} {noun}"
    return f"the {noun}" if rng.random() < P_ARTICLE else noun


def _clause(
    label: Label,
    verbs: WordBank,
    nouns: WordBank,
    directions: Mapping[tuple[str, str], tuple[str, ...]],
    rng: np.random.Generator,
    declarative: bool,
    templates: WordBank,
) -> str:
    """One clause for one label; verbs, nouns and templates may come from different banks."""
    if label == DO_NOTHING:
        return _pick(rng, verbs.nothing)
    obj, change, direction = label
    kind = _kind(obj)
    imperative, participle = _pick(rng, verbs.verbs[(kind, change)])
    phrase = _noun_phrase(obj, nouns, rng)
    where = _pick(rng, directions[("faucet" if kind == "faucet" else "free", direction)]) if direction else ""
    if declarative:
        text = _pick(rng, templates.declaratives).format(obj=phrase, done=participle.format(dir=where))
    else:
        text = imperative.format(obj=phrase, dir=where)
    return " ".join(text.split())


def _add_typos(text: str, rng: np.random.Generator, rate: float, forbidden: frozenset[str]) -> str:
    """Swap, drop or duplicate one letter of each word (≥ MIN_TYPO_LENGTH letters) with probability ``rate``.

    Every typo changes its word and leaves it at least two letters long, so text never gets empty. A
    typo that would produce a word of ``forbidden`` (the other split's words) is not made.
    """

    def typo(match: re.Match) -> str:
        word = match.group(0)
        if "'" in word or len(word) < MIN_TYPO_LENGTH or rng.random() >= rate:
            return word
        kind = int(rng.integers(3))
        i = int(rng.integers(len(word)))
        swappable = [j for j in range(len(word) - 1) if word[j] != word[j + 1]]
        if kind == 0 and swappable:  # swap two different neighbouring letters
            j = swappable[i % len(swappable)]
            new = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
        elif kind == 1:  # drop a letter
            new = word[:i] + word[i + 1 :]
        else:  # duplicate a letter (also the fallback for words like "ooo" with nothing to swap)
            new = word[:i] + word[i] + word[i:]
        return word if new.lower() in forbidden else new

    return re.sub(r"[A-Za-z]+(?:'[A-Za-z]+)?", typo, text)


def _sorted_labels(labels: Sequence[Label]) -> list[Label]:
    """Validated, de-duplicated labels in a fixed order, so that the output depends only on the set."""
    # cast: tuple() of a Label is that Label (labels may arrive as lists from JSON; _check_label checks the shape)
    checked = sorted({_check_label(cast(Label, tuple(l))) for l in labels}, key=lambda l: (l[0], l[1], l[2] or ""))
    if not checked:
        raise ValueError("describe() needs at least one label; use [DO_NOTHING] for an unchanged scene")
    if DO_NOTHING in checked and len(checked) > 1:
        raise ValueError(f"DO_NOTHING cannot be combined with other labels: {checked}")
    return checked


def describe(labels: Sequence[Label], rng: np.random.Generator, split: str = "train", typo_rate: float = 0.03) -> str:
    """A natural-language description of ``labels`` (all changes of one episode), drawn with variety.

    Args:
        labels: hindsight labels, e.g. ``hindsight_labels(...)``; ``[DO_NOTHING]`` for no change. Their
            order does not matter: clause order is drawn at random.
        rng: the only source of randomness; the same generator state gives the same text.
        split: "train" (training phrasings) or "heldout" (phrasings that "train" never produces).
        typo_rate: probability that a word of at least ``MIN_TYPO_LENGTH`` letters gets one typo. The
            rate never changes which sentence is drawn, only its spelling.

    Returns:
        E.g. "Could you pull the desk drawer out and then nudge the white mug to the left?"
    """
    if split not in _BANKS:
        raise ValueError(f"unknown split {split!r}; choose from {list(SPLITS)}")
    if not 0.0 <= typo_rate <= 1.0:
        raise ValueError(f"typo_rate={typo_rate!r} must be in [0, 1]")
    bank = _BANKS[split]
    ordered = _sorted_labels(labels)
    # Typos come from their own stream, seeded by one draw made whatever the rate: the sentence and the
    # caller's generator state afterwards are then the same for every typo_rate.
    typo_rng = np.random.default_rng(int(rng.integers(2**63)))
    declarative = ordered != [DO_NOTHING] and rng.random() < P_DECLARATIVE
    clauses = [
        _clause(ordered[int(i)], bank, bank, bank.directions, rng, declarative, bank)
        for i in rng.permutation(len(ordered))
    ]
    text = clauses[0]
    for clause in clauses[1:]:
        text += _pick(rng, bank.joiners) + clause
    question = False
    # A request frame around a passive sentence ("could you the drawer should be ...") is not English.
    if not declarative and rng.random() < P_FRAME:
        frame, question = _pick(rng, bank.frames)
        text = frame.format(s=text)
    text += _pick_weighted(rng, QUESTION_ENDINGS if question else STATEMENT_ENDINGS)
    text = text[0].upper() + text[1:] if rng.random() < P_CAPITALIZED else text.lower()
    return _add_typos(text, typo_rng, typo_rate, _FORBIDDEN_BY_TYPO[split])


def describe_category(label: Label, category: str, rng: np.random.Generator) -> str:
    """A single-label instruction in one of LOReL's rephrasing categories (``REPHRASING_CATEGORIES``).

    "seen" uses training verbs and nouns; "unseen_verb" held-out verbs with training nouns;
    "unseen_noun" training verbs with held-out nouns (colour words count as nouns: "dark cup");
    "unseen_verb_noun" both held out. The sentence is a plain imperative clause in lower case
    without typos or frames, with the plain direction words, so that only the verb or the noun
    changes between categories (e.g. "shut drawer", "rotate the faucet left", "move dark cup right").
    ``DO_NOTHING`` has no verb/noun split: "seen" gives a training phrasing, the other categories a
    held-out one.
    """
    if category not in REPHRASING_CATEGORIES:
        raise ValueError(f"unknown rephrasing category {category!r}; choose from {list(REPHRASING_CATEGORIES)}")
    label = _check_label(label)
    verbs = HELDOUT if category in ("unseen_verb", "unseen_verb_noun") else TRAIN
    nouns = HELDOUT if category in ("unseen_noun", "unseen_verb_noun") else TRAIN
    if label == DO_NOTHING:
        verbs = TRAIN if category == "seen" else HELDOUT
    return _clause(label, verbs, nouns, SHARED_DIRECTIONS, rng, declarative=False, templates=TRAIN)


def canonical(label: Label) -> str:
    """The canonical instruction of ``label``: ``TaskDescription.instruction()`` for task labels (e.g.
    "open the drawer", "push the button"), "do nothing" for ``DO_NOTHING`` and e.g. "move the blue block up"
    for blocks."""
    label = _check_label(label)
    task = label_to_task(label)
    if task is not None:
        return DESK_TASKS[task].description.instruction()
    if label == DO_NOTHING:
        return "do nothing"
    obj, _change, direction = label
    if _kind(obj) == "block":
        ordinal, colour = _block_parts(obj)
        return f"move the {ordinal}{colour} block {direction}"
    raise ValueError(f"no canonical instruction for {label!r}")  # pragma: no cover - _check_label rejects these
