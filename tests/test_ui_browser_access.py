"""The web UI on a laptop and a phone, for everyone: layout, accessibility, upload, sharing an answer.

Debian's Chromium driven by Python Playwright, as in ``test_ui_browser.py``:

- at 1280×680, 1280×800, 1440×900 and 390×844 the page does not scroll on
  load, and the header, all four tabs (no overflow menu) and the question box
  are in view, nothing clipped; one screenshot per viewport;
- axe-core (the npm package from ``tests/js``, ``make install-test``) on each
  tab and after an answer: no serious or critical violation; every control
  has a Chinese name, chat messages are named by their text, the keyboard
  focus has a visible ring;
- a script without an author line is refused with a message pointing at the
  补充信息 fields, then added through them; a second open session lists the new
  case and offers it in 培训讨论题 without reloading;
- an answer is copied as plain text and downloaded as a Word file.

Waits are on selectors or page state, never on sleeps; every wait has a bound.
"""

from __future__ import annotations

import pytest

from test_ui_browser import CHROMIUM, FLAGS, WAIT, ask, browser, shot, ui  # noqa: F401 - fixtures
from ui_checks import AXE, TABS, VIEWPORTS, axe, focus_rings, layout, markup_in_names, settled, unnamed_controls

QUESTION = "小区停车位不够，外来车辆多，怎么办？"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (make system-deps)"),
]


def open_page(browser, url: str, width: int, height: int, **options):  # noqa: F811 - the fixture
    phone = width < 500
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="zh-CN", is_mobile=phone, has_touch=phone,
        accept_downloads=True, **options,
    )
    context.set_default_timeout(WAIT)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("body[data-loaded]")
    settled(page)
    return page


@pytest.mark.parametrize("width,height", VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_no_scroll_jump_and_everything_in_view(ui, browser, width, height):  # noqa: F811
    page = open_page(browser, ui.url, width, height)
    try:
        where = layout(page)
        shot(page, f"viewport-{width}x{height}.png")
        assert where["scrollY"] == 0, where
        assert where["header"] and where["question"], where
        assert where["tabs"] == list(TABS) and not where["overflowMenu"], where
        assert where["placeholderFits"] and not where["horizontalScroll"], where
    finally:
        page.context.close()


def check_accessible(page, state: str) -> None:
    result = axe(page)
    bad = result["counts"]["critical"] + result["counts"]["serious"]
    assert bad == 0, (state, result["details"])
    assert unnamed_controls(page) == [], state
    assert markup_in_names(page) == [], state


@pytest.mark.parametrize("width,height", [(1280, 800), (390, 844)], ids=["laptop", "phone"])
def test_axe_on_every_tab_and_after_an_answer(ui, browser, width, height):  # noqa: F811
    assert AXE.exists(), f"axe-core is missing ({AXE}): run `make install-test`"
    page = open_page(browser, ui.url, width, height)
    try:
        for name in (*TABS[1:], TABS[0]):
            page.get_by_role("tab", name=name).click()
            page.wait_for_selector(f"#tabs [role=tab][aria-selected=true]:has-text('{name}')")
            check_accessible(page, name)
        ask(page, QUESTION)
        page.wait_for_selector("#share-copy", state="visible")
        check_accessible(page, "问答·回答后")
        names = page.evaluate("() => [...document.querySelectorAll('#chat [aria-label]')].map((e) => e.getAttribute('aria-label'))")
        assert any(n.startswith(f"提问：{QUESTION}") for n in names)
        assert any(n.startswith("回答：") and "<" not in n for n in names)
        if width > 500:  # a keyboard: every stop has a ring at least 2 px wide
            rings = focus_rings(page, 14)
            assert len(rings) >= 10 and all(r["ring"] >= 2 for r in rings), rings
    finally:
        page.context.close()


def test_upload_without_author_line_through_the_fields_and_a_second_session_sees_it(ui, browser, tmp_path):  # noqa: F811
    from test_ingest import make_docx

    other = open_page(browser, ui.url, 1280, 800)  # a colleague's page, open all along
    page = open_page(browser, ui.url, 1280, 800)
    try:
        other.get_by_role("tab", name="案例库").click()
        other.wait_for_selector("#case-list a.case-tile")
        before = other.locator("#case-list a.case-tile").count()
        path = make_docx(tmp_path / "新建村垃圾分类.docx", with_author_line=False)
        page.get_by_role("tab", name="案例库").click()
        page.get_by_text("添加讲稿（.txt / .md / .docx / .pdf）").click()
        page.locator("#upload-files input[type=file]").set_input_files(str(path))
        page.wait_for_selector("#upload-files :text('新建村垃圾分类')")
        page.locator("#upload-go").click()
        page.wait_for_selector("#upload-status li.bad", timeout=180_000)
        refused = page.locator("#upload-status").inner_text()
        assert "单篇讲稿的补充信息" in refused and "--author" not in refused
        fields = page.locator("#upload-fields")
        for label, value in [("作者姓名", "王小明"), ("职务", "党总支书记"), ("街道 / 镇", "泖港镇"), ("社区 / 村", "新建村")]:
            fields.get_by_label(label, exact=True).fill(value)
        page.locator("#upload-go").click()
        # the progress shows in the upload area only: the header, the tabs and the other fields stay usable
        where = page.wait_for_function(
            """() => {
                 const shown = [...document.querySelectorAll('[data-testid=status-tracker]')]
                   .filter((e) => !e.classList.contains('hide') && e.getBoundingClientRect().height > 0);
                 if (shown.some((e) => !e.closest('#upload-status'))) return 'elsewhere';
                 if (shown.length) return 'upload area';
                 return document.querySelector('#upload-status li.ok') ? 'not seen' : false;
               }""",
            timeout=180_000,
        ).json_value()
        assert where == "upload area"
        page.wait_for_selector("#upload-status li.ok", timeout=180_000)
        assert "已添加 新建村垃圾分类.docx" in page.locator("#upload-status").inner_text()
        page.wait_for_function(
            "n => document.querySelectorAll('#case-list a.case-tile').length === n + 1", arg=before
        )
        # the other session catches up without a reload: header, case list, the choices of 培训讨论题
        other.wait_for_function(
            "n => document.querySelectorAll('#case-list a.case-tile').length === n + 1", arg=before
        )
        assert f"汇集松江 {before + 1} 篇" in other.locator("#app-header").inner_text()
        assert "王小明" in other.locator("#case-list").inner_text()
        other.get_by_role("tab", name="培训讨论题").click()
        other.locator("#handout-case input").click()
        other.get_by_role("option", name="积分兑换撬动垃圾分类", exact=False).first.wait_for()
    finally:
        page.context.close()
        other.context.close()


def test_share_an_answer_copy_and_download(ui, browser, tmp_path):  # noqa: F811
    from docx import Document

    page = open_page(browser, ui.url, 1280, 800, permissions=["clipboard-read", "clipboard-write"])
    try:
        ask(page, QUESTION)
        # the answer's text and file are prepared right after it (a chained step)
        page.wait_for_function("() => document.querySelector('#share-text textarea')?.value.startsWith('问：')")
        page.locator("#share-copy").click()
        page.wait_for_selector("#share-status :text('已复制')")
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert copied.startswith(f"问：{QUESTION}") and "出处：" in copied and "《" in copied
        assert "<" not in copied and "第 " not in copied
        shot(page, "share.png")
        with page.expect_download() as info:
            page.locator("#share-docx").click()
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        assert path.suffix == ".docx"
        doc = Document(str(path))
        text = "\n".join(p.text for p in doc.paragraphs)
        assert QUESTION in text and "回答" in text and "出处" in text and "日期：" in text
        assert round(doc.sections[0].page_width.cm, 1) == 21.0 and doc.core_properties.language == "zh-CN"
    finally:
        page.context.close()
