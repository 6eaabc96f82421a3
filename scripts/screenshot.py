"""Screenshot a page at laptop and phone sizes with Debian's Chromium, for looking at what we build.

    python scripts/screenshot.py URL OUT_PREFIX   # writes OUT_PREFIX-laptop.png and -phone.png
"""

from __future__ import annotations

import sys

from playwright.sync_api import sync_playwright

SIZES = {"laptop": (1280, 800), "phone": (390, 844)}
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-gpu"]


def main(url: str, prefix: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for name, (width, height) in SIZES.items():
            page = browser.new_page(viewport={"width": width, "height": height})
            page.on("console", lambda m, size=name: print(f"[{size}] {m.type}: {m.text}"))
            page.goto(url, wait_until="networkidle")
            page.screenshot(path=f"{prefix}-{name}.png", full_page=True)
            page.close()
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:3])
