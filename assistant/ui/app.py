"""The web UI: Gradio Blocks with four tabs (问答 / 找相似案例 / 培训讨论题 / 案例库).

Wiring only.  :func:`_layout` creates the components, :class:`_Events` turns
component values into a call of a handler in :mod:`assistant.ui.handlers`
(which call the same Python API as the CLI and return small dataclasses) and
maps the result back onto the components, one method per event, and
:func:`_wire` connects the events.  The HTML comes from :mod:`assistant.ui.render`.

Citations are links ``#cite/<case>/<start>/<end>`` (open the passage beside
the chat) or ``#case/<case>/<start>/<end>`` (open the case in 案例库).  A
small script in the page catches their clicks and hands the target to the
server through a hidden text box, so the same mechanism serves the chat, the
sources panel, similar-case cards and handouts.

Example::

    >>> from assistant.ui import build_app, launch
    >>> app = build_app()                              # doctest: +SKIP
    >>> launch(app, host="127.0.0.1", port=7860)       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from assistant.auth import LoginThrottle
from assistant.corpus import COMMUNITY_TYPES
from assistant.config import Settings, get_settings
from assistant.feedback import FeedbackStore
from assistant.ui import handlers as H
from assistant.ui import render as R
from assistant.ui.guard import LoginGuard

# Answers are CPU-bound (jieba + BM25 + one e5 query, ~0.1-0.4 s) on two
# cores: more than two at once only adds contention.  An LLM answer mostly
# waits on the network, so more may wait together.
CONCURRENCY_EXTRACTIVE = 2
CONCURRENCY_LLM = 8
QUEUE_MAX = 200  # beyond this a user is told the service is busy instead of waiting forever
# Every open page asks this often whether a new index version was published (an upload in
# another browser): a cheap check of the version name, the library is re-read only on a change.
LIBRARY_CHECK_SECONDS = 5
# The chat fills the window below the header, the tabs and the question box, so the question
# box is in view without scrolling on a 1280×680 laptop window as on a 390×844 phone.
CHAT_HEIGHT = "clamp(300px, calc(100vh - 290px), 640px)"

EXAMPLE_QUESTIONS = [
    "小区停车位不够，外来车辆多，怎么办？",
    "老旧小区加装电梯，低层住户反对怎么协调？",
    "村里宅基地和违章搭建怎么整治？",
    "业委会和物业矛盾大，居委会怎么牵头？",
    "怎么把年轻人和新居民动员进社区治理？",
]
EXAMPLE_SITUATIONS = [
    "我们小区是动迁安置房，老人把凳子、杂物搬到楼道里，屡清屡放，消防检查通不过。",
    "我们村外来人口比本地人还多，出租屋管理乱，群租和垃圾问题投诉不断。",
    "小区建成二十多年，没有业委会，物业费收缴率低，物业要撤场。",
]

# Catches clicks on citation links anywhere in the page.  Capture phase, so
# the chat's own link handling (open in a new tab) never sees them.
#
# It also makes Gradio's own controls speak Chinese to everyone:
# - Gradio picks the language of its controls from the browser's; the page is
#   Chinese, so its controls are too, whatever language the browser is set to;
# - some of Gradio's names are English in every language ("range slider for …",
#   "Select example 1: …") and a chat message is named by its HTML source
#   ("user's message: <div class='q'>…"): those get Chinese names, a message its
#   text, whenever Gradio (re)draws them.
HEAD = """
<script>
(() => {
  try {
    Object.defineProperty(Navigator.prototype, 'language', {get: () => 'zh-CN', configurable: true});
    Object.defineProperty(Navigator.prototype, 'languages', {get: () => ['zh-CN', 'zh'], configurable: true});
  } catch (e) { /* the page still works, with Gradio's labels in the browser's language */ }
  const NAMES = {
    'Like': '有帮助', 'Dislike': '没帮助', '赞': '有帮助', '踩': '没帮助',
    'chatbot conversation': '问答对话', 'Clear': '清空对话', 'Copy message': '复制这条消息',
    'More tabs': '更多标签页',
    'Remove': '移除', 'Clear All': '全部移除', 'Download': '下载', 'Scroll down': '滚动到最新消息',
    'Reset to default value': '恢复默认值', 'Copy conversation': '复制整段对话',
  };
  const PATTERNS = [
    [/^(?:user|human)'s message: /, (el) => '提问：' + text(el)],
    [/^(?:bot|assistant)'s message: /, (el) => '回答：' + text(el)],
    [/^number input for (.*)$/, (el, m) => m[1] + '（输入数字）'],
    [/^range slider for (.*)$/, (el, m) => m[1] + '（拖动选择）'],
    [/^Select example \\d+: (.*)$/, (el, m) => '示例问题：' + m[1]],
  ];
  const text = (el) => (el.innerText || el.textContent || '').replace(/\\s+/g, ' ').trim();
  const rename = () => {
    for (const el of document.querySelectorAll('[aria-label]')) {
      const name = el.getAttribute('aria-label');
      let want = NAMES[name];
      for (const [re, make] of PATTERNS) {
        const m = want === undefined && name.match(re);
        if (m) want = make(el, m);
      }
      if (want !== undefined && want !== name) el.setAttribute('aria-label', want);
    }
    // the upload area: its visible words first (what a speech-input user says), then what it is for
    for (const el of document.querySelectorAll('#upload-files .upload-container')) {
      const want = text(el) + '：选择要添加的讲稿文件';
      if (el.getAttribute('aria-label') !== want) el.setAttribute('aria-label', want);
    }
    // a citation chip in the chat (whose sanitizer drops aria-label): its number and script
    for (const el of document.querySelectorAll('a.cite:not([aria-label])')) {
      const title = (el.getAttribute('title') || '').split(' · ')[0].split('》')[0].replace('《', '');
      el.setAttribute('aria-label', '出处 ' + text(el) + (title ? '：《' + title.slice(0, 30) + '》' : ''));
    }
    // Gradio's example questions: buttons in a "list" without list items
    for (const el of document.querySelectorAll('#chat .examples[role=list]')) {
      el.setAttribute('role', 'group');
      el.setAttribute('aria-label', '示例问题');
    }
  };
  let queued = false;
  const later = () => { if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; rename(); }); } };
  const start = () => {
    new MutationObserver(later).observe(document.body, {
      subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['aria-label', 'role'],
    });
    rename();
  };
  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);

  const send = (value) => {
    const box = document.querySelector('#link-target textarea, #link-target input');
    const go = document.querySelector('#link-go');
    if (!box || !go) return;
    box.value = value + '|' + Date.now();
    box.dispatchEvent(new Event('input', {bubbles: true}));
    setTimeout(() => go.click(), 30);
  };
  document.addEventListener('click', (ev) => {
    const a = ev.target.closest && ev.target.closest('a[href^="#cite/"], a[href^="#case/"], a[href^="#jump/"]');
    if (!a) return;
    ev.preventDefault();
    ev.stopPropagation();
    const href = a.getAttribute('href').slice(1);
    if (href.startsWith('jump/')) {
      const target = document.getElementById(href.slice(5));
      if (target) target.scrollIntoView({behavior: 'smooth', block: 'start'});
      return;
    }
    send(href);
  }, true);
})();
</script>
"""
# After the page has loaded: the question box takes the keyboard, without scrolling the page (the
# ``autofocus`` attribute scrolls a box below the fold into view) and not on a touch screen, where it
# would open the on-screen keyboard over the page.
FOCUS_JS = """
() => {
  document.body.dataset.loaded = '1';  // the page is filled (the browser tests wait for this)
  if (window.matchMedia('(pointer: coarse)').matches) return;
  const box = document.querySelector('#question textarea');
  if (box && !document.activeElement?.closest?.('input, textarea, select')) box.focus({preventScroll: true});
}
"""

# 复制回答: the latest answer's text onto the clipboard.  On an intranet address served over
# http the Clipboard API is missing (it needs https or localhost): the older copy command then.
COPY_JS = """
async (text) => {
  const done = "<div class='msg-ok' role='status'>✓ 已复制回答和出处，可以粘贴到微信。</div>";
  if (!text) return "<div class='msg-error' role='alert'>还没有可以复制的回答。</div>";
  try {
    await navigator.clipboard.writeText(text);
    return done;
  } catch (e) { /* fall through to the copy command */ }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
  area.remove();
  return ok ? done : "<div class='msg-error' role='alert'>浏览器不允许自动复制：请选中回答的文字后复制。</div>";
}
"""

# After a passage opens: scroll its highlighted span into the middle of the text box.
SCROLL_JS = """
() => {
  const tries = [0, 60, 200, 500];
  const scroll = () => {
    for (const box of document.querySelectorAll('.case-text')) {
      const mark = box.querySelector('mark');
      if (!mark || box.offsetParent === null) continue;
      const top = mark.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
      box.scrollTop = Math.max(0, top - box.clientHeight / 3);
      const r = box.getBoundingClientRect();
      if (r.bottom < 0 || r.top > window.innerHeight) box.scrollIntoView({behavior: 'smooth', block: 'center'});
    }
  };
  tries.forEach((t) => setTimeout(scroll, t));
}
"""


# After a case opens in 案例库: bring the case into view, then its highlighted span.
OPEN_CASE_JS = """
() => {
  const show = () => {
    const detail = document.querySelector('#case-detail .detail');
    if (detail && detail.offsetParent !== null) detail.scrollIntoView({behavior: 'smooth', block: 'start'});
  };
  [80, 300].forEach((t) => setTimeout(show, t));
  (""" + SCROLL_JS.strip() + """)();
}
"""


class _Page:
    """The components the events read and write (the static text around them is not kept)."""

    header: gr.HTML
    tabs: gr.Tabs
    library_version: gr.State  # the index version the page shows (see _Events.refresh_library)
    library_timer: gr.Timer
    # 问答
    chatbot: gr.Chatbot
    question: gr.Textbox
    send: gr.Button
    new_chat: gr.Button
    status: gr.HTML
    feedback_box: gr.Column
    share_copy: gr.Button  # the latest answer as text, for a WeChat message
    share_docx: gr.DownloadButton  # … and as a Word file
    share_status: gr.HTML
    share_text: gr.Textbox  # hidden: what 复制回答 puts on the clipboard
    rating: gr.Radio
    comment: gr.Textbox
    feedback_go: gr.Button
    feedback_status: gr.HTML
    relate_box: gr.Column  # after 没帮助: link the question to the passage that answers it
    relate_question: gr.Textbox
    relate_case: gr.Dropdown
    relate_passage: gr.Dropdown
    relate_go: gr.Button
    relate_status: gr.HTML
    sources: gr.HTML
    viewer: gr.HTML
    answer_json: gr.JSON
    chat: gr.State  # the chat's messages, as the handlers see them
    conversation: gr.State
    turns: gr.State  # handlers.AnsweredTurn per answer, for feedback
    # 找相似案例
    situation: gr.Textbox
    k_cases: gr.Slider
    find_go: gr.Button
    similar: gr.HTML
    # 培训讨论题
    handout_by: gr.Radio
    handout_case: gr.Dropdown
    handout_topic: gr.Dropdown
    handout_n: gr.Slider
    handout_go: gr.Button
    docx: gr.DownloadButton
    md: gr.DownloadButton
    handout: gr.HTML
    # 案例库
    town: gr.Dropdown
    community_type: gr.Dropdown
    tag: gr.Dropdown
    open_case: gr.Dropdown
    case_list: gr.HTML
    case_detail: gr.HTML
    files: gr.File
    meta_box: gr.Accordion
    meta: dict[str, gr.components.Component]  # handlers.UPLOAD_FIELDS → its box
    upload_go: gr.Button
    upload_cancel: gr.Button
    upload_status: gr.HTML
    gaps: gr.HTML
    gaps_refresh: gr.Button
    # hidden plumbing for citation links (see HEAD)
    link_target: gr.Textbox
    link_go: gr.Button


def _layout(view: H.LibraryView) -> _Page:
    """Create the components (inside ``gr.Blocks``), filled from the library as it is at start."""
    p = _Page()
    p.header = gr.HTML(view.header_html, elem_id="app-header")
    p.library_version = gr.State(view.version)
    p.library_timer = gr.Timer(LIBRARY_CHECK_SECONDS)
    # "wrap": all four tabs stay in view on a phone (Gradio's default hides the last ones behind "⋯")
    with gr.Tabs(elem_id="tabs", overflow_behavior="wrap") as p.tabs:
        # ---------------------------------------------------------------- 问答
        with gr.Tab("问答", id="qa", elem_id="tab-qa"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=300):
                    p.chatbot = gr.Chatbot(
                        label="问答对话",
                        show_label=False,
                        elem_id="chat",
                        height=CHAT_HEIGHT,
                        placeholder=R.chat_placeholder(),
                        examples=[{"text": q} for q in EXAMPLE_QUESTIONS],
                        feedback_options=("Like", "Dislike"),
                        buttons=[],  # Gradio's copy button copies a message's HTML: 复制回答 below copies its text
                        layout="bubble",
                        autoscroll=True,
                    )
                    with gr.Row(elem_id="ask-row"):
                        # no autofocus: focusing a box below the fold scrolls the page on load (FOCUS_JS instead)
                        p.question = gr.Textbox(
                            label="你的问题",
                            show_label=False,
                            placeholder="输入问题，回车发送",
                            lines=1,
                            max_lines=6,
                            scale=6,
                            min_width=150,
                            elem_id="question",
                        )
                        p.send = gr.Button("发送", variant="primary", scale=1, min_width=64, elem_id="send")
                        p.new_chat = gr.Button("新对话", scale=1, min_width=72, elem_id="new-chat")
                    p.status = gr.HTML("", elem_id="qa-status")
                    with gr.Column(visible=False, elem_id="feedback-box") as p.feedback_box:
                        with gr.Row(equal_height=True, elem_id="share-row"):
                            p.share_copy = gr.Button(
                                "复制回答（可粘贴到微信）", size="sm", scale=0, min_width=200, elem_id="share-copy"
                            )
                            p.share_docx = gr.DownloadButton(
                                "下载 Word（.docx）", size="sm", scale=0, min_width=160, elem_id="share-docx"
                            )
                            p.share_status = gr.HTML("", elem_id="share-status")
                        with gr.Row(equal_height=True):
                            p.rating = gr.Radio(
                                list(H.RATINGS),
                                label="最新这条回答有帮助吗？",
                                elem_id="rating",
                                scale=2,
                            )
                            p.comment = gr.Textbox(
                                label="补充意见（可选）",
                                placeholder="例如：缺少某个社区的做法、引用不准……",
                                elem_id="comment",
                                scale=3,
                            )
                            p.feedback_go = gr.Button("提交反馈", elem_id="feedback-submit", scale=1, min_width=90)
                        p.feedback_status = gr.HTML("", elem_id="feedback-status")
                        with gr.Column(visible=False, elem_id="relate-box") as p.relate_box:
                            gr.HTML(R.intro(
                                "没答到点子上？选出真正能回答这个问题的讲稿段落，把问题关联过去："
                                "以后再有人问相同或相近的问题，会先找到这一段。"
                            ))
                            p.relate_question = gr.Textbox(label="要关联的问题", max_lines=3, elem_id="relate-question")
                            with gr.Row(equal_height=True):
                                p.relate_case = gr.Dropdown(
                                    view.case_choices, label="能回答它的讲稿", elem_id="relate-case", scale=2
                                )
                                p.relate_passage = gr.Dropdown(
                                    [], label="段落（选中后在右侧原文中高亮）", elem_id="relate-passage", scale=3
                                )
                            p.relate_go = gr.Button("关联到这个段落", elem_id="relate-go")
                            p.relate_status = gr.HTML("", elem_id="relate-status")
                with gr.Column(scale=2, min_width=340):
                    p.sources = gr.HTML(R.sources_empty(), elem_id="sources")
                    p.viewer = gr.HTML(R.viewer_empty(), elem_id="qa-viewer")
            p.answer_json = gr.JSON(visible=False)
            p.chat = gr.State([])
            p.conversation = gr.State(None)
            p.turns = gr.State([])

        # ---------------------------------------------------------- 找相似案例
        with gr.Tab("找相似案例", id="similar", elem_id="tab-similar"):
            gr.HTML(R.intro("用两三句话描述你们遇到的情况，找出遇到过类似问题的社区：他们做了什么、效果如何，以及相似在哪里。"))
            with gr.Row():
                with gr.Column(scale=4):
                    p.situation = gr.Textbox(
                        label="你们的情况",
                        lines=4,
                        placeholder="例如：" + EXAMPLE_SITUATIONS[0],
                        elem_id="situation",
                    )
                with gr.Column(scale=1, min_width=180):
                    p.k_cases = gr.Slider(1, 8, value=3, step=1, label="列出几个案例", buttons=[], elem_id="k-cases")
                    p.find_go = gr.Button("查找相似案例", variant="primary", elem_id="find-similar")
            gr.Examples(EXAMPLE_SITUATIONS, inputs=p.situation, label="试试这些描述")
            p.similar = gr.HTML("", elem_id="similar-results")

        # ---------------------------------------------------------- 培训讨论题
        with gr.Tab("培训讨论题", id="handout", elem_id="tab-handout"):
            gr.HTML(R.intro("选一个案例或一个话题，生成情境研讨、对比分析、角色扮演、反思迁移四类讨论题，每道题都附讲稿原文出处，可下载为 Word 或 Markdown 讲义。"))
            with gr.Row(equal_height=False):
                with gr.Column(scale=1, min_width=300):
                    p.handout_by = gr.Radio([H.BY_CASE, H.BY_TOPIC], value=H.BY_CASE, label="出题依据", elem_id="handout-by")
                    p.handout_case = gr.Dropdown(view.case_choices, label="案例", elem_id="handout-case")
                    p.handout_topic = gr.Dropdown(view.topic_choices, label="话题", visible=False, elem_id="handout-topic")
                    p.handout_n = gr.Slider(1, 20, value=6, step=1, label="题目数量", buttons=[], elem_id="handout-n")
                    p.handout_go = gr.Button("生成讨论题", variant="primary", elem_id="make-handout")
                    with gr.Row():
                        p.docx = gr.DownloadButton("下载 Word（.docx）", visible=False, elem_id="dl-docx")
                        p.md = gr.DownloadButton("下载 Markdown（.md）", visible=False, elem_id="dl-md")
                with gr.Column(scale=3):
                    p.handout = gr.HTML(R.handout_empty(), elem_id="handout-preview")

        # -------------------------------------------------------------- 案例库
        with gr.Tab("案例库", id="library", elem_id="tab-library"):
            with gr.Row():
                p.town = gr.Dropdown(view.town_choices, value=H.ALL, label="街道 / 镇", elem_id="f-town")
                p.community_type = gr.Dropdown([H.ALL, *COMMUNITY_TYPES], value=H.ALL, label="社区类型", elem_id="f-type")
                p.tag = gr.Dropdown(view.tag_choices, value=H.ALL, label="话题标签", elem_id="f-tag")
                p.open_case = gr.Dropdown(view.case_choices, label="打开案例", elem_id="f-open")
            p.case_list = gr.HTML(view.list_html, elem_id="case-list")
            p.case_detail = gr.HTML("", elem_id="case-detail")
            with gr.Accordion("添加讲稿（.txt / .md / .docx / .pdf）", open=False, elem_id="upload-box"):
                gr.HTML(R.intro("上传后自动读出作者、社区和章节，加入案例库，问答与检索随即可用。汇编文件按作者行自动拆分；单篇讲稿如果没有作者行，请在下方“单篇讲稿的补充信息”中填写作者等信息。"))
                p.files = gr.File(file_count="multiple", file_types=[".txt", ".md", ".docx", ".pdf"], label="选择文件", elem_id="upload-files")
                with gr.Accordion("单篇讲稿的补充信息（没有作者行时填写）", open=True, elem_id="upload-fields") as p.meta_box:
                    with gr.Row():
                        title = gr.Textbox(label="标题")
                        author = gr.Textbox(label="作者姓名")
                        role = gr.Textbox(label="职务", placeholder="例如：党总支书记")
                    with gr.Row():
                        town = gr.Textbox(label="街道 / 镇")
                        community = gr.Textbox(label="社区 / 村")
                        community_type = gr.Dropdown(["", *COMMUNITY_TYPES], value="", label="社区类型")
                        instructor = gr.Textbox(label="指导老师")
                p.meta = {
                    "title": title, "author": author, "role": role, "town": town, "community": community,
                    "community_type": community_type, "instructor": instructor,
                }
                with gr.Row():
                    p.upload_go = gr.Button("添加到案例库", variant="primary", elem_id="upload-go")
                    p.upload_cancel = gr.Button("取消上传", elem_id="upload-cancel")
                p.upload_status = gr.HTML("", elem_id="upload-status")
            with gr.Accordion("讲稿未覆盖的提问（内容缺口）", open=False, elem_id="gaps-box"):
                p.gaps = gr.HTML("", elem_id="gaps")
                p.gaps_refresh = gr.Button("刷新", size="sm", elem_id="gaps-refresh")

    p.link_target = gr.Textbox(visible="hidden", elem_id="link-target")
    # outside the feedback box: showing that box would show a hidden child too
    p.share_text = gr.Textbox(visible="hidden", label="回答全文", elem_id="share-text")
    p.link_go = gr.Button("open", visible="hidden", elem_id="link-go")
    return p


def _put(out: dict, component: object, value: Any) -> None:
    """Set ``component`` to ``value`` unless a handler left it as it is (``None``)."""
    if value is not None:
        out[component] = value


def _choices(choices: list, value: Any) -> dict:
    """New choices for a dropdown, keeping its value while it is still one of them."""
    values = {c[1] if isinstance(c, tuple) else c for c in choices}
    return gr.update(choices=choices, value=value if value in values else None)


class _Events:
    """Gradio's side of each event: component values in, one handler call, its result mapped onto the outputs.

    A method returning a dict updates only the components it names (Gradio
    leaves the other outputs as they are).
    """

    def __init__(self, page: _Page, backend: H.Backend) -> None:
        self.p = page
        self.backend = backend

    # ---------------------------------------------------------------- 问答
    # Method names name the private endpoints in the page's config; the
    # parameter names of the ``api_name`` events are the public API's: keep both.
    def respond(self, text, chat, conversation, turns, request: gr.Request) -> Iterator[dict]:
        """Stream one answer into the chat; errors become a notice, never a trace."""
        p = self.p
        for r in H.ask(self.backend, text, chat, conversation, turns, username=getattr(request, "username", None)):
            out: dict = {p.chat: r.chat, p.conversation: r.conversation, p.turns: r.turns}
            if r.redraw_chat:
                out[p.chatbot] = r.chat
            _put(out, p.question, r.question)
            _put(out, p.sources, r.sources_html)
            _put(out, p.viewer, r.viewer_html)
            _put(out, p.status, r.notice_html)
            if r.answer is not None:  # a fresh answer: the feedback form opens, empty
                out.update({
                    p.answer_json: r.answer.to_dict(), p.feedback_box: gr.update(visible=True),
                    p.rating: None, p.comment: "", p.feedback_status: "",
                    p.relate_box: gr.update(visible=False), p.relate_status: "",
                })
            yield out

    def pick_example(self, data: gr.SelectData) -> str:
        return data.value["text"] if isinstance(data.value, dict) else str(data.value)

    def new_chat(self) -> dict:
        p, r = self.p, H.new_chat()
        return {
            p.chatbot: r.chat, p.chat: r.chat, p.conversation: r.conversation, p.turns: r.turns,
            p.sources: r.sources_html, p.viewer: r.viewer_html, p.feedback_box: gr.update(visible=False),
            p.rating: None, p.comment: "", p.feedback_status: "", p.status: r.notice_html, p.answer_json: None,
            p.relate_box: gr.update(visible=False), p.share_text: "", p.share_status: "",
        }

    def share(self, turns) -> dict:
        """After an answer: its text for 复制回答 and its Word file for 下载 Word."""
        p, r = self.p, H.share_latest(turns)
        return {
            p.share_text: r.text,
            p.share_docx: gr.update(value=str(r.docx), visible=True) if r.docx else gr.update(visible=False),
            p.share_status: r.notice_html,
        }

    def _feedback(self, r: H.FeedbackResult) -> dict:
        out: dict = {self.p.turns: r.turns}
        _put(out, self.p.feedback_status, r.status_html)
        _put(out, self.p.comment, r.comment)
        return out

    def _relate_form(self, question: str | None) -> dict:
        """没帮助: offer to link the question to the passage that answers it (otherwise leave the form)."""
        if question is None:
            return {}
        return {self.p.relate_box: gr.update(visible=True), self.p.relate_question: question, self.p.relate_status: ""}

    def offer_relate(self, rating_value, turns) -> dict:
        """After 提交反馈 (the public feedback API keeps its outputs): open the link form on 没帮助."""
        return self._relate_form(H.relate_offer(turns, rating_value))

    def relate_case(self, case_id) -> dict:
        p, r = self.p, H.relate_case(self.backend, case_id)
        out: dict = {p.relate_passage: gr.update(choices=r.choices, value=None), p.relate_status: r.notice_html}
        _put(out, p.viewer, r.viewer_html)
        return out

    def relate_passage(self, case_id, passage) -> dict:
        r = H.relate_passage(self.backend, case_id, passage)
        out: dict = {self.p.relate_status: r.notice_html}
        _put(out, self.p.viewer, r.viewer_html)
        return out

    def relate(self, question, case_id, passage, request: gr.Request, progress=gr.Progress()) -> dict:
        r = H.relate(
            self.backend, question, case_id, passage, username=getattr(request, "username", None),
            progress=lambda fraction, message: progress(fraction, desc=message),
        )
        return {self.p.relate_status: r.status_html}

    def submit_feedback(self, rating_value, text, turns, request: gr.Request) -> dict:
        """Rate the latest answer (👍/👎) with an optional comment."""
        return self._feedback(H.submit_feedback(
            self.backend, rating_value, text, turns,
            session=getattr(request, "session_hash", None), username=getattr(request, "username", None),
        ))

    def like(self, turns, comment, data: gr.LikeData, request: gr.Request) -> dict:
        """The thumbs under any answer in the chat."""
        index = data.index if isinstance(data.index, int) else data.index[0]
        r = H.rate_answer(
            self.backend, turns, index, data.liked, comment,
            session=getattr(request, "session_hash", None), username=getattr(request, "username", None),
        )
        return {**self._feedback(r), **self._relate_form(r.relate_question)}

    def open_link(self, value) -> dict:
        p, r = self.p, H.open_link(self.backend, value)
        out: dict = {p.status: r.notice_html}
        _put(out, p.viewer, r.viewer_html)
        _put(out, p.case_detail, r.case_detail_html)
        if r.case_id is not None:
            out.update({p.tabs: gr.Tabs(selected="library"), p.open_case: r.case_id})
        return out

    # ---------------------------------------------------------- 找相似案例
    def find_similar(self, text, k) -> str:
        return H.find_similar(self.backend, text, k).html

    # ---------------------------------------------------------- 培训讨论题
    def switch_by(self, by) -> dict:
        return {
            self.p.handout_case: gr.update(visible=by != H.BY_TOPIC),
            self.p.handout_topic: gr.update(visible=by == H.BY_TOPIC),
        }

    def make_handout(self, by_value, case_id, topic, n) -> dict:
        p, r = self.p, H.make_handout(self.backend, by_value, case_id, topic, n)

        def download(path) -> dict:
            return gr.update(value=str(path), visible=True) if path else gr.update(visible=False)

        return {p.handout: r.preview_html, p.docx: download(r.docx), p.md: download(r.md)}

    # -------------------------------------------------------------- 案例库
    def filter_cases(self, town, community_type, tag) -> dict:
        p, r = self.p, H.filter_library(self.backend, town, community_type, tag)
        out: dict = {p.case_list: r.list_html}
        if r.case_choices is not None:
            out[p.open_case] = gr.update(choices=r.case_choices, value=None)
        return out

    def open_case(self, case_id):
        r = H.open_case(self.backend, case_id)
        return gr.update() if r.detail_html is None else r.detail_html

    def upload(
        self, paths, title, author, role, town, community, ctype, instructor,
        request: gr.Request, progress=gr.Progress(),
    ) -> dict:
        """Add the files; the page's library follows in :meth:`refresh_library` (chained)."""
        p = self.p
        meta = dict(zip(H.UPLOAD_FIELDS, (title, author, role, town, community, ctype, instructor)))
        r = H.upload(
            self.backend, paths, meta,
            progress=lambda fraction, message: progress(fraction, desc=message),
            username=getattr(request, "username", None), session=getattr(request, "session_hash", None),
        )
        out: dict = {p.upload_status: r.status_html}
        if r.ask_fields:  # a script without its author line: show the fields that supply it
            out[p.meta_box] = gr.update(open=True)
        return out

    def show_gaps(self) -> str:
        return H.gaps_view(self.backend).html

    def cancel_upload(self, request: gr.Request) -> str:
        return H.cancel_upload(self.backend, getattr(request, "session_hash", None))

    def refresh_library(
        self, shown, town, ctype, tag, open_case, handout_case, handout_topic, relate_case, request: gr.Request,
        *, force: bool = False,
    ) -> dict:
        """Bring the library parts of the page to the published index (nothing when it is the one shown).

        Run by every page's timer, after an upload and when a page opens:
        the header, the case list under the page's filters, the filters'
        choices and the cases and topics to pick from in every tab.
        """
        p = self.p
        r = H.refresh_library(
            self.backend, None if force else shown, town, ctype, tag,
            username=getattr(request, "username", None), force=force,
        )
        if r is None:  # the usual tick: nothing published since
            return {p.library_version: gr.skip()}
        v = r.view
        out: dict = {
            p.library_version: v.version,
            p.header: v.header_html,
            p.case_list: r.filtered.list_html,
            p.town: gr.update(choices=v.town_choices, value=r.town),
            p.tag: gr.update(choices=v.tag_choices, value=r.tag),
            p.handout_case: _choices(v.case_choices, handout_case),
            p.handout_topic: _choices(v.topic_choices, handout_topic),
            p.relate_case: _choices(v.case_choices, relate_case),
        }
        if r.filtered.case_choices is not None:
            out[p.open_case] = _choices(r.filtered.case_choices, open_case)
        return out

    def on_load(self, shown, town, ctype, tag, open_case, handout_case, handout_topic, relate_case, request: gr.Request) -> dict:
        """A page opens: the library as published now (the layout was filled when the server started)."""
        out = self.refresh_library(
            shown, town, ctype, tag, open_case, handout_case, handout_topic, relate_case, request, force=True
        )
        return {**out, self.p.gaps: H.gaps_view(self.backend).html}


def _wire(app: gr.Blocks, p: _Page, ev: _Events) -> None:
    """Connect the events (inside ``gr.Blocks``).  ``api_name`` ones are the public API (gradio_client)."""
    ask_inputs = [p.question, p.chat, p.conversation, p.turns]
    ask_outputs = [
        p.question, p.chatbot, p.chat, p.sources, p.viewer, p.conversation, p.turns, p.answer_json,
        p.feedback_box, p.rating, p.comment, p.feedback_status, p.status, p.relate_box, p.relate_status,
    ]
    share: dict[str, Any] = dict(
        fn=ev.share, inputs=p.turns, outputs=[p.share_text, p.share_docx, p.share_status],
        api_visibility="private", concurrency_id="feedback", show_progress="hidden",
    )
    p.question.submit(ev.respond, ask_inputs, ask_outputs, api_name="ask", show_progress="hidden").then(**share)
    p.send.click(ev.respond, ask_inputs, ask_outputs, api_visibility="private", show_progress="hidden").then(**share)
    p.chatbot.example_select(ev.pick_example, None, p.question, api_visibility="private", queue=False).then(
        ev.respond, ask_inputs, ask_outputs, api_visibility="private", show_progress="hidden"
    ).then(**share)
    cleared = [
        p.chatbot, p.chat, p.conversation, p.turns, p.sources, p.viewer, p.feedback_box, p.rating, p.comment,
        p.feedback_status, p.status, p.answer_json, p.relate_box, p.share_text, p.share_status,
    ]
    p.new_chat.click(ev.new_chat, None, cleared, api_visibility="private", queue=False)
    # the chat's own 清空对话 button: the same fresh start (else the next answer brings the old chat back)
    p.chatbot.clear(ev.new_chat, None, cleared, api_visibility="private", queue=False)
    p.share_copy.click(None, p.share_text, p.share_status, js=COPY_JS, api_visibility="private", queue=False)
    fb: dict[str, Any] = dict(concurrency_id="feedback", concurrency_limit=8)  # never waits behind answers
    relate_form = [p.relate_box, p.relate_question, p.relate_status]
    p.feedback_go.click(
        ev.submit_feedback, [p.rating, p.comment, p.turns], [p.turns, p.comment, p.feedback_status],
        api_name="feedback", **fb,
    ).then(ev.offer_relate, [p.rating, p.turns], relate_form, api_visibility="private", queue=False)
    p.chatbot.like(
        ev.like, [p.turns, p.comment], [p.turns, p.feedback_status, *relate_form], api_visibility="private", **fb
    )
    p.relate_case.input(
        ev.relate_case, p.relate_case, [p.relate_passage, p.relate_status, p.viewer],
        api_visibility="private", concurrency_id="view", concurrency_limit=4, show_progress="hidden",
    )
    p.relate_passage.input(
        ev.relate_passage, [p.relate_case, p.relate_passage], [p.relate_status, p.viewer],
        api_visibility="private", concurrency_id="view", concurrency_limit=4, show_progress="hidden",
    ).then(None, js=SCROLL_JS)
    p.relate_go.click(
        ev.relate, [p.relate_question, p.relate_case, p.relate_passage], p.relate_status,
        api_name="relate", concurrency_id="ingest", concurrency_limit=1,
    )
    p.link_go.click(
        ev.open_link, p.link_target, [p.viewer, p.case_detail, p.tabs, p.open_case, p.status],
        api_visibility="undocumented", concurrency_id="view", concurrency_limit=4, show_progress="hidden",
    ).then(None, js=OPEN_CASE_JS)

    p.find_go.click(ev.find_similar, [p.situation, p.k_cases], p.similar, api_name="similar")
    p.situation.submit(ev.find_similar, [p.situation, p.k_cases], p.similar, api_visibility="private")

    p.handout_by.change(
        ev.switch_by, p.handout_by, [p.handout_case, p.handout_topic], api_visibility="private", queue=False
    )
    p.handout_go.click(
        ev.make_handout, [p.handout_by, p.handout_case, p.handout_topic, p.handout_n], [p.handout, p.docx, p.md],
        api_name="handout",
    )

    filters = [p.town, p.community_type, p.tag]
    for f in filters:
        f.change(
            ev.filter_cases, filters, [p.case_list, p.open_case], api_visibility="private", show_progress="hidden"
        )
    # ``input``, not ``change``: only a user's pick re-renders the case.  A
    # citation link also sets this dropdown, and a ``change`` handler would
    # then overwrite the highlighted passage with the unmarked case text.
    p.open_case.input(ev.open_case, p.open_case, p.case_detail, api_name="case", show_progress="hidden").then(
        None, js=OPEN_CASE_JS
    )
    library_inputs = [
        p.library_version, p.town, p.community_type, p.tag, p.open_case, p.handout_case, p.handout_topic,
        p.relate_case,
    ]
    library_outputs = [
        p.library_version, p.header, p.case_list, p.town, p.tag, p.open_case, p.handout_case, p.handout_topic,
        p.relate_case,
    ]
    # The progress shows in the upload area only (show_progress_on), not over the whole page.
    p.upload_go.click(
        ev.upload, [p.files, *(p.meta[k] for k in H.UPLOAD_FIELDS)], [p.upload_status, p.meta_box],
        api_name="upload", concurrency_id="ingest", concurrency_limit=1, show_progress_on=[p.upload_status],
    ).then(
        ev.refresh_library, library_inputs, library_outputs, api_visibility="private", show_progress="hidden",
        queue=False,
    )
    # every open page: a new index version (an upload anywhere) refreshes its library parts
    p.library_timer.tick(
        ev.refresh_library, library_inputs, library_outputs, api_visibility="private", show_progress="hidden",
        queue=False,
    )
    p.gaps_refresh.click(ev.show_gaps, None, p.gaps, api_visibility="private", concurrency_id="feedback")
    # Not Gradio's ``cancels``: that cancels the asyncio task and then waits for the handler's
    # thread to finish.  The handler's own stop flag ends it at the next embedding batch instead,
    # and its last update says what happened.
    p.upload_cancel.click(ev.cancel_upload, None, p.upload_status, api_name="cancel_upload", queue=False)
    app.load(
        ev.on_load, library_inputs, [*library_outputs, p.gaps],
        api_visibility="private", queue=False, show_progress="hidden",
    ).then(None, js=FOCUS_JS)


def build_app(
    settings: Settings | None = None, store: FeedbackStore | None = None, *, backend: H.Backend | None = None
) -> gr.Blocks:
    """The Blocks app; launch it with :func:`launch` (theme, CSS and script are launch options in Gradio 6)."""
    backend = backend or H.Backend(settings or get_settings(), store)
    view = H.library_view(backend)  # loads the index before the first user arrives
    with gr.Blocks(title="基层治理案例问答助手") as app:
        page = _layout(view)
        _wire(app, page, _Events(page, backend))
    app.queue(
        default_concurrency_limit=CONCURRENCY_LLM if backend.mode == "llm" else CONCURRENCY_EXTRACTIVE,
        max_size=QUEUE_MAX,
    )
    return app


def theme() -> gr.themes.Base:
    # Local fonts only: the default themes fetch Google Fonts, which an intranet cannot reach.
    fonts = ["Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "sans-serif"]
    return gr.themes.Soft(
        primary_hue="red",
        secondary_hue="amber",
        neutral_hue="stone",
        font=fonts,
        font_mono=["Noto Sans Mono CJK SC", "monospace"],
    ).set(
        body_background_fill="#faf8f5",
        block_radius="10px",
        button_primary_background_fill="#b91c1c",
        button_primary_background_fill_hover="#991b1b",
        button_primary_text_color="#ffffff",
        block_title_background_fill="transparent",
        block_title_text_color="*neutral_700",
        block_title_padding="0 0 4px 0",
        block_label_background_fill="*neutral_50",
        block_label_text_color="*neutral_600",
        block_label_text_size="*text_sm",
        # text contrast ≥ 4.5:1 (WCAG AA): Soft's amber links and grey secondary text fall short
        link_text_color="#9f1239",
        link_text_color_hover="#7f1d1d",
        link_text_color_visited="#9f1239",
        link_text_color_active="#7f1d1d",
        body_text_color_subdued="#57534e",
        checkbox_label_background_fill_selected="*primary_50",
        checkbox_label_text_color_selected="*primary_800",
    )


def launch_options() -> dict:
    """App-level options that Gradio 6 takes in ``launch()`` rather than ``Blocks()``."""
    return {"theme": theme(), "css": R.CSS, "head": HEAD}


def launch(
    app: gr.Blocks,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth=None,
    *,
    block: bool = True,
    quiet: bool = False,
    throttle: LoginThrottle | None = None,
):
    """Start the server; with ``block=False`` return at once (tests) and stop with ``app.close()``.

    With ``auth``, :class:`assistant.ui.guard.LoginGuard` throttles failed
    logins (``throttle``, a fresh :class:`~assistant.auth.LoginThrottle` by
    default) and keeps the API description off the login page.
    """
    guard = [Middleware(LoginGuard, throttle=throttle or LoginThrottle())] if auth else []
    return app.launch(
        app_kwargs={"middleware": guard},
        server_name=host,
        server_port=port,
        auth=auth,
        auth_message="基层治理案例问答助手：请输入用户名和密码登录。" if auth else None,
        prevent_thread_lock=not block,
        quiet=quiet,
        share=False,
        inbrowser=False,
        show_error=False,  # errors are shown as our own Chinese messages, never as traces
        footer_links=[],
        max_file_size="20mb",
        ssr_mode=False,
        **launch_options(),
    )
