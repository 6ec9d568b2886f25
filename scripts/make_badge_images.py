"""Draw the Open Badges images (lms/static/img/badges/<track>.png, 400 x 400): the track's
icon on a round medallion with the lab's ring. Each credential is baked into a copy of its
track's image when a family downloads it (lms/certificates/baking.py).

    .venv/bin/python scripts/make_badge_images.py

Needs Chromium (the browser tests' one: /usr/bin/chromium or CHROMIUM).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1] / "lms" / "static" / "img"
SIZE = 400

PAGE = """<!doctype html><html><head><style>
html, body {{ margin: 0; background: transparent; }}
.medal {{ width: {size}px; height: {size}px; border-radius: 50%; box-sizing: border-box;
  border: 18px solid #ffb000; background: #ffffff; display: grid; place-items: center; }}
.medal img {{ width: 62%; height: 62%; }}
</style></head><body><div class="medal"><img src="data:image/svg+xml;base64,{icon}"></div>
</body></html>"""


def main() -> None:
    out = ROOT / "badges"
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
            args=["--no-sandbox", "--disable-gpu"],
        )
        page = browser.new_page(viewport={"width": SIZE, "height": SIZE})
        for icon in sorted((ROOT / "tracks").glob("*.svg")):
            encoded = base64.b64encode(icon.read_bytes()).decode()
            page.set_content(PAGE.format(size=SIZE, icon=encoded))
            target = out / f"{icon.stem}.png"
            page.locator(".medal").screenshot(path=str(target), omit_background=True)
            print(f"wrote {target}")
        browser.close()


if __name__ == "__main__":
    main()
