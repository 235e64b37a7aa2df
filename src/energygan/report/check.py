"""A check of the rendered Snakemake report: it must be self-contained (nothing fetched from the network) and must draw
something in headless Chromium. The screenshot is kept for a person to look at."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
# an external resource the page would load (links a reader may click are fine)
EXTERNAL = re.compile(r"""<(?:script|img|link|iframe)\b[^>]*\b(?:src|href)=["']?(?:https?:)?//""", re.IGNORECASE)


def find_browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def external_resources(html: str) -> list[str]:
    return [m.group(0) for m in EXTERNAL.finditer(html)]


def screenshot(html_path, png_path, width: int = 1400, height: int = 1000, budget_ms: int = 8000) -> None:
    browser = find_browser()
    if browser is None:
        raise RuntimeError("no Chromium found; install one (Debian: apt-get install chromium) to check the report")
    Path(png_path).parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size={width},{height}", f"--virtual-time-budget={budget_ms}",
                    f"--screenshot={Path(png_path).resolve()}", Path(html_path).resolve().as_uri()],
                   check=True, capture_output=True, timeout=120)


def check(html_path, png_path) -> dict:
    """Screenshot the report and measure it; raise if it loads external resources or renders blank."""
    from PIL import Image
    html = Path(html_path).read_text(errors="replace")
    if found := external_resources(html):
        raise RuntimeError(f"{html_path} loads external resources, so it is not offline: {found[:3]}")
    screenshot(html_path, png_path)
    pixels = np.asarray(Image.open(png_path).convert("L"), dtype=float)
    stats = {"width": pixels.shape[1], "height": pixels.shape[0], "pixel_std": float(pixels.std()),
             "non_background_share": float((np.abs(pixels - np.median(pixels)) > 16).mean())}
    if stats["pixel_std"] < 5 or stats["non_background_share"] < 0.01:
        raise RuntimeError(f"the screenshot of {html_path} is blank ({stats}); open {png_path} to see why")
    return stats
