"""What every page must pass in the browser: axe-core (WCAG 2.1 A/AA, plus 2.2's 24 px
targets), no horizontal overflow on a phone, no CSP refusals; and its full-page screenshot.

axe-core comes from axe-playwright-python (a test dependency): it is injected into the page
under test by the test, never served by the application.
"""

import re
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"],
    },
    "resultTypes": ["violations"],
}
_axe = Axe()


def with_axe(context):
    """Every page this browser context opens gets axe-core injected as it loads (test
    tooling runs outside the page's CSP), so each check only runs it."""
    context.add_init_script(script=_axe.axe_script)
    return context


def axe_violations(page) -> list[str]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe.axe_script)
    response = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    found = []
    for violation in response["violations"]:
        targets = [" ".join(node["target"]) for node in violation["nodes"][:4]]
        found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} {targets}")
    return found


def overflow(page) -> int:
    """How many pixels the page is wider than the window (0 when it fits)."""
    return page.evaluate("Math.max(0, document.documentElement.scrollWidth - window.innerWidth)")


def watch_csp(page) -> list[str]:
    """Collects the browser's CSP refusals (an inline style or script would show here)."""
    refused: list[str] = []
    page.on(
        "console",
        lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return refused


def slug(url_path: str) -> str:
    """A file name for a page: ids become "id", so both widths' shots pair up run after run."""
    path = re.sub(r"/\d+(?=/)", "/id", url_path.split("?")[0].split("#")[0])
    name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
    return name or "root"


def screenshot(page, folder: Path, name: str, width_name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{width_name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
