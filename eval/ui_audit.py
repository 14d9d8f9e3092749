"""The web UI on a laptop and a phone: scroll jump on load, what is visible, axe-core violations.

Starts the UI on 127.0.0.1 over a copy of the corpus and index (as the browser
tests do) and drives Debian's Chromium:

- per viewport (1280×680, 1280×800, 1440×900, 390×844): the page's scroll
  offset once it has loaded, whether the header, the four tab buttons (none
  behind an overflow menu) and the question box lie inside the viewport, and
  whether the question box's placeholder fits;
- per tab (问答, 找相似案例, 培训讨论题, 案例库, and 问答 after an answer), at
  1280×800 and 390×844: axe-core violations counted by impact, with the rule
  ids.

axe-core is the npm package installed by ``make install-test`` into
``tests/js/node_modules`` and injected into the page from that file.

    python eval/ui_audit.py                      # prints a table, writes eval/ui_audit.json
    python eval/ui_audit.py --out /tmp/a.json --label before
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from ui_checks import AXE, IMPACTS, TABS, VIEWPORTS, axe, layout, markup_in_names, unnamed_controls  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
QUESTION = "小区停车位不够，外来车辆多，怎么办？"
NOT_COVERED = "社区里的公共Wi-Fi总是断，找谁修？"
SITUATION = "我们小区是动迁安置房，老人把凳子、杂物搬到楼道里，屡清屡放，消防检查通不过。"


def settle(page) -> None:
    page.wait_for_load_state("load")
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    time.sleep(2.0)  # a measurement, not a test: give late focus/scroll scripts their chance


def ask(page, question: str) -> None:
    before = page.locator("#chat .ans-meta").count()
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#chat .ans-meta').length > n", arg=before, timeout=120_000
    )
    page.wait_for_timeout(500)


def open_tab(page, name: str) -> None:
    tab = page.locator("#tabs [role=tablist] button[role=tab]", has_text=name)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
    else:  # behind Gradio's overflow menu
        page.locator("#tabs .overflow-menu > button").click()
        page.locator("#tabs .overflow-dropdown button", has_text=name).click()
    page.wait_for_timeout(400)


def states(page):
    """Walk the page through its states; yield (name, page) at each (the tab's view as a user sees it)."""
    for name in TABS[1:] + TABS[:1]:
        open_tab(page, name)
        yield name
    ask(page, QUESTION)
    yield "问答·回答后"
    page.locator("#chat a.cite").first.click()
    page.wait_for_selector("#qa-viewer mark")
    yield "问答·打开原文"
    ask(page, NOT_COVERED)
    yield "问答·没有讲到"
    open_tab(page, "找相似案例")
    page.locator("#situation textarea").fill(SITUATION)
    page.locator("#find-similar").click()
    page.wait_for_selector("#similar-results .case-card")
    yield "找相似案例·结果"
    open_tab(page, "培训讨论题")
    page.locator("#make-handout").click()
    page.wait_for_selector("#handout-preview .handout", timeout=120_000)
    page.wait_for_selector("#dl-docx", state="visible")
    yield "培训讨论题·生成后"
    open_tab(page, "案例库")
    page.locator("#case-list a.case-tile").first.click()
    page.wait_for_selector("#case-detail .detail")
    page.get_by_text("添加讲稿（.txt / .md / .docx / .pdf）").click()
    page.wait_for_timeout(400)
    yield "案例库·案例与上传"


def audit(url: str) -> dict:
    from playwright.sync_api import sync_playwright

    out: dict = {"layout": {}, "axe": {}, "names": {}}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        for w, h in VIEWPORTS:
            ctx = browser.new_context(viewport={"width": w, "height": h}, locale="zh-CN", is_mobile=w < 500,
                                      has_touch=w < 500)
            page = ctx.new_page()
            page.goto(url)
            page.wait_for_selector("#question textarea")
            settle(page)
            out["layout"][f"{w}x{h}"] = layout(page)
            ctx.close()
        for (w, h), locale in [((1280, 800), "zh-CN"), ((390, 844), "zh-CN"), ((1280, 800), "en-US")]:
            ctx = browser.new_context(viewport={"width": w, "height": h}, locale=locale, is_mobile=w < 500,
                                      has_touch=w < 500)
            page = ctx.new_page()
            page.set_default_timeout(60_000)
            page.goto(url)
            page.wait_for_selector("#question textarea")
            settle(page)
            key = f"{w}x{h} {locale}"
            per, names = {}, {}
            for state in states(page):
                if locale == "zh-CN":
                    per[state] = axe(page)
                names[state] = unnamed_controls(page) + [f"HTML in a name: {n}" for n in markup_in_names(page)]
            if per:
                out["axe"][key] = per
            out["names"][key] = names
            ctx.close()
        browser.close()
    return out


def table(result: dict) -> str:
    lines = ["scroll offset after load and what is visible:", ""]
    lines.append(f"{'viewport':<10} {'scrollY':>7}  header  tabs visible            menu  question  placeholder fits")
    for vp, r in result["layout"].items():
        lines.append(
            f"{vp:<10} {r['scrollY']:>7}  {str(r['header']):<6}  {('/'.join(r['tabs']) or '-'):<22} "
            f"{str(r['overflowMenu']):<5} {str(r['question']):<9} {r['placeholderFits']}"
        )
    lines += ["", "axe-core violations (affected elements) by impact:", ""]
    for vp, per in result["axe"].items():
        lines.append(f"[{vp}]")
        for tab, a in per.items():
            c = a["counts"]
            rules = "; ".join(x for k in IMPACTS for x in a["rules"][k][:6])
            lines.append(
                f"  {tab:<12} critical {c['critical']:>2}  serious {c['serious']:>2}  moderate {c['moderate']:>2}"
                f"  minor {c['minor']:>2}   {rules}"
            )
    lines += ["", "controls without a Chinese accessible name:", ""]
    for key, per in result.get("names", {}).items():
        lines.append(f"[{key}]")
        for state, bad in per.items():
            lines.append(f"  {state:<12} {len(bad):>3}  {'; '.join(sorted(set(bad))[:8])}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", help="audit a running UI instead of starting one")
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "ui_audit.json")
    ap.add_argument("--label", default="after")
    args = ap.parse_args()
    if not AXE.exists():
        sys.exit(f"axe-core is missing ({AXE}): run `make install-test` (npm ci --prefix tests/js).")
    if args.url:
        result = audit(args.url)
    else:
        from ui_server import running_ui

        with tempfile.TemporaryDirectory(prefix="ui-audit-") as tmp, running_ui(Path(tmp)) as ui:
            result = audit(ui.url)
    print(table(result))
    data = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
    data[args.label] = result
    args.out.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
