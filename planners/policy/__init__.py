"""Language-conditioned policies (LCBC: behaviour cloning with hindsight language labels), the baseline
LOReL compared against. Trained with ``robolearn train policy``; evaluated by ``robolearn bench``."""

from planners.policy.checkpoint import load_checkpoint, load_policy, save_checkpoint
from planners.policy.config import PolicyConfig
from planners.policy.model import LanguagePolicy, LanguagePolicyNet

__all__ = ["LanguagePolicy", "LanguagePolicyNet", "PolicyConfig", "load_checkpoint", "load_policy", "save_checkpoint"]
