"""Files shipped with kwizard: stylesheets (`screens/`) and presets (`presets/`).

In the source tree they live at the top level; `kwizard/_assets/` links to them so the wheel ships them
inside the package (no top-level `screens` or `presets` Python packages are ever installed).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def asset_dir(kind: str) -> Path:
    """The folder holding shipped assets of `kind` ("screens" or "presets")."""
    inside = _PACKAGE_DIR / "_assets" / kind
    if inside.is_dir():
        return inside
    return _PACKAGE_DIR.parent / kind


def stylesheet(name: str) -> Path:
    """Path of `screens/<name>.tcss`."""
    return asset_dir("screens") / f"{name}.tcss"


def shipped_presets() -> list[Path]:
    """Every preset file kwizard ships, sorted by name."""
    return sorted(asset_dir("presets").glob("*.yaml"))
