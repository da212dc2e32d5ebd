"""Headless Chromium for the report tests: Debian's chromium + chromedriver, driven by Selenium (no downloads)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("PEEPHOLE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PEEPHOLE_CHROMEDRIVER", "/usr/bin/chromedriver")


def chromium(width: int = 1400, height: int = 1000):
    """A headless Chromium that records the page's console; fails in CI (CI=true) when it is missing."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("selenium")
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"the browser test needs {missing} in CI (.ci/run installs chromium, chromium-driver, selenium)")
        pytest.skip(f"missing {missing}")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never download a browser or driver
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--window-size={width},{height}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


def screenshot(index: Path, png: Path, width: int = 1400, height: int = 1000) -> Path:
    """A picture of the report at ``index`` as this browser shows it (the README's screenshot)."""
    driver = chromium(width, height)
    try:
        driver.get(index.resolve().as_uri())
        driver.save_screenshot(str(png))
    finally:
        driver.quit()
    return png
