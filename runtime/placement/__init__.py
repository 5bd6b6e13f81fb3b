"""Where a model runs (DESIGN §4): hardware facts and the pure choice of variants and device."""

from .hardware import GpuInfo, HardwareInfo, detect_hardware
from .selection import Choice, Selection, select_variants

__all__ = ["Choice", "GpuInfo", "HardwareInfo", "Selection", "detect_hardware", "select_variants"]
