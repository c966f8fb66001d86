"""The slots of a desk instruction, read from closed word lists: object, mug colour, direction, open/close.

A sentence embedding puts opposites side by side ("open"/"shut", "up"/"down", "pale"/"dark" differ by one
word in otherwise equal sentences), so nearest-neighbour matching on it alone confuses exactly the part of
an instruction that decides the task. ``parse_instruction`` reads those parts from the word lists of
``conf/instructions/lexicon.yaml`` with a few rules a reader applies without thinking:

* a word one typo away from a listed word counts as it, unless it is a real word ("rigth" → right,
  "lift" stays lift);
* phrasal particles and idioms are not directions ("pick up", "right away", "open up");
* "toward <place>" and "away from <place>" give a direction through the place ("toward the viewer" → down);
* words after a negation in the same clause are dropped ("don't open it, close it");
* what the sentence says about how things are now is not what it asks for ("the drawer is open, shut it"),
  unless it is said as a wish ("make sure it is shut");
* an object word in a verb's place is a verb ("tap the button", "switch the tap left").

What the slots leave open (which mug, which way) is decided by ``robolearn.instructions``, which says so
rather than guessing.

Example:
    >>> slots = parse_instruction("Could you nudge the pale cup toward the camera?", Lexicon.load())
    >>> slots.objects, slots.colours, slots.directions
    (('mug',), ('white',), ('down',))
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import OmegaConf

from robolearn.config import ConfigError
from robolearn.paths import conf_dir

__all__ = ["DIRECTION_OPPOSITE", "InstructionSlots", "Lexicon", "parse_instruction", "words"]

#: the direction a place word points away from
DIRECTION_OPPOSITE: Mapping[str, str] = {"left": "right", "right": "left", "up": "down", "down": "up"}
#: "toward" a place at the camera's side of the desk is down; at the robot's side, up
_TOWARD: Mapping[str, str] = {"near": "down", "far": "up"}
#: the mug colours, each with the other ("the cup that isn't black" is the white one)
_MUG_COLOURS: Mapping[str, str] = {"white": "black", "black": "white"}
#: the kinds of word that say what to do (rather than to what): what negation and state words cancel
_ACTION_KINDS = frozenset({"change", "weak_change", "direction", "vague", "toward", "comparative", "away_from"})
#: the directions a vague direction word leaves open
_VAGUE: Mapping[str, tuple[str, ...]] = {"sideways": ("left", "right"), "forward": ("up", "down")}
#: words that make the noun after them a noun, and the word before them a verb ("tap the button")
_DETERMINERS = frozenset({"the", "a", "an", "that", "this", "these", "those", "its", "it", "my", "your", "both"})
#: the kinds of lexicon word a typo may be read as, most likely first (a noun or colour is what an instruction
#: cannot do without; "balck" is one swap from "black" and one drop from "back")
_TYPO_RANK: tuple[str, ...] = (
    "object",
    "colour",
    "direction",
    "change",
    "weak_change",
    "anchor",
    "negation",
    "toward",
    "away_from",
    "state",
)
#: shortest word the typo rule corrects (a two-letter word is too easily another word); a correction may be one
#: letter shorter ("upp" → up)
_MIN_TYPO_LENGTH = 3

#: "'s" that is "is", not a possessive
_IS_CONTRACTIONS = frozenset({"it's", "that's", "there's", "what's", "here's", "he's", "she's", "who's", "one's"})
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[,;.!?:]")


def words(text: str) -> list[str]:
    """Lower-case words and clause marks of ``text``.

    Hyphens join nothing ("left-hand" → "left hand"), a dash between spaces ends a clause like a comma, a
    possessive loses its "'s" ("the tap's lever" → "the tap lever") while "it's" is "it is", and curly quotes are
    plain.
    """
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"\s+[-\u2013\u2014]+\s+|--+|->|=>|\u2014|\u2013", " , ", text)
    text = text.replace("-", " ").replace("_", " ")
    out = []
    for w in _WORD.findall(text):
        if w in _IS_CONTRACTIONS:
            out += [w[:-2], "is"]
        else:
            out.append(w[:-2] if w.endswith("'s") else w)
    return out


def _phrases(raw: object, where: str) -> tuple[tuple[str, ...], ...]:
    """A lexicon list as tuples of words, or a ConfigError naming ``where``."""
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"lexicon {where} must be a non-empty list of words or phrases, got {raw!r}")
    out = []
    for p in raw:
        if not isinstance(p, str) or not words(p):
            raise ConfigError(f"lexicon {where} has {p!r}, which is not a word or phrase")
        out.append(tuple(words(p)))
    return tuple(out)


def _groups(raw: object, where: str, keys: Collection[str] | None = None) -> dict[str, tuple[tuple[str, ...], ...]]:
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(f"lexicon {where} must be a mapping of names to word lists, got {raw!r}")
    if keys is not None and set(raw) != set(keys):
        raise ConfigError(f"lexicon {where} must have exactly the keys {sorted(keys)}, got {sorted(map(str, raw))}")
    return {str(k): _phrases(v, f"{where}.{k}") for k, v in raw.items()}


def _colour_of(raw: object) -> dict[str, str]:
    if not isinstance(raw, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise ConfigError(f"lexicon colour_of must map object families to one colour name each, got {raw!r}")
    return dict(raw)


@dataclass(frozen=True)
class Lexicon:
    """The word lists of ``conf/instructions/lexicon.yaml`` (documented there), validated.

    Every phrase is a tuple of ``words``. ``objects`` maps an object family (drawer, cabinet, faucet, button,
    mug, block) to the phrases naming it; ``colours`` a mug colour (white, black) to adjectives;
    ``directions`` an image direction to phrases; ``anchors`` near / far to places; ``changes`` and
    ``weak_changes`` open / close to words.
    """

    objects: Mapping[str, tuple[tuple[str, ...], ...]]
    colours: Mapping[str, tuple[tuple[str, ...], ...]]
    directions: Mapping[str, tuple[tuple[str, ...], ...]]
    vague_directions: Mapping[str, tuple[tuple[str, ...], ...]]
    anchors: Mapping[str, tuple[tuple[str, ...], ...]]
    toward: tuple[tuple[str, ...], ...]
    comparatives: tuple[tuple[str, ...], ...]
    away_from: tuple[tuple[str, ...], ...]
    anchor_window: int
    changes: Mapping[str, tuple[tuple[str, ...], ...]]
    weak_changes: Mapping[str, tuple[tuple[str, ...], ...]]
    neutral: tuple[tuple[str, ...], ...]
    negations: tuple[tuple[str, ...], ...]
    state: tuple[tuple[str, ...], ...]
    desire: tuple[tuple[str, ...], ...]
    clause_breaks: tuple[tuple[str, ...], ...]
    colour_of: Mapping[str, str]
    absent_objects: tuple[tuple[str, ...], ...]
    verb_openers: tuple[tuple[str, ...], ...]
    pronouns: tuple[tuple[str, ...], ...]
    unnamed_object_margin: float
    #: phrase → (kind, value); built from the lists, each phrase in exactly one of them
    table: Mapping[tuple[str, ...], tuple[str, str]] = field(init=False, repr=False, compare=False)
    #: the longest phrase, in words
    longest: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        table: dict[tuple[str, ...], tuple[str, str]] = {}
        entries: list[tuple[str, str, tuple[tuple[str, ...], ...]]] = [
            *[("object", k, v) for k, v in self.objects.items()],
            *[("colour", k, v) for k, v in self.colours.items()],
            *[("direction", k, v) for k, v in self.directions.items()],
            *[("anchor", k, v) for k, v in self.anchors.items()],
            *[("vague", k, v) for k, v in self.vague_directions.items()],
            *[("change", k, v) for k, v in self.changes.items()],
            *[("weak_change", k, v) for k, v in self.weak_changes.items()],
            ("toward", "", self.toward),
            ("comparative", "", self.comparatives),
            ("absent", "", self.absent_objects),
            ("away_from", "", self.away_from),
            ("neutral", "", self.neutral),
            ("negation", "", self.negations),
            ("state", "", self.state),
            ("desire", "", self.desire),
            ("break", "", self.clause_breaks),
            ("pronoun", "", self.pronouns),
        ]
        for kind, value, phrases in entries:
            for p in phrases:
                if p in table and table[p] != (kind, value):
                    raise ConfigError(
                        f"lexicon phrase {' '.join(p)!r} is listed as {'/'.join(filter(None, table[p]))} and as "
                        f"{'/'.join(filter(None, (kind, value)))}; keep it in one list"
                    )
                table[p] = (kind, value)
        for name, n in (("anchor_window", self.anchor_window),):
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ConfigError(f"lexicon {name} must be a whole number of words ≥ 1, got {n!r}")
        m = self.unnamed_object_margin
        if isinstance(m, bool) or not isinstance(m, (int, float)) or not 0.0 <= m <= 2.0:
            raise ConfigError(f"lexicon unnamed_object_margin must be a cosine difference in [0, 2], got {m!r}")
        for family, colour in self.colour_of.items():
            if family not in self.objects or colour not in self.colours:
                raise ConfigError(
                    f"lexicon colour_of: {family}: {colour} names an unknown family or colour; families "
                    f"{sorted(self.objects)}, colours {sorted(self.colours)}"
                )
        object.__setattr__(self, "table", table)
        object.__setattr__(self, "longest", max(len(p) for p in table))

    @classmethod
    def load(cls, path: str | Path | None = None) -> Lexicon:
        """The lexicon in ``path`` (default ``conf/instructions/lexicon.yaml``).

        Raises:
            ConfigError: the file is missing or unreadable, a list is missing or empty, or a phrase is in two
                lists (the message names it).
        """
        path = Path(path) if path is not None else Path(conf_dir()) / "instructions" / "lexicon.yaml"
        try:
            raw = OmegaConf.to_container(OmegaConf.load(path))
        except Exception as e:  # any unreadable file gets the same one-line answer
            raise ConfigError(f"cannot read the instruction lexicon {path}: {e}; fix or restore the file") from None
        if not isinstance(raw, Mapping):
            raise ConfigError(f"the instruction lexicon {path} must be a mapping of word lists")
        need = [f.name for f in cls.__dataclass_fields__.values() if f.init]
        missing = [k for k in need if k not in raw]
        extra = sorted(set(map(str, raw)) - set(need))
        if missing or extra:
            raise ConfigError(
                f"the instruction lexicon {path} "
                + (f"lacks {missing}" if missing else "")
                + (" and " if missing and extra else "")
                + (f"has unknown keys {extra}" if extra else "")
                + f"; its keys are {need}"
            )
        return cls(
            objects=_groups(raw["objects"], "objects"),
            colours=_groups(raw["colours"], "colours"),
            directions=_groups(raw["directions"], "directions", DIRECTION_OPPOSITE),
            vague_directions=_groups(raw["vague_directions"], "vague_directions", _VAGUE),
            anchors=_groups(raw["anchors"], "anchors", _TOWARD),
            toward=_phrases(raw["toward"], "toward"),
            comparatives=_phrases(raw["comparatives"], "comparatives"),
            away_from=_phrases(raw["away_from"], "away_from"),
            anchor_window=raw["anchor_window"],  # checked in __post_init__
            changes=_groups(raw["changes"], "changes", ("open", "close")),
            weak_changes=_groups(raw["weak_changes"], "weak_changes", ("open", "close")),
            neutral=_phrases(raw["neutral"], "neutral"),
            negations=_phrases(raw["negations"], "negations"),
            state=_phrases(raw["state"], "state"),
            desire=_phrases(raw["desire"], "desire"),
            clause_breaks=_phrases(raw["clause_breaks"], "clause_breaks"),
            colour_of=_colour_of(raw["colour_of"]),
            absent_objects=_phrases(raw["absent_objects"], "absent_objects"),
            verb_openers=_phrases(raw["verb_openers"], "verb_openers"),
            pronouns=_phrases(raw["pronouns"], "pronouns"),
            unnamed_object_margin=raw["unnamed_object_margin"],
        )

    def single_words(self) -> dict[str, int]:
        """Every one-word entry a typo may be corrected to → its rank when a typo is near several (0 first:
        object names, then colours, directions, open/close words; place and function words last)."""
        return {
            p[0]: _TYPO_RANK.index(kind) for p, (kind, _) in self.table.items() if len(p) == 1 and kind in _TYPO_RANK
        }


@dataclass(frozen=True)
class InstructionSlots:
    """What an instruction says about the desk task it asks for.

    Attributes:
        objects: object families named, in the order of mention (e.g. ``("mug",)``).
        pronoun: whether a pronoun stands for the object ("open it").
        absent_part: whether an object word named a part of something not on the desk ("the fridge door").
        colours: mug colours named, in the order of mention.
        directions: image directions asked for (left, right, up, down), in the order said, each once.
        direction_options: with no direction said, the directions a vague word leaves open ("sideways": left,
            right); empty otherwise.
        opens: evidence for opening (strong words 2, weak words 1); ``closes`` the same for closing.
        corrected: (typo, word) pairs the typo rule read.
    """

    objects: tuple[str, ...] = ()
    pronoun: bool = False
    absent_part: bool = False
    colours: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()
    direction_options: tuple[str, ...] = ()
    opens: int = 0
    closes: int = 0
    corrected: tuple[tuple[str, str], ...] = ()

    @property
    def change(self) -> str | None:
        """``open`` or ``close`` when the evidence says one of them, else None."""
        if self.opens > self.closes:
            return "open"
        if self.closes > self.opens:
            return "close"
        return None


def _typo_distance_one(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by one dropped, added or changed letter, or two adjacent letters swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _typo_key(word: str, typo: str, vocabulary: Mapping[str, int]) -> tuple[bool, int]:
    """Sort key of a correction: the same letters swapped beat a letter dropped or changed; then the more telling
    kind of word."""
    return (sorted(word) != sorted(typo), vocabulary[word])


def _correct(
    tokens: list[str], lexicon: Lexicon, known_words: Collection[str]
) -> tuple[list[str], list[tuple[str, str]]]:
    """``tokens`` with each typo of a lexicon word replaced by it (a unique nearest word only)."""
    vocabulary = lexicon.single_words()
    out, corrected = [], []
    for t in tokens:
        if t.isalpha() and t not in vocabulary and t not in known_words:
            squeezed = re.sub(r"(.)\1+", r"\1", t)  # "muggg" → "mug", "presss" → "pres"
            if squeezed in vocabulary:
                corrected.append((t, squeezed))
                out.append(squeezed)
                continue
            t = re.sub(r"(.)\1\1+", r"\1\1", t)  # three or more of a letter are two at most
        if len(t) >= _MIN_TYPO_LENGTH and t.isalpha() and t not in vocabulary and t not in known_words:
            near = [w for w in vocabulary if len(w) >= _MIN_TYPO_LENGTH - 1 and _typo_distance_one(t, w)]
            ranked = sorted(near, key=lambda w: (_typo_key(w, t, vocabulary), w))
            best = [w for w in ranked if _typo_key(w, t, vocabulary) == _typo_key(ranked[0], t, vocabulary)]
            # a tie between words of one meaning ("blak": black or blk) is no tie
            if best and len({lexicon.table[(w,)] for w in best}) == 1:
                corrected.append((t, best[0]))
                t = best[0]
        out.append(t)
    return out, corrected


@dataclass
class _Item:
    kind: str
    value: str
    start: int
    end: int
    clause: int
    dropped: bool = False


def _match(tokens: list[str], lexicon: Lexicon) -> list[_Item]:
    """Longest-phrase-first matches of ``tokens`` against the lexicon, left to right, with clause numbers."""
    items: list[_Item] = []
    i, clause = 0, 0
    while i < len(tokens):
        for n in range(min(lexicon.longest, len(tokens) - i), 0, -1):
            hit = lexicon.table.get(tuple(tokens[i : i + n]))
            if hit is not None:
                kind, value = hit
                if kind == "break":
                    clause += 1
                items.append(_Item(kind, value, i, i + n, clause))
                i += n
                break
        else:
            i += 1
    return items


def _deny(items: list[_Item], tokens: list[str]) -> list[str]:
    """Drop what negations deny in their clause; returns the object families a denied noun phrase named.

    "don't close the drawer, open it" denies the action (open/close and direction words), not the drawer; "not
    the white mug, the black one" (a negation right before a noun phrase) denies that colour and object; "the cup
    that isn't black" is the other mug colour.
    """
    denied_objects: list[str] = []
    for k, it in enumerate(items):
        if it.kind != "negation":
            continue
        nxt = items[k + 1] if k + 1 < len(items) and items[k + 1].start == it.end else None
        if nxt is not None and nxt.kind == "colour" and nxt.value in _MUG_COLOURS:
            nxt.value = _MUG_COLOURS[nxt.value]
            continue
        noun_phrase = (it.end < len(tokens) and tokens[it.end] in _DETERMINERS) or (
            nxt is not None and nxt.kind in ("colour", "object")
        )
        for later in items[k + 1 :]:
            if later.clause != it.clause:
                break
            if noun_phrase or later.kind in _ACTION_KINDS:
                later.dropped = True
                if later.kind == "object":
                    denied_objects.append(later.value)
    return denied_objects


def _drop_descriptions(items: list[_Item], tokens: list[str]) -> bool:
    """Drop words that describe rather than command; returns whether an object word named a part of something
    not on the desk.

    An open/close word between a determiner and an object describes it ("the open drawer"); "in" before a
    determiner is a place ("put a pen in the drawer"), not "push it in"; an object word right after something not
    on the desk is part of that ("the fridge door"); open/close and direction words after a state word in its
    clause say how things are now ("the drawer is open, shut it"), unless a wish comes earlier in the clause
    ("make sure the drawer is shut").
    """
    absent_part = False
    for k, it in enumerate(items):
        follows = k + 1 < len(items) and items[k + 1].start == it.end and items[k + 1].kind == "object"
        if it.kind in ("change", "weak_change") and follows and it.start > 0 and tokens[it.start - 1] in _DETERMINERS:
            it.dropped = True
        preposition = it.kind == "weak_change" and tokens[it.start : it.end] in (["in"], ["into"])
        if preposition and it.end < len(tokens) and tokens[it.end] in _DETERMINERS:
            it.dropped = True
        if it.kind == "absent" and follows:
            items[k + 1].dropped = True
            absent_part = True
    for k, it in enumerate(items):
        if it.kind != "state" or any(p.kind == "desire" and p.clause == it.clause for p in items[:k]):
            continue
        for later in items[k + 1 :]:
            if later.clause != it.clause:
                break
            if later.kind in _ACTION_KINDS:
                later.dropped = True
    return absent_part


def _drop_verbs(items: list[_Item], tokens: list[str], lexicon: Lexicon) -> None:
    """Drop object words in a verb's place.

    An object word that opens a clause (or follows "you", "please", ...) and precedes a determiner is a verb
    ("tap the button", "could you switch the tap left"); "give the button a push" keeps its noun.
    """
    openers = {" ".join(p) for p in lexicon.verb_openers}
    for k, it in enumerate(items):
        opens_clause = (
            it.start == 0
            or tokens[it.start - 1] in openers
            or (k > 0 and items[k - 1].kind == "break" and items[k - 1].end == it.start)
        )
        if it.kind == "object" and opens_clause and it.end < len(tokens) and tokens[it.end] in _DETERMINERS:
            it.dropped = True


def _places(items: list[_Item], lexicon: Lexicon) -> list[str]:
    """The directions given by places: "toward"/"away from" + the first direction or anchor within anchor_window
    words ("toward the viewer" → down); a comparative ("closer", "nearer") with no place after it is toward the
    viewer. A direction word after "away from" is turned around in place ("away from the left" → right)."""
    directions: list[str] = []
    for k, it in enumerate(items):
        if it.dropped or it.kind not in ("toward", "comparative", "away_from"):
            continue
        found = False
        for later in items[k + 1 :]:
            if later.clause != it.clause or later.start - it.end >= lexicon.anchor_window:
                break
            if later.kind == "anchor" and not later.dropped:
                d = _TOWARD[later.value]
                directions.append(DIRECTION_OPPOSITE[d] if it.kind == "away_from" else d)
                found = True
                break
            if later.kind == "direction":
                if it.kind == "away_from":
                    later.value = DIRECTION_OPPOSITE[later.value]
                found = True
                break
        if it.kind == "comparative" and not found:
            directions.append(_TOWARD["near"])
    return directions


def parse_instruction(text: str, lexicon: Lexicon, known_words: Collection[str] = frozenset()) -> InstructionSlots:
    """The slots of ``text`` (see the module docstring for the rules).

    Args:
        text: the instruction.
        lexicon: the word lists (``Lexicon.load()``).
        known_words: real words that the typo rule leaves alone (e.g. the sentence encoder's vocabulary);
            empty = every unlisted word may be a typo.
    """
    tokens, corrected = _correct(words(text), lexicon, known_words)
    items = _match(tokens, lexicon)
    denied_objects = _deny(items, tokens)
    absent_part = _drop_descriptions(items, tokens)
    _drop_verbs(items, tokens, lexicon)
    places = _places(items, lexicon)
    kept = [it for it in items if not it.dropped]
    directions = tuple(dict.fromkeys([it.value for it in kept if it.kind == "direction"] + places))
    strong = {c: sum(1 for it in kept if it.kind == "change" and it.value == c) for c in ("open", "close")}
    weak = {c: sum(1 for it in kept if it.kind == "weak_change" and it.value == c) for c in ("open", "close")}
    # Strong words decide; weak ones count only when no strong word is said.
    evidence = strong if any(strong.values()) else weak
    named = tuple(dict.fromkeys(it.value for it in kept if it.kind == "object"))
    return InstructionSlots(
        # an object denied ("not the black mug, the white one") is still what the sentence is about
        objects=named or tuple(dict.fromkeys(denied_objects)),
        pronoun=any(it.kind == "pronoun" for it in kept),
        absent_part=absent_part,
        colours=tuple(dict.fromkeys(it.value for it in kept if it.kind == "colour")),
        directions=directions,
        direction_options=()
        if directions
        else tuple(dict.fromkeys(d for it in kept if it.kind == "vague" for d in _VAGUE[it.value])),
        opens=evidence["open"],
        closes=evidence["close"],
        corrected=tuple(corrected),
    )


def slot_names(slots: InstructionSlots) -> Sequence[str]:
    """The slots as short words for messages: ``["mug", "white", "left"]``."""
    change = [slots.change] if slots.change else []
    return [*slots.objects[:1], *slots.colours[:1], *slots.directions, *change]
