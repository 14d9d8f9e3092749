"""What the browser tests and ``eval/ui_audit.py`` check on a page: layout, axe-core, names, focus.

Each function takes a Playwright page (sync API) and returns plain data, so a
test asserts on it and the audit prints it.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"  # `make install-test` (npm ci)
IMPACTS = ("critical", "serious", "moderate", "minor")
VIEWPORTS = [(1280, 680), (1280, 800), (1440, 900), (390, 844)]
TABS = ("问答", "找相似案例", "培训讨论题", "案例库")
CJK = re.compile(r"[\u4e00-\u9fff]")
# roles a user operates; each needs a name a Chinese reader understands
CONTROL_ROLES = {
    "button", "link", "textbox", "searchbox", "combobox", "listbox", "option", "radio", "checkbox", "switch",
    "slider", "spinbutton", "tab", "menuitem",
}

# Where things are once the page has settled: scroll offset, what lies inside the viewport,
# whether the placeholder fits the question box.
LAYOUT_JS = """
() => {
  const vh = window.innerHeight, vw = window.innerWidth;
  const inside = (el) => { if (!el) return false; const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= vh + 0.5 && r.right <= vw + 0.5; };
  const tabs = [...document.querySelectorAll('#tabs [role=tablist] button[role=tab]')];
  const box = document.querySelector('#question textarea');
  let placeholderFits = null;
  if (box) {
    const cs = getComputedStyle(box);
    const probe = document.createElement('span');
    probe.style.font = cs.font; probe.style.letterSpacing = cs.letterSpacing; probe.style.whiteSpace = 'nowrap';
    probe.style.position = 'absolute'; probe.style.visibility = 'hidden'; probe.textContent = box.placeholder;
    document.body.appendChild(probe);
    const room = box.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    const rows = Math.max(1, Math.round((box.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom))
                                        / parseFloat(cs.lineHeight)));
    placeholderFits = probe.getBoundingClientRect().width <= room * rows;
    probe.remove();
  }
  const menu = document.querySelector('#tabs .overflow-menu');
  return {
    scrollY: Math.round(window.scrollY),
    header: inside(document.querySelector('#app-header')),
    tabs: tabs.filter(inside).map((t) => t.innerText.trim()),
    overflowMenu: !!(menu && !menu.classList.contains('hide') && menu.offsetParent !== null),
    question: inside(box),
    placeholderFits,
    horizontalScroll: document.documentElement.scrollWidth > vw + 1,
  };
}
"""


def settled(page, timeout: int = 10_000) -> None:
    """Wait until no CSS transition runs (Gradio fades an output while it is pending: its text is pale then)."""
    page.wait_for_function(
        "() => document.getAnimations().every((a) => !(a instanceof CSSTransition) || a.playState !== 'running')",
        timeout=timeout,
    )


def layout(page) -> dict:
    return page.evaluate(LAYOUT_JS)


def axe(page) -> dict:
    """axe-core over the whole page (what is hidden is skipped): affected elements by impact, rule ids."""
    settled(page)
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    counts = dict.fromkeys(IMPACTS, 0)
    rules: dict[str, list[str]] = {k: [] for k in IMPACTS}
    details = []
    for v in result["violations"]:
        impact = v.get("impact") or "minor"
        counts[impact] += len(v["nodes"])
        rules[impact].append(f"{v['id']}×{len(v['nodes'])}")
        for n in v["nodes"][:5]:
            details.append(f"{impact} {v['id']} {n['target']} {n.get('failureSummary', '')[:160]}")
    return {"counts": counts, "rules": rules, "details": details}


def unnamed_controls(page) -> list[str]:
    """Controls in Chromium's accessibility tree whose name has no Chinese (role "name"), hidden ones left out.

    A citation chip is named 出处 1, a case tile by its title: a bare number or
    an English name ("Textbox", "Copy message") is what a screen reader would say.
    """
    cdp = page.context.new_cdp_session(page)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    bad = []
    for node in nodes:
        if node.get("ignored"):
            continue
        role = (node.get("role") or {}).get("value", "")
        if role not in CONTROL_ROLES:
            continue
        name = str((node.get("name") or {}).get("value", ""))
        if not CJK.search(name):
            bad.append(f'{role} "{name[:60]}"')
    return bad


def markup_in_names(page) -> list[str]:
    """Names that read out HTML source or Gradio's English message prefix ("user's message: <div …")."""
    return page.evaluate("""() => [...document.querySelectorAll('[aria-label]')]
        .map((e) => e.getAttribute('aria-label'))
        .filter((n) => /<[a-z]|'s message/.test(n)).map((n) => n.slice(0, 60))""")


# The element that has the keyboard after a Tab: what it is, and its focus ring.
FOCUS_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const cs = getComputedStyle(el);
  const ring = cs.outlineStyle !== 'none' ? parseFloat(cs.outlineWidth) : 0;
  const shadow = (cs.boxShadow.match(/(-?[\\d.]+)px(?![^(]*\\))/g) || []).map(parseFloat);
  const spread = shadow.length >= 4 ? shadow[3] : 0;
  const r = el.getBoundingClientRect();
  return {
    what: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.getAttribute('role') ? '[' + el.getAttribute('role') + ']' : ''),
    label: (el.getAttribute('aria-label') || el.innerText || el.value || el.placeholder || '').slice(0, 30),
    ring: Math.max(ring, spread),
    visible: r.width > 0 && r.height > 0,
  };
}
"""


def focus_rings(page, presses: int) -> list[dict]:
    """Press Tab ``presses`` times from the top of the page; each focused element with its ring width (px)."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    page.locator("body").click(position={"x": 2, "y": 2})
    seen = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        info = page.evaluate(FOCUS_JS)
        if info:
            seen.append(info)
    return seen
