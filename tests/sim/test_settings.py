"""sim.plumbing.settings: a config field declared once gives its check, its mapping round trip and its YAML."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import ClassVar

import pytest
import yaml

from sim.plumbing.settings import check_knobs, config_yaml, from_mapping, knob, knobs_of


@dataclass
class Inner:
    """A sub-config."""

    count: int = knob(3, "things (count)", lo=1, hi=10)
    gain: float = knob(0.5, "a gain", lo=0.0, lo_open=True)
    span: tuple[float, float] = knob((0.2, 0.4), "[low, high] span (m)", lo=0.0, hi=1.0, pair=True)
    jitter: tuple[float, float, float] = knob((0.01, 0.02, 0.03), "± per axis (m)", lo=0.0, hi=0.1)

    def __post_init__(self) -> None:
        check_knobs(self, "inner")


@dataclass
class Item:
    """A list entry."""

    name: str = knob("a", "item name")
    size: float = knob(1.0, "item size (m)", lo=0.0)

    def __post_init__(self) -> None:
        check_knobs(self, f"item[{self.name}]")


@dataclass
class Outer:
    """A config with every kind of field."""

    mode: str = knob("fast", "how to run", choices=("fast", "slow"))
    flag: bool = knob(True, "a switch: yes or no")
    note: str = knob("hello: world", "a string that YAML must quote")
    nothing: float | None = knob(None, "optional number (null = off)")
    items: list[Item] = knob([Item()], "The items, each one a mapping.")
    inner: Inner = knob(
        Inner(count=4),
        "A section whose comment is long enough to be wrapped onto more than one line of the generated YAML "
        "file, which keeps every line of the file readable in an editor of ordinary width.",
    )

    def __post_init__(self) -> None:
        check_knobs(self, "outer")


@dataclass
class Faster(Inner):
    """A subclass that changes a default with a plain redeclaration."""

    count: int = 7


def test_yaml_round_trip_gives_the_defaults() -> None:
    text = config_yaml(Outer(), "A header.\n\nWith a blank line.")
    data = yaml.safe_load(text)
    assert from_mapping(Outer, data) == Outer()
    assert data["inner"] == {"count": 4, "gain": 0.5, "span": [0.2, 0.4], "jitter": [0.01, 0.02, 0.03]}
    assert data["note"] == "hello: world" and data["nothing"] is None and data["items"] == [asdict(Item())]


def test_yaml_comments_carry_docs_and_bounds() -> None:
    text = config_yaml(Outer(), first={"_target_": ("some.Class", "class instantiated by Hydra")})
    lines = text.splitlines()
    assert lines[0] == "_target_: some.Class  # class instantiated by Hydra"
    assert "mode: fast  # how to run (fast | slow)" in lines
    assert "  count: 4  # things (count, 1–10)" in lines
    assert "  gain: 0.5  # a gain (> 0)" in lines
    assert "  span: [0.2, 0.4]  # [low, high] span (m, 0–1)" in lines
    assert "flag: true  # a switch: yes or no" in lines
    section = [line for line in lines if line.startswith("# A section")]
    assert section and all(len(line) <= 116 for line in lines if line.startswith("#"))
    assert lines.index("inner:") - lines.index(section[0]) == 2  # wrapped onto two comment lines


def test_partial_mapping_overrides_only_what_it_names() -> None:
    cfg = from_mapping(Outer, {"inner": {"gain": 2}, "items": [{"name": "b"}, {"name": "c", "size": 3}]})
    assert cfg.inner == Inner(count=4, gain=2.0) and isinstance(cfg.inner.gain, float)
    assert [i.name for i in cfg.items] == ["b", "c"] and cfg.items[1].size == 3.0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mode": "medium"}, "outer.mode='medium' is not allowed; choose from fast | slow"),
        ({"inner": {"count": 0}}, "inner.count=0 is out of range; use an integer in [1, 10]"),
        ({"inner": {"gain": 0}}, "inner.gain=0.0 is out of range; use a value > 0"),
        ({"inner": {"span": [0.5, 0.1]}}, "inner.span=[0.5, 0.1] must be a [low, high] pair with low <= high"),
        ({"inner": {"span": [0.5, 2.0]}}, "inner.span=2.0 is out of range; use a value in"),
        ({"inner": {"jitter": [0.0, 0.5, 0.0]}}, "inner.jitter[1]=0.5 is out of range; use a value in [0, 0.1]"),
        ({"inner": {"jitter": [0.0, 0.0]}}, "must have 3 values"),
        ({"inner": {"count": 1.5}}, "Inner.count=1.5 must be a whole number"),
        ({"flag": "yes"}, "Outer.flag='yes' must be true or false"),
        ({"items": [{"size": -1}]}, "item[a].size=-1.0 is out of range; use a value ≥ 0"),
        ({"colour": "red"}, "unknown Outer option(s) ['colour']"),
    ],
)
def test_bad_values_are_one_line_errors_naming_the_field(data: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        from_mapping(Outer, data)
    assert "\n" not in str(info.value)


def test_direct_construction_checks_types_too() -> None:
    with pytest.raises(ValueError, match="inner.count='3' must be an integer"):
        Inner(count="3")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="outer.flag=1 must be true or false"):
        Outer(flag=1)  # type: ignore[arg-type]


@dataclass
class Counts:
    """Tuples of ints and of mixed numbers."""

    steps: tuple[int, int] = knob((4, 12), "[low, high] steps (count)", lo=1, pair=True)
    mixed: tuple[float, int] = knob((0.5, 3), "a fraction and a count")
    sizes: tuple[int, ...] = knob((8, 16), "any number of widths", lo=1)

    def __post_init__(self) -> None:
        check_knobs(self, "counts")


def test_a_tuples_numbers_keep_their_defaults_types() -> None:
    cfg = from_mapping(Counts, {"steps": [2, 8.0], "mixed": [1, 2.0]})
    assert cfg.steps == (2, 8) and all(type(v) is int for v in cfg.steps)  # not floats: no local conversions needed
    assert cfg.mixed == (1.0, 2) and type(cfg.mixed[0]) is float and type(cfg.mixed[1]) is int
    with pytest.raises(ValueError, match=re.escape("Counts.steps[0]=2.5 must be a whole number")):
        from_mapping(Counts, {"steps": [2.5, 8]})


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"steps": (2.0, 8)}, "counts.steps[0]=2.0 must be an integer"),
        ({"steps": (2, math.nan)}, "counts.steps[1]=nan must be an integer"),
        ({"mixed": (math.nan, 3)}, "counts.mixed[0]=nan must be a finite number"),
        ({"mixed": (math.inf, 3)}, "counts.mixed[0]=inf must be a finite number"),
        ({"mixed": ("a", 3)}, "counts.mixed[0]='a' must be a finite number"),
        ({"mixed": (0.5,)}, "counts.mixed=[0.5] must have 2 values"),
        ({"mixed": 0.5}, "counts.mixed=0.5 must be a list of numbers"),
        ({"sizes": (8, 0)}, "counts.sizes[1]=0 is out of range; use an integer ≥ 1"),
    ],
)
def test_direct_construction_checks_a_tuples_numbers(values: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Counts(**values)
    assert Counts(sizes=(8, 16, 32)).sizes == (8, 16, 32)  # a tuple[int, ...] may take any length


def test_bounds_messages_say_integer_only_for_integer_knobs() -> None:
    with pytest.raises(ValueError, match=re.escape("inner.gain=-1 is out of range; use a value > 0")):
        Inner(gain=-1)  # an int given for a float knob: "a value", not "an integer"


def test_subclass_redeclaration_keeps_the_knob() -> None:
    assert knobs_of(Faster)["count"] == knobs_of(Inner)["count"]
    assert "count: 7  # things (count, 1–10)" in config_yaml(Faster())
    with pytest.raises(ValueError, match="inner.count=11 is out of range"):
        Faster(count=11)


def test_field_docs_override_a_nested_field_doc() -> None:
    @dataclass
    class Holder:
        inner: Inner = knob(Inner(), "Inner here.", field_docs={"gain": "unused here"})
        deep: Outer = knob(Outer(), "Outer here.", field_docs={"inner.count": "how many, here"})

    lines = config_yaml(Holder()).splitlines()
    assert "  gain: 0.5  # unused here (> 0)" in lines
    assert "    count: 4  # how many, here (1–10)" in lines


@dataclass
class Video:
    """A command's nested options."""

    path: str | None = knob("out.mp4", "video file; null = none", any_type=True)
    fps: float = knob(12.0, "frames per second", lo=0.0, lo_open=True)

    def __post_init__(self) -> None:
        check_knobs(self, "video")


@dataclass
class Command:
    """A command's top-level options: messages name the keys as they are typed (``episodes=0``)."""

    episodes: int = knob(1, "episodes (count)", lo=1)
    models: object = knob("oracle", "a name or a list of paths", any_type=True)
    video: Video = knob(Video(), "The video.")

    def __post_init__(self) -> None:
        check_knobs(self, "")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"episodes": 0}, "episodes=0 is out of range; use an integer ≥ 1"),
        ({"episodes": "x"}, "episodes='x' must be a number"),
        ({"video": {"fps": 0}}, "video.fps=0.0 is out of range; use a value > 0"),
        ({"video": {"fps": "fast"}}, "video.fps='fast' must be a number"),
        ({"foo": 1}, r"unknown run option\(s\) \['foo'\]"),
        ({"video": {"codec": "x"}}, r"unknown video option\(s\) \['codec'\]"),
    ],
)
def test_a_commands_options_name_their_keys_bare(data: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        from_mapping(Command, data, prefix="", what="run")


def test_any_type_knobs_are_passed_through_for_the_class_to_check() -> None:
    cmd = from_mapping(Command, {"models": ["a.pt", "b.pt"], "video": {"path": None}}, prefix="")
    assert cmd.models == ("a.pt", "b.pt") and cmd.video.path is None


def test_command_yaml_has_its_defaults_list_and_group_overrides() -> None:
    text = config_yaml(
        Command(),
        "usage",
        defaults=[("env: desk", "the env group"), ("_self_", "values below override the group defaults")],
        overrides={"env": ("Overrides of the env group.", [("obs_keys", ["rgb"], "what to store")])},
    )
    assert text.startswith("# usage\n\n# Config groups composed into this job")
    assert "  - env: desk  # the env group\n" in text
    assert text.endswith("# Overrides of the env group.\nenv:\n  obs_keys: [rgb]  # what to store\n")
    data = yaml.safe_load(text)
    assert data["defaults"] == [{"env": "desk"}, "_self_"] and data["env"] == {"obs_keys": ["rgb"]}
    assert from_mapping(Command, {k: v for k, v in data.items() if k not in ("defaults", "env")}) == Command()


@dataclass
class Specs:
    """A knob whose default is a mapping of free-form entries, its keys documented beside it."""

    specs: dict = knob(
        {"a": {"_target_": "x.A", "plan": {"k": 1, "path": "${p:a.pt}"}}, "b": {"_target_": "x.B"}},
        "The entries, each built from its _target_.",
        field_docs={"a": "entry a", "b": "entry b", "*._target_": "class built", "a.plan": "plan values"},
    )
    flat: dict = knob({"k": 1}, "undocumented keys: one line")


def test_a_mapping_knob_is_a_block_with_a_comment_per_documented_key() -> None:
    text = config_yaml(Specs())
    assert text == (
        "# The entries, each built from its _target_.\n"
        "specs:\n"
        "  a:  # entry a\n"
        "    _target_: x.A  # class built\n"
        '    plan: {k: 1, path: "${p:a.pt}"}  # plan values\n'
        "  b:  # entry b\n"
        "    _target_: x.B  # class built\n"
        "flat: {k: 1}  # undocumented keys: one line\n"
    )
    assert yaml.safe_load(text) == asdict(Specs())


def test_a_group_file_has_its_package_line_first_and_may_leave_out_fields() -> None:
    text = config_yaml(Inner(), "usage", package="_global_", exclude=("gain", "span"))
    assert text.startswith("# @package _global_\n# usage\n\n")
    assert set(yaml.safe_load(text)) == {"count", "jitter"}


@dataclass(frozen=True, kw_only=True)
class Shared:
    """A base shared by several configs: paths, optional values, and a default each subclass gives."""

    data: Path = knob(Path("data/desk"), "dataset folder")
    extra: tuple[Path, ...] = knob((), "more folders; [] = none", value_type=Path)
    limit: int | None = knob(None, "at most this many; null = all", lo=2, value_type=int)
    clip: float | None = knob(1.0, "clip to this (null = no clipping)", lo=0.0, lo_open=True, nullable=True)
    steps: int = knob(MISSING, "steps in total", lo=1, section="Optimisation: how long and how fast.")
    seed: int = knob(0, "seed of everything", lo=0)

    def __post_init__(self) -> None:
        check_knobs(self, "")


@dataclass(frozen=True, kw_only=True)
class Mine(Shared):
    """One config on the shared base: its own default and a reworded doc."""

    KNOB_DOCS: ClassVar[Mapping[str, str]] = {"seed": "seed of the split and the batches"}

    steps: int = 100


def test_path_and_optional_knobs_convert_and_round_trip() -> None:
    cfg = from_mapping(Mine, {"data": "d", "extra": ["a", "b"], "limit": 4, "clip": None}, prefix="")
    assert cfg == Mine(data=Path("d"), extra=(Path("a"), Path("b")), limit=4, clip=None)
    assert from_mapping(Mine, {"extra": "a", "clip": 2}, prefix="").extra == (Path("a"),)  # one path: a list of one
    assert from_mapping(Mine, {"clip": 2}, prefix="").clip == 2.0
    text = config_yaml(Mine())
    assert from_mapping(Mine, yaml.safe_load(text), prefix="") == Mine()
    assert "data: data/desk  # dataset folder\n" in text and "extra: []  # more folders; [] = none\n" in text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"data": None}, "data=None must be a path"),
        ({"data": ""}, "data='' must be a path"),
        ({"extra": [1]}, "extra[0]=1 must be a path"),
        ({"extra": {"a": 1}}, "extra={'a': 1} must be a list of paths"),
        ({"limit": 2.5}, "limit=2.5 must be a whole number"),
        ({"limit": 1}, "limit=1 is out of range; use an integer ≥ 2"),
        ({"clip": 0}, "clip=0.0 is out of range; use a value > 0"),
        ({"steps": None}, "steps=None must be a number"),
    ],
)
def test_path_and_optional_knobs_name_bad_values(data: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        from_mapping(Mine, data, prefix="")


def test_a_shared_base_leaves_defaults_to_subclasses_and_they_reword_docs() -> None:
    assert "steps" not in {f.name for f in fields(Shared) if f.default is not MISSING}
    assert knobs_of(Mine)["steps"] == knobs_of(Shared)["steps"]
    assert knobs_of(Mine)["seed"].doc == "seed of the split and the batches"
    assert knobs_of(Mine)["seed"].lo == 0 and knobs_of(Shared)["seed"].doc == "seed of everything"
    lines = config_yaml(Mine()).splitlines()
    assert "seed: 0  # seed of the split and the batches (≥ 0)" in lines
    at = lines.index("steps: 100  # steps in total (≥ 1)")
    assert lines[at - 2 : at] == ["", "# Optimisation: how long and how fast."]  # the section above its key
    with pytest.raises(ValueError, match=r"extra\[0\]='a' must be a path"):
        Mine(extra=("a",))  # type: ignore[arg-type]

    @dataclass(frozen=True, kw_only=True)
    class Typo(Shared):
        KNOB_DOCS: ClassVar[Mapping[str, str]] = {"sead": "oops"}

    with pytest.raises(TypeError, match="rewords 'sead', which is no knob"):
        knobs_of(Typo)
