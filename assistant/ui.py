"""The web UI: Gradio Blocks with four tabs (问答 / 找相似案例 / 培训讨论题 / 案例库).

Thin by design: every handler calls the same Python API as the CLI
(:func:`assistant.answer.Answerer.ask`, :class:`assistant.similar.SimilarFinder`,
:func:`assistant.handout.build_handout`, :mod:`assistant.cards`,
:func:`assistant.ingest.add_documents`, :class:`assistant.feedback.FeedbackStore`)
and turns the result into HTML (:mod:`assistant.ui_render`).

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

import logging
import queue
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import gradio as gr

from assistant import ui_render as R
from assistant.config import Settings, get_settings
from assistant.errors import AssistantError, InputError
from assistant.feedback import FeedbackStore

log = logging.getLogger(__name__)

# Answers are CPU-bound (jieba + BM25 + one e5 query, ~0.1-0.4 s) on two
# cores: more than two at once only adds contention.  An LLM answer mostly
# waits on the network, so more may wait together.
CONCURRENCY_EXTRACTIVE = 2
CONCURRENCY_LLM = 8
QUEUE_MAX = 200  # beyond this a user is told the service is busy instead of waiting forever
STREAM_EVERY = 0.1  # seconds between streamed chat updates

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
HEAD = """
<script>
(() => {
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


def _mode(settings: Settings) -> tuple[str, str | None]:
    from assistant.llm import llm_configured

    return ("llm", settings.llm_model) if llm_configured(settings) else ("extractive", None)


def _friendly(exc: BaseException) -> str:
    """A message for the user: ours as they are, anything else without internals."""
    if isinstance(exc, AssistantError):
        return str(exc)
    log.exception("unexpected error in a UI handler")
    return "抱歉，处理时出了问题。请稍后重试；如果一直出现，请联系管理员查看服务日志。"


def _parse_link(value: str) -> tuple[str, str, int, int]:
    """``cite/<case>/<start>/<end>|<nonce>`` → (kind, case id, start, end)."""
    parts = (value or "").split("|", 1)[0].split("/")
    if len(parts) != 4 or parts[0] not in ("cite", "case"):
        raise InputError("无法识别的链接。")
    try:
        return parts[0], unquote(parts[1]), int(parts[2]), int(parts[3])
    except ValueError:
        raise InputError("无法识别的链接。") from None


class _Backend:
    """What the handlers need, looked up per call so an updated index is picked up."""

    def __init__(self, settings: Settings, store: FeedbackStore) -> None:
        self.settings = settings
        self.store = store

    def searcher(self):
        from assistant.retrieval import get_searcher

        return get_searcher(self.settings)

    def answerer(self):
        from assistant.answer import get_answerer

        return get_answerer(self.settings)

    def cards(self):
        from assistant.cards import cards_for

        return cards_for(self.searcher().index.cases)

    def case(self, case_id: str):
        cases = self.searcher().index.cases
        if case_id not in cases:
            raise InputError(f"案例 {case_id} 不在当前案例库中（可能已被移除），请刷新页面。")
        return cases[case_id]


def build_app(settings: Settings | None = None, store: FeedbackStore | None = None) -> gr.Blocks:
    """The Blocks app; launch it with :func:`launch` (theme, CSS and script are launch options in Gradio 6)."""
    settings = settings or get_settings()
    backend = _Backend(settings, store or FeedbackStore())
    mode, model = _mode(settings)
    cards = backend.cards()  # loads the index before the first user arrives
    n_cases = len(cards)

    with gr.Blocks(title="基层治理案例问答助手") as app:
        header = gr.HTML(R.header(mode, model, n_cases, None), elem_id="app-header")
        with gr.Tabs(elem_id="tabs") as tabs:
            # ---------------------------------------------------------------- 问答
            with gr.Tab("问答", id="qa", elem_id="tab-qa"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=420):
                        chatbot = gr.Chatbot(
                            label="问答",
                            show_label=False,
                            elem_id="chat",
                            height=560,
                            placeholder=R.chat_placeholder(n_cases),
                            examples=[{"text": q} for q in EXAMPLE_QUESTIONS],
                            feedback_options=("Like", "Dislike"),
                            buttons=["copy"],
                            layout="bubble",
                            autoscroll=True,
                        )
                        with gr.Row(elem_id="ask-row"):
                            question = gr.Textbox(
                                show_label=False,
                                placeholder="输入问题，回车发送；答完可接着追问，如“那资金从哪里来？”",
                                lines=1,
                                max_lines=6,
                                scale=6,
                                elem_id="question",
                                autofocus=True,
                            )
                            send = gr.Button("发送", variant="primary", scale=1, min_width=80, elem_id="send")
                            clear = gr.Button("新对话", scale=1, min_width=80, elem_id="new-chat")
                        status = gr.HTML("", elem_id="qa-status")
                        with gr.Column(visible=False, elem_id="feedback-box") as feedback_box:
                            with gr.Row(equal_height=True):
                                rating = gr.Radio(
                                    ["有帮助", "没帮助"],
                                    label="最新这条回答有帮助吗？",
                                    elem_id="rating",
                                    scale=2,
                                )
                                comment = gr.Textbox(
                                    label="补充意见（可选）",
                                    placeholder="例如：缺少某个社区的做法、引用不准……",
                                    elem_id="comment",
                                    scale=3,
                                )
                                feedback_btn = gr.Button("提交反馈", elem_id="feedback-submit", scale=1, min_width=90)
                            feedback_status = gr.HTML("", elem_id="feedback-status")
                    with gr.Column(scale=2, min_width=340):
                        sources = gr.HTML(R.sources_empty(), elem_id="sources")
                        viewer = gr.HTML(R.viewer_empty(), elem_id="qa-viewer")
                answer_json = gr.JSON(visible=False)
                history = gr.State([])
                conversation = gr.State(None)
                turns = gr.State([])

            # ---------------------------------------------------------- 找相似案例
            with gr.Tab("找相似案例", id="similar", elem_id="tab-similar"):
                gr.HTML(R.intro("用两三句话描述你们遇到的情况，找出遇到过类似问题的社区：他们做了什么、效果如何，以及相似在哪里。"))
                with gr.Row():
                    with gr.Column(scale=4):
                        situation = gr.Textbox(
                            label="你们的情况",
                            lines=4,
                            placeholder="例如：" + EXAMPLE_SITUATIONS[0],
                            elem_id="situation",
                        )
                    with gr.Column(scale=1, min_width=180):
                        k_cases = gr.Slider(1, 8, value=3, step=1, label="列出几个案例", elem_id="k-cases")
                        find_btn = gr.Button("查找相似案例", variant="primary", elem_id="find-similar")
                gr.Examples(EXAMPLE_SITUATIONS, inputs=situation, label="试试这些描述")
                similar_out = gr.HTML("", elem_id="similar-results")

            # ---------------------------------------------------------- 培训讨论题
            with gr.Tab("培训讨论题", id="handout", elem_id="tab-handout"):
                gr.HTML(R.intro("选一个案例或一个话题，生成情境研讨、对比分析、角色扮演、反思迁移四类讨论题，每道题都附讲稿原文出处，可下载为 Word 或 Markdown 讲义。"))
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1, min_width=300):
                        by = gr.Radio(["按案例", "按话题"], value="按案例", label="出题依据", elem_id="handout-by")
                        case_pick = gr.Dropdown(R.case_choices(cards), label="案例", elem_id="handout-case")
                        topic_pick = gr.Dropdown(R.topic_choices(cards), label="话题", visible=False, elem_id="handout-topic")
                        n_questions = gr.Slider(1, 20, value=6, step=1, label="题目数量", elem_id="handout-n")
                        make_btn = gr.Button("生成讨论题", variant="primary", elem_id="make-handout")
                        with gr.Row():
                            docx_btn = gr.DownloadButton("下载 Word（.docx）", visible=False, elem_id="dl-docx")
                            md_btn = gr.DownloadButton("下载 Markdown（.md）", visible=False, elem_id="dl-md")
                    with gr.Column(scale=3):
                        handout_out = gr.HTML(R.handout_empty(), elem_id="handout-preview")

            # -------------------------------------------------------------- 案例库
            with gr.Tab("案例库", id="library", elem_id="tab-library"):
                with gr.Row():
                    town_pick = gr.Dropdown(R.town_choices(cards), value="全部", label="街道 / 镇", elem_id="f-town")
                    type_pick = gr.Dropdown(["全部", "居民区", "村", "街区"], value="全部", label="社区类型", elem_id="f-type")
                    tag_pick = gr.Dropdown(R.tag_choices(cards), value="全部", label="话题标签", elem_id="f-tag")
                    open_pick = gr.Dropdown(R.case_choices(cards), label="打开案例", elem_id="f-open")
                case_list = gr.HTML(R.case_list(list(cards.values())), elem_id="case-list")
                case_detail = gr.HTML("", elem_id="case-detail")
                with gr.Accordion("添加讲稿（.txt / .md / .docx / .pdf）", open=False, elem_id="upload-box"):
                    gr.HTML(R.intro("上传后自动解析作者、社区和章节并更新索引，问答与检索立即可用。汇编文件按作者行自动拆分；单篇讲稿如缺少作者行，请在下方补充信息。"))
                    files = gr.File(file_count="multiple", file_types=[".txt", ".md", ".docx", ".pdf"], label="选择文件", elem_id="upload-files")
                    with gr.Accordion("单篇讲稿的补充信息（可选）", open=False):
                        with gr.Row():
                            meta_title = gr.Textbox(label="标题")
                            meta_author = gr.Textbox(label="作者姓名")
                            meta_role = gr.Textbox(label="职务", placeholder="例如：党总支书记")
                        with gr.Row():
                            meta_town = gr.Textbox(label="街道 / 镇")
                            meta_community = gr.Textbox(label="社区 / 村")
                            meta_type = gr.Dropdown(["", "居民区", "村", "街区"], value="", label="社区类型")
                            meta_instructor = gr.Textbox(label="指导老师")
                    upload_btn = gr.Button("添加到案例库", variant="primary", elem_id="upload-go")
                    upload_status = gr.HTML("", elem_id="upload-status")

        # hidden plumbing for citation links (see HEAD)
        link_target = gr.Textbox(visible="hidden", elem_id="link-target")
        link_go = gr.Button("open", visible="hidden", elem_id="link-go")

        # ------------------------------------------------------------ handlers
        def respond(text, hist, conv, trn, request: gr.Request):
            """Stream one answer into the chat; errors become a notice, never a trace."""
            from assistant.answer import Conversation
            from assistant.retrieval import check_question

            hist = list(hist or [])
            conv = conv or Conversation()
            trn = list(trn or [])
            keep = gr.update()
            try:
                q = check_question(text, settings.max_question_chars)
            except InputError as exc:
                yield (text, keep, hist, keep, keep, conv, trn, keep, keep, keep, keep, keep, R.error(str(exc)))
                return
            hist += [{"role": "user", "content": R.user_message(q)}, {"role": "assistant", "content": R.pending()}]
            yield ("", hist, hist, keep, keep, conv, trn, keep, keep, keep, keep, keep, "")
            tokens: queue.Queue = queue.Queue()
            result: dict = {}

            def work() -> None:
                try:
                    result["answer"] = backend.answerer().ask(q, conv, on_token=tokens.put)
                except BaseException as exc:  # reported to the user below
                    result["error"] = exc

            worker = threading.Thread(target=work, name="answer", daemon=True)
            worker.start()
            streamed: list[str] = []
            last = time.monotonic()
            while worker.is_alive() or not tokens.empty():
                try:
                    streamed.append(tokens.get(timeout=0.05))
                except queue.Empty:
                    continue
                if time.monotonic() - last >= STREAM_EVERY:
                    last = time.monotonic()
                    hist[-1] = {"role": "assistant", "content": R.streaming("".join(streamed))}
                    yield (keep, hist, hist, keep, keep, conv, trn, keep, keep, keep, keep, keep, keep)
            worker.join()
            if "error" in result:
                hist = hist[:-2]
                message = _friendly(result["error"])
                yield (text, hist, hist, keep, keep, conv, trn, keep, keep, keep, keep, keep, R.error(message))
                return
            answer = result["answer"]
            cases = backend.searcher().index.cases
            hist[-1] = {"role": "assistant", "content": R.answer_message(answer, model)}
            trn.append({
                "index": len(hist) - 1,
                "question": answer.question,
                "answer": answer.answer,
                "citations": [c.to_dict() for c in answer.citations],
                "mode": answer.mode,
                "model": model if answer.mode == "llm" else None,
                "feedback_id": None,
            })
            yield (
                "", hist, hist, R.sources(answer.citations, cases), R.viewer_empty(), conv, trn,
                answer.to_dict(), gr.update(visible=True), None, "", "", "",
            )

        def pick_example(data: gr.SelectData):
            return data.value["text"] if isinstance(data.value, dict) else str(data.value)

        def new_chat():
            return [], [], None, [], R.sources_empty(), R.viewer_empty(), gr.update(visible=False), None, "", "", "", None

        def _feedback(trn, index, rating_value, text, request: gr.Request | None):
            if not trn:
                raise InputError("还没有可以评价的回答：请先提一个问题。")
            turn = next((t for t in trn if t["index"] == index), None) if index is not None else trn[-1]
            if turn is None:
                raise InputError("只能评价助手的回答。")
            rating_ = {"有帮助": "👍", "没帮助": "👎"}.get(rating_value, rating_value)
            if turn["feedback_id"] is None:
                turn["feedback_id"] = backend.store.record(
                    turn["question"], turn["answer"], turn["citations"], turn["mode"], rating_, text or "",
                    model=turn["model"],
                    session=getattr(request, "session_hash", None),
                    username=getattr(request, "username", None),
                )
            else:
                backend.store.update(turn["feedback_id"], rating=rating_ or None, comment=text if text else None)
            return turn

        def submit_feedback(rating_value, text, trn, request: gr.Request):
            """Rate the latest answer (👍/👎) with an optional comment."""
            try:
                if not rating_value and not (text or "").strip():
                    raise InputError("请先选择“有帮助”或“没帮助”，或者写一句意见。")
                _feedback(trn, None, rating_value, text, request)
            except AssistantError as exc:
                return trn, gr.update(), R.error(str(exc))
            return trn, "", R.ok("已记录，谢谢你的反馈！")

        def like(trn, text, data: gr.LikeData, request: gr.Request):
            """The thumbs under any answer in the chat."""
            liked = data.liked
            rating_ = "👍" if liked is True or liked == "Like" else "👎" if liked is False or liked == "Dislike" else None
            if rating_ is None:
                return trn, gr.update()
            try:
                _feedback(trn, data.index if isinstance(data.index, int) else data.index[0], rating_, text, request)
            except AssistantError as exc:
                return trn, R.error(str(exc))
            word = "有帮助" if rating_ == "👍" else "没帮助"
            return trn, R.ok(f"已记录：{word}。谢谢！还可以在上方写几句意见，点“提交反馈”。")

        def open_link(value):
            try:
                kind, case_id, start, end = _parse_link(value)
                case = backend.case(case_id)
            except AssistantError as exc:
                return gr.update(), gr.update(), gr.update(), gr.update(), R.error(str(exc))
            if kind == "cite":
                return R.passage_view(case, start, end), gr.update(), gr.update(), gr.update(), ""
            card = backend.cards().get(case_id)
            return gr.update(), R.case_detail(case, card, start, end), gr.Tabs(selected="library"), case_id, ""

        def find_similar(text, k):
            from assistant.similar import SimilarFinder

            try:
                results = SimilarFinder(backend.searcher()).find(text or "", int(k))
            except AssistantError as exc:
                return R.error(_friendly(exc))
            except Exception as exc:  # noqa: BLE001 - shown as a friendly message, logged with its trace
                return R.error(_friendly(exc))
            return R.similar_cards(results)

        def make_handout(by_value, case_id, topic, n):
            from assistant.handout import build_handout, write_handout

            hidden = gr.update(visible=False)
            try:
                if by_value == "按话题":
                    if not topic:
                        raise InputError("请先选择一个话题。")
                    h = build_handout(backend.cards(), topic=topic, n=int(n), settings=settings)
                else:
                    if not case_id:
                        raise InputError("请先选择一个案例。")
                    h = build_handout(backend.cards(), case_id=case_id, n=int(n), settings=settings)
                folder = Path(tempfile.gettempdir()) / "jiceng-handouts" / uuid.uuid4().hex
                folder.mkdir(parents=True)
                stem = R.handout_filename(topic if by_value == "按话题" else backend.cards()[case_id].community)
                docx = write_handout(h, folder / f"{stem}.docx")
                md = write_handout(h, folder / f"{stem}.md")
            except Exception as exc:  # noqa: BLE001 - AssistantError or a bug: a friendly message either way
                return R.error(_friendly(exc)), hidden, hidden
            return (
                R.handout_view(h),
                gr.update(value=str(docx), visible=True),
                gr.update(value=str(md), visible=True),
            )

        def switch_by(by_value):
            return gr.update(visible=by_value != "按话题"), gr.update(visible=by_value == "按话题")

        def filter_cases(town, ctype, tag):
            from assistant.cards import filter_cards

            try:
                found = filter_cards(
                    backend.cards(),
                    tag=None if tag in (None, "", "全部") else tag,
                    community_type=None if ctype in (None, "", "全部") else ctype,
                )
            except AssistantError as exc:
                return R.error(str(exc)), gr.update()
            if town not in (None, "", "全部"):
                found = [c for c in found if (c.town or "（未注明）") == town]
            return R.case_list(found), gr.update(choices=R.case_choices({c.case_id: c for c in found}), value=None)

        def open_case(case_id):
            if not case_id:
                return gr.update()
            try:
                case = backend.case(case_id)
            except AssistantError as exc:
                return R.error(str(exc))
            return R.case_detail(case, backend.cards().get(case_id), -1, -1)

        def upload(paths, title, author, role, town, community, ctype, instructor, progress=gr.Progress()):
            from assistant.ingest import add_documents

            if not paths:
                return R.error("请先选择要添加的文件。"), *_refresh_choices()
            overrides = {
                k: v.strip() for k, v in (
                    ("title", title), ("author", author), ("role", role), ("town", town),
                    ("community", community), ("community_type", ctype), ("instructor", instructor),
                ) if v and v.strip()
            }

            def on_progress(done: int, total: int) -> None:  # index update: passages embedded
                if total:
                    progress(min(done / total, 1.0), desc=f"正在向量化新段落 {done}/{total}……")

            try:
                progress(0, desc="正在读取文档……")
                report = add_documents([str(p) for p in paths], settings, overrides, progress=on_progress)
            except Exception as exc:  # noqa: BLE001
                return R.error(_friendly(exc)), *_refresh_choices()
            return R.upload_report(report), *_refresh_choices()

        def _refresh_choices():
            c = backend.cards()
            return (
                R.case_list(list(c.values())),
                gr.update(choices=R.case_choices(c), value=None),
                gr.update(choices=R.case_choices(c)),
                gr.update(choices=R.topic_choices(c)),
                gr.update(choices=R.town_choices(c), value="全部"),
                gr.update(choices=R.tag_choices(c), value="全部"),
                R.header(mode, model, len(c), None),
            )

        def on_load(request: gr.Request):
            c = backend.cards()
            return (
                R.header(mode, model, len(c), getattr(request, "username", None)),
                gr.update(choices=R.case_choices(c)),
                gr.update(choices=R.topic_choices(c)),
                gr.update(choices=R.case_choices(c)),
            )

        # ------------------------------------------------------------- wiring
        ask_inputs = [question, history, conversation, turns]
        ask_outputs = [
            question, chatbot, history, sources, viewer, conversation, turns, answer_json,
            feedback_box, rating, comment, feedback_status, status,
        ]
        question.submit(respond, ask_inputs, ask_outputs, api_name="ask", show_progress="hidden")
        send.click(respond, ask_inputs, ask_outputs, api_visibility="private", show_progress="hidden")
        chatbot.example_select(pick_example, None, question, api_visibility="private", queue=False).then(
            respond, ask_inputs, ask_outputs, api_visibility="private", show_progress="hidden"
        )
        clear.click(
            new_chat, None,
            [chatbot, history, conversation, turns, sources, viewer, feedback_box, rating, comment, feedback_status, status, answer_json],
            api_visibility="private", queue=False,
        )
        fb: dict[str, Any] = dict(concurrency_id="feedback", concurrency_limit=8)  # never waits behind answers
        feedback_btn.click(
            submit_feedback, [rating, comment, turns], [turns, comment, feedback_status], api_name="feedback", **fb
        )
        chatbot.like(like, [turns, comment], [turns, feedback_status], api_visibility="private", **fb)
        link_go.click(
            open_link, link_target, [viewer, case_detail, tabs, open_pick, status],
            api_visibility="undocumented", concurrency_id="view", concurrency_limit=4, show_progress="hidden",
        ).then(None, js=OPEN_CASE_JS)

        find_btn.click(find_similar, [situation, k_cases], similar_out, api_name="similar")
        situation.submit(find_similar, [situation, k_cases], similar_out, api_visibility="private")

        by.change(switch_by, by, [case_pick, topic_pick], api_visibility="private", queue=False)
        make_btn.click(make_handout, [by, case_pick, topic_pick, n_questions], [handout_out, docx_btn, md_btn], api_name="handout")

        for f in (town_pick, type_pick, tag_pick):
            f.change(
                filter_cases, [town_pick, type_pick, tag_pick], [case_list, open_pick],
                api_visibility="private", show_progress="hidden",
            )
        # ``input``, not ``change``: only a user's pick re-renders the case.  A
        # citation link also sets this dropdown, and a ``change`` handler would
        # then overwrite the highlighted passage with the unmarked case text.
        open_pick.input(open_case, open_pick, case_detail, api_name="case", show_progress="hidden").then(
            None, js=OPEN_CASE_JS
        )
        upload_btn.click(
            upload,
            [files, meta_title, meta_author, meta_role, meta_town, meta_community, meta_type, meta_instructor],
            [upload_status, case_list, open_pick, case_pick, topic_pick, town_pick, tag_pick, header],
            api_name="upload", concurrency_id="ingest", concurrency_limit=1,
        )
        app.load(
            on_load, None, [header, case_pick, topic_pick, open_pick],
            api_visibility="private", queue=False, show_progress="hidden",
        )
    llm = mode == "llm"
    app.queue(
        default_concurrency_limit=CONCURRENCY_LLM if llm else CONCURRENCY_EXTRACTIVE,
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
):
    """Start the server; with ``block=False`` return at once (tests) and stop with ``app.close()``."""
    return app.launch(
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
