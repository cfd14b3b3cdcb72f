"""The synthetic county: a deterministic, messy, realistic 灌云县 for tests and benchmarks.

`generate(out_dir, scale, seed)` writes every raw source of `cunxin.datapool.sources`
under out_dir, the geography under out_dir/geo and the ground truth under out_dir/_truth.
"""

from .generator import generate

__all__ = ["generate"]
