"""The web UI's event handlers: plain functions from plain inputs to small results.

Each handler takes what the page holds (the question text, the chat as a list
of messages, the session's :class:`~assistant.answer.Conversation`, a case id,
filter values, uploaded file paths, the user's name) and a :class:`Backend`,
and returns a dataclass; the streaming answer yields a sequence of them.  The
HTML in the results comes from :mod:`assistant.ui.render`.  Which component
shows which field is decided in :mod:`assistant.ui.app`, one mapping per
event, so everything here runs without Gradio and without a browser (this
module does not import Gradio).

In the results, a field that is ``None`` leaves what the page shows as it is;
``""`` clears it.

Example::

    >>> from assistant.config import get_settings
    >>> from assistant.feedback import FeedbackStore
    >>> from assistant.ui.handlers import Backend, ask
    >>> backend = Backend(get_settings(), FeedbackStore("/tmp/feedback.db"))   # doctest: +SKIP
    >>> *_, last = ask(backend, "小区停车位不够怎么办？", [], None, [])            # doctest: +SKIP
    >>> last.answer.citations[0].quote                                         # doctest: +SKIP
"""

from __future__ import annotations

import logging
import queue
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from assistant.config import Settings
from assistant.errors import AssistantError, Cancelled, InputError
from assistant.feedback import FeedbackStore
from assistant.ui import render as R
from assistant.ui.share import SharedAnswer

if TYPE_CHECKING:
    from assistant.answer import Answer, Answerer, Conversation
    from assistant.cards import CaseCard
    from assistant.corpus import Case
    from assistant.embedding import Embedder
    from assistant.handout import Handout
    from assistant.ingest import AddReport
    from assistant.retrieval import HybridSearcher
    from assistant.similar import SimilarCase

log = logging.getLogger(__name__)

STREAM_EVERY = 0.1  # seconds between streamed chat updates
ALL = "全部"  # the "no filter" choice of the library's dropdowns
BY_CASE, BY_TOPIC = "按案例", "按话题"  # what a handout is made from
RATINGS = {"有帮助": "👍", "没帮助": "👎"}
UPLOAD_FIELDS = ("title", "author", "role", "town", "community", "community_type", "instructor")
GENERIC_ERROR = "抱歉，处理时出了问题。请稍后重试；如果一直出现，请联系管理员查看服务日志。"
FIELDS_ONE_FILE = "“单篇讲稿的补充信息”只能用于一篇讲稿：请一次只添加一个文件，或先清空补充信息。"


def friendly(exc: BaseException, where: str) -> str:
    """The message for the user: ours as they are, anything else without internals.

    Call it inside the ``except`` block that caught ``exc``: an unexpected
    error is logged there, with its traceback, naming the handler ``where``.
    """
    if isinstance(exc, AssistantError):
        return R.plain(str(exc))
    log.exception("unexpected error in the UI handler %r", where, exc_info=exc)
    return GENERIC_ERROR


class Backend:
    """What the handlers need, looked up per call so an updated index is picked up.

    By default the searcher and the answerer are the process-wide ones for
    ``settings`` (the same caches the CLI uses).  With an explicit
    ``embedder`` (tests, tools) the live index is loaded with that embedder
    instead (again whenever a new version is published) and uploaded
    documents are embedded with it.
    """

    def __init__(
        self, settings: Settings, feedback: FeedbackStore | None = None, *, embedder: Embedder | None = None
    ) -> None:
        from assistant.llm import llm_configured

        self.settings = settings
        self.feedback = feedback or FeedbackStore()
        self.embedder = embedder
        self.mode, self.model = ("llm", settings.llm_model) if llm_configured(settings) else ("extractive", None)
        self._own: tuple[object, HybridSearcher] | None = None  # (published version, searcher) with ``embedder``
        self._lock = threading.Lock()
        self.uploads: dict[str, threading.Event] = {}  # browser session -> its running upload's stop flag

    def searcher(self) -> HybridSearcher:
        from assistant.retrieval import HybridSearcher, get_searcher

        if self.embedder is None:
            return get_searcher(self.settings)
        from assistant.stores import open_store

        store = open_store(self.settings)
        with self._lock:
            try:
                version = store.published_version()
                if self._own is None or self._own[0] != version:
                    index = store.load(self.embedder.id)
                    searcher = HybridSearcher(index, self.embedder, max_question_chars=self.settings.max_question_chars)
                    self._own = (version, searcher)
            except AssistantError as exc:
                if self._own is None:
                    raise
                # as get_searcher does: the loaded version keeps answering
                log.warning("keeping index version %s in service: %s", self._own[1].index.version, exc)
            return self._own[1]

    def answerer(self) -> Answerer:
        from assistant.answer import Answerer, get_answerer

        if self.embedder is None:
            return get_answerer(self.settings)
        return Answerer(self.searcher(), self.settings)

    def cases(self) -> dict[str, Case]:
        return self.searcher().index.cases

    def record_gap(self, answer: Answer, username: str | None = None) -> threading.Thread | None:
        """Record a 没有/部分 answer as a content gap, in a background thread (returned, for tests to join)."""
        gap = answer.gap()
        if gap is None:
            return None

        def write() -> None:
            try:
                self.feedback.record_gap(**gap, username=username)
            except Exception:  # noqa: BLE001 - a gap that cannot be written must not disturb the answer
                log.exception("content gap not recorded")

        thread = threading.Thread(target=write, name="record-gap", daemon=True)
        thread.start()
        return thread

    def cards(self) -> dict[str, CaseCard]:
        from assistant.cards import cards_for

        return cards_for(self.cases())

    def case(self, case_id: str) -> Case:
        cases = self.cases()
        if case_id not in cases:
            raise InputError("这个案例不在当前案例库中（可能已被移除），请刷新页面。")
        return cases[case_id]

    def version(self) -> str | None:
        """The index version in service (loading a newly published one first)."""
        return self.searcher().index.version


# ---------------------------------------------------------------------------
# 问答


@dataclass
class AnsweredTurn:
    """An answer in the chat that feedback can refer to (kept per session)."""

    index: int  # position of the answer's message in the chat
    question: str
    answer: str
    citations: list[dict]
    mode: str
    model: str | None
    feedback_id: int | None = None  # the feedback row, once the answer was rated
    shared: SharedAnswer | None = None  # the answer as it is passed on (copied, downloaded)


@dataclass
class AskResult:
    """One update of the 问答 tab while a question is answered; the last one has ``answer``."""

    chat: list[dict]  # the chat's messages ({"role", "content"}) after this step: the session keeps them
    conversation: Conversation
    turns: list[AnsweredTurn]
    redraw_chat: bool = True  # False: the chat on screen is left alone (the question was refused)
    question: str | None = None  # the question box's new text
    sources_html: str | None = None
    viewer_html: str | None = None
    notice_html: str | None = None  # the status line under the question box
    answer: Answer | None = None  # the finished answer


def ask(
    backend: Backend,
    question: str,
    chat: Sequence[dict] | None,
    conversation: Conversation | None,
    turns: Sequence[AnsweredTurn] | None,
    *,
    stream_every: float = STREAM_EVERY,
    username: str | None = None,
) -> Iterator[AskResult]:
    """Answer ``question`` in the chat: a pending message, streamed text (LLM mode), then the answer.

    A refused question (empty, too long) or a failure leaves the chat as it
    was, with a message in ``notice_html``; never a trace.  An answer judged
    没有 or 部分 is recorded as a content gap in the background (with the
    user name only when logged in); the answer never waits for it.
    """
    from assistant.answer import Conversation
    from assistant.retrieval import check_question

    chat = list(chat or [])
    conversation = conversation or Conversation()
    turns = list(turns or [])
    try:
        q = check_question(question, backend.settings.max_question_chars)
    except InputError as exc:
        yield AskResult(chat, conversation, turns, redraw_chat=False, question=question, notice_html=R.error(str(exc)))
        return
    chat += [{"role": "user", "content": R.user_message(q)}, {"role": "assistant", "content": R.pending()}]
    yield AskResult(list(chat), conversation, turns, question="", notice_html="")

    tokens: queue.Queue[str] = queue.Queue()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["answer"] = backend.answerer().ask(q, conversation, on_token=tokens.put)
        except BaseException as exc:  # shown to the user below; logged here, with its traceback
            outcome["error"] = friendly(exc, "ask")

    worker = threading.Thread(target=work, name="answer", daemon=True)
    worker.start()
    streamed: list[str] = []
    last = time.monotonic()
    while worker.is_alive() or not tokens.empty():
        try:
            streamed.append(tokens.get(timeout=0.05))
        except queue.Empty:
            continue
        if time.monotonic() - last >= stream_every:
            last = time.monotonic()
            chat[-1] = {"role": "assistant", "content": R.streaming("".join(streamed))}
            yield AskResult(list(chat), conversation, turns)
    worker.join()
    if "error" in outcome:
        yield AskResult(chat[:-2], conversation, turns, question=question, notice_html=R.error(outcome["error"]))
        return
    answer: Answer = outcome["answer"]
    backend.record_gap(answer, username)
    chat[-1] = {"role": "assistant", "content": R.answer_message(answer, backend.model)}
    turns.append(AnsweredTurn(
        index=len(chat) - 1,
        question=answer.question,
        answer=answer.answer,
        citations=[c.to_dict() for c in answer.citations],
        mode=answer.mode,
        model=backend.model if answer.mode == "llm" else None,
        shared=SharedAnswer.from_answer(answer),
    ))
    yield AskResult(
        list(chat), conversation, turns,
        question="",
        sources_html=(
            R.references_panel(answer.references) if answer.references and not answer.citations
            else R.sources(answer.citations, backend.cases())
        ),
        viewer_html=R.viewer_empty(),
        notice_html="",
        answer=answer,
    )


def new_chat() -> AskResult:
    """An empty chat and conversation, the panels back to their empty state."""
    from assistant.answer import Conversation

    return AskResult(
        [], Conversation(), [], question=None,
        sources_html=R.sources_empty(), viewer_html=R.viewer_empty(), notice_html="",
    )


@dataclass
class ShareResult:
    """The latest answer to pass on: its text for the clipboard, its Word file for the download."""

    text: str  # "" when there is nothing to share
    docx: Path | None = None
    notice_html: str = ""


def share_latest(turns: Sequence[AnsweredTurn] | None, *, out_dir: Path | None = None) -> ShareResult:
    """The latest answer as plain text (for a WeChat message) and as a .docx (A4, zh-CN) to download.

    The file goes into a new folder under ``out_dir`` (default: the system's
    temporary folder), one per answer, so sessions never share one.
    """
    turns = list(turns or [])
    shared = turns[-1].shared if turns else None
    if shared is None:
        return ShareResult("")
    try:
        folder = (out_dir or Path(tempfile.gettempdir())) / "jiceng-answers" / uuid.uuid4().hex
        folder.mkdir(parents=True)
        docx = shared.write_docx(folder / shared.filename())
    except Exception as exc:  # noqa: BLE001 - the text can still be copied
        log.exception("the answer's Word file was not written", exc_info=exc)
        return ShareResult(shared.text(), None, R.error("Word 文件没有生成成功，回答仍可复制。"))
    return ShareResult(shared.text(), docx)


@dataclass
class FeedbackResult:
    turns: list[AnsweredTurn]
    status_html: str | None  # the line under the feedback form
    comment: str | None = None  # the comment box's new text ("" once the comment was stored)
    relate_question: str | None = None  # 没帮助: the rated answer's question, offered for linking to a passage


def _record(
    backend: Backend, turns: list[AnsweredTurn], index: int | None, rating: str | None, comment: str | None,
    session: str | None, username: str | None,
) -> AnsweredTurn:
    """Store feedback on the answer at chat position ``index`` (the latest when None); a second rating updates its row."""
    if not turns:
        raise InputError("还没有可以评价的回答：请先提一个问题。")
    turn = next((t for t in turns if t.index == index), None) if index is not None else turns[-1]
    if turn is None:
        raise InputError("只能评价助手的回答。")
    rating = RATINGS.get(rating or "", rating)
    if turn.feedback_id is None:
        turn.feedback_id = backend.feedback.record(
            turn.question, turn.answer, turn.citations, turn.mode, rating, comment or "",
            model=turn.model, session=session, username=username,
        )
    else:
        backend.feedback.update(turn.feedback_id, rating=rating or None, comment=comment if comment else None)
    return turn


def submit_feedback(
    backend: Backend,
    rating: str | None,
    comment: str | None,
    turns: Sequence[AnsweredTurn] | None,
    *,
    session: str | None = None,
    username: str | None = None,
) -> FeedbackResult:
    """Rate the latest answer (有帮助 / 没帮助) with an optional comment."""
    turns = list(turns or [])
    try:
        if not rating and not (comment or "").strip():
            raise InputError("请先选择“有帮助”或“没帮助”，或者写一句意见。")
        turn = _record(backend, turns, None, rating, comment, session, username)
    except AssistantError as exc:
        return FeedbackResult(turns, R.error(str(exc)))
    relate = turn.question if RATINGS.get(rating or "", rating) == "👎" else None
    return FeedbackResult(turns, R.ok("已记录，谢谢你的反馈！"), comment="", relate_question=relate)


def rate_answer(
    backend: Backend,
    turns: Sequence[AnsweredTurn] | None,
    index: int,
    liked: object,
    comment: str | None = None,
    *,
    session: str | None = None,
    username: str | None = None,
) -> FeedbackResult:
    """The thumbs under the answer at chat position ``index``: ``liked`` is True/"Like" or False/"Dislike"."""
    turns = list(turns or [])
    rating = "👍" if liked is True or liked == "Like" else "👎" if liked is False or liked == "Dislike" else None
    if rating is None:
        return FeedbackResult(turns, None)
    try:
        turn = _record(backend, turns, index, rating, comment, session, username)
    except AssistantError as exc:
        return FeedbackResult(turns, R.error(str(exc)))
    word = "有帮助" if rating == "👍" else "没帮助"
    return FeedbackResult(
        turns, R.ok(f"已记录：{word}。谢谢！还可以在上方写几句意见，点“提交反馈”。"),
        relate_question=turn.question if rating == "👎" else None,
    )


# ---------------------------------------------------------------------------
# 关联问题: after 没帮助, link the question to the passage that does answer it


def relate_offer(turns: Sequence[AnsweredTurn] | None, rating: str | None) -> str | None:
    """After 没帮助 on the latest answer: its question, to link to the passage that answers it (else None)."""
    turns = list(turns or [])
    if not turns or RATINGS.get(rating or "", rating) != "👎":
        return None
    return turns[-1].question


@dataclass
class RelatePassages:
    """The passages of the case chosen in the link form, and the script beside the chat."""

    choices: list[tuple[str, str]]  # (label, "start-end") for the 段落 dropdown
    viewer_html: str | None  # the script (None: leave the viewer as it is)
    notice_html: str = ""


def relate_case(backend: Backend, case_id: str | None) -> RelatePassages:
    """Open the chosen script beside the chat and list its passages."""
    if not case_id:
        return RelatePassages([], None)
    try:
        case = backend.case(case_id)
        passages = [p for p in backend.searcher().index.passages if p.case_id == case.id]
    except AssistantError as exc:
        return RelatePassages([], None, R.error(str(exc)))
    return RelatePassages(R.passage_choices(passages), R.passage_view(case, -1, -1))


def _passage_span(value: str | None) -> tuple[int, int]:
    try:
        start, end = (int(x) for x in str(value or "").split("-", 1))
    except ValueError:
        raise InputError("请先在“段落”中选择能回答这个问题的段落。") from None
    return start, end


def relate_passage(backend: Backend, case_id: str | None, passage: str | None) -> LinkResult:
    """Show the chosen passage highlighted in its script."""
    if not case_id or not passage:
        return LinkResult("")
    try:
        case = backend.case(case_id)
        start, end = _passage_span(passage)
    except AssistantError as exc:
        return LinkResult(R.error(str(exc)))
    return LinkResult("", viewer_html=R.passage_view(case, start, end))


@dataclass
class RelateResult:
    status_html: str  # what was linked, or why not
    link: Any = None  # the assistant.links.Link stored (None: refused)


def relate(
    backend: Backend,
    question: str | None,
    case_id: str | None,
    passage: str | None,
    *,
    username: str | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> RelateResult:
    """Link ``question`` to the chosen passage (stored with who and when) and update the index;
    the next identical or similar question finds the passage.  A bad link changes nothing."""
    from assistant.linker import add_link

    def on_progress(done: int, total: int) -> None:
        if total and progress:
            progress(min(done / total, 1.0), "正在更新案例库……")

    try:
        if not case_id:
            raise InputError("请先选择能回答这个问题的讲稿。")
        start, end = _passage_span(passage)
        if progress:
            progress(0, "正在更新案例库……")
        report = add_link(
            backend.settings, case_id, question, start=start, end=end, source="user", user=username,
            embedder=backend.embedder, progress=on_progress,
        )
    except Exception as exc:  # noqa: BLE001 - ours or a bug: a friendly message either way
        return RelateResult(R.error(R.plain(friendly(exc, "relate"), _case_ids(backend))))
    case = backend.case(report.link.case_id)
    return RelateResult(R.ok(
        f"已把“{report.link.question}”关联到《{R.short(case.title, 24)}》的这一段。"
        "案例库已更新：再问相同或相近的问题，会先找到这一段。"
    ), report.link)


# ---------------------------------------------------------------------------
# citation links


@dataclass
class LinkResult:
    """A citation link opened: a passage beside the chat, or a case in 案例库."""

    notice_html: str  # the 问答 status line ("" on success)
    viewer_html: str | None = None  # the passage, its quote highlighted (``#cite/…``)
    case_detail_html: str | None = None  # the case with its card, the quote highlighted (``#case/…``)
    case_id: str | None = None  # the case opened in 案例库: its tab is selected, its dropdown set


def parse_link(value: str) -> tuple[str, str, int, int]:
    """``cite/<case>/<start>/<end>|<nonce>`` → (kind, case id, start, end)."""
    parts = (value or "").split("|", 1)[0].split("/")
    if len(parts) != 4 or parts[0] not in ("cite", "case"):
        raise InputError("无法识别的链接。")
    try:
        return parts[0], unquote(parts[1]), int(parts[2]), int(parts[3])
    except ValueError:
        raise InputError("无法识别的链接。") from None


def open_link(backend: Backend, value: str) -> LinkResult:
    """Open a link caught by the page script (see :data:`assistant.ui.app.HEAD`)."""
    try:
        kind, case_id, start, end = parse_link(value)
        case = backend.case(case_id)
    except AssistantError as exc:
        return LinkResult(R.error(str(exc)))
    if kind == "cite":
        return LinkResult("", viewer_html=R.passage_view(case, start, end))
    card = backend.cards().get(case_id)
    return LinkResult("", case_detail_html=R.case_detail(case, card, start, end), case_id=case_id)


# ---------------------------------------------------------------------------
# 找相似案例


@dataclass
class SimilarResult:
    html: str  # the case cards, or a message
    cases: list[SimilarCase] = field(default_factory=list)


def find_similar(backend: Backend, situation: str | None, k: int | float | str) -> SimilarResult:
    """The ``k`` cases most like the described situation, as cards."""
    from assistant.similar import SimilarFinder

    try:
        results = SimilarFinder(backend.searcher()).find(situation or "", int(k))
    except Exception as exc:  # noqa: BLE001 - ours or a bug: a friendly message either way
        return SimilarResult(R.error(friendly(exc, "similar")))
    return SimilarResult(R.similar_cards(results), results)


# ---------------------------------------------------------------------------
# 培训讨论题


@dataclass
class HandoutResult:
    preview_html: str  # the handout, or a message
    docx: Path | None = None  # the downloads (None: hidden)
    md: Path | None = None
    handout: Handout | None = None


def make_handout(
    backend: Backend,
    by: str,
    case_id: str | None,
    topic: str | None,
    n: int | float | str,
    *,
    out_dir: Path | None = None,
) -> HandoutResult:
    """Discussion questions for a case (``by`` = 按案例) or a topic (按话题), written as .docx and .md.

    The files go into a new folder under ``out_dir`` (default: the system's
    temporary folder), one per call, so concurrent users never share one.
    """
    from assistant.handout import build_handout, write_handout

    try:
        cards = backend.cards()
        if by == BY_TOPIC:
            if not topic:
                raise InputError("请先选择一个话题。")
            h = build_handout(cards, topic=topic, n=int(n), settings=backend.settings)
            label = topic
        else:
            if not case_id:
                raise InputError("请先选择一个案例。")
            h = build_handout(cards, case_id=case_id, n=int(n), settings=backend.settings)
            label = cards[case_id].community
        folder = (out_dir or Path(tempfile.gettempdir())) / "jiceng-handouts" / uuid.uuid4().hex
        folder.mkdir(parents=True)
        stem = R.handout_filename(label)
        docx = write_handout(h, folder / f"{stem}.docx")
        md = write_handout(h, folder / f"{stem}.md")
    except Exception as exc:  # noqa: BLE001 - ours or a bug: a friendly message either way
        return HandoutResult(R.error(friendly(exc, "handout")))
    return HandoutResult(R.handout_view(h), docx, md, h)


# ---------------------------------------------------------------------------
# 案例库


@dataclass
class LibraryResult:
    list_html: str  # the case tiles, or a message
    case_choices: list[tuple[str, str]] | None  # for 打开案例 (None: the filter was refused, leave it)
    cards: list[CaseCard] = field(default_factory=list)


def filter_library(backend: Backend, town: str | None, community_type: str | None, tag: str | None) -> LibraryResult:
    """The cases of one town, community type and topic tag (:data:`ALL` or empty: any)."""
    from assistant.cards import filter_cards

    def chosen(value: str | None) -> str | None:
        return None if value in (None, "", ALL) else value

    try:
        found = filter_cards(backend.cards(), tag=chosen(tag), community_type=chosen(community_type))
    except AssistantError as exc:
        return LibraryResult(R.error(str(exc)), None)
    if chosen(town):
        found = [c for c in found if (c.town or "（未注明）") == town]
    return LibraryResult(R.case_list(found), R.case_choices({c.case_id: c for c in found}), found)


@dataclass
class CaseResult:
    detail_html: str | None  # the case, or a message (None: nothing was chosen)


def open_case(backend: Backend, case_id: str | None) -> CaseResult:
    """A case's full text with its outline, card and methods."""
    if not case_id:
        return CaseResult(None)
    try:
        case = backend.case(case_id)
    except AssistantError as exc:
        return CaseResult(R.error(str(exc)))
    return CaseResult(R.case_detail(case, backend.cards().get(case_id), -1, -1))


@dataclass
class LibraryView:
    """What depends on the case library as a whole: refreshed when a page opens and after an upload."""

    header_html: str
    list_html: str
    case_choices: list[tuple[str, str]]  # 打开案例 and the handout's 案例
    topic_choices: list[tuple[str, str]]  # the handout's 话题
    town_choices: list[str]  # 街道 / 镇 (with 全部)
    tag_choices: list[tuple[str, str]]  # 话题标签 (with 全部)
    n_cases: int
    version: str | None = None  # the index version it shows


def library_view(backend: Backend, username: str | None = None) -> LibraryView:
    version = backend.version()
    cards = backend.cards()
    return LibraryView(
        header_html=R.header(backend.mode, backend.model, len(cards), username),
        list_html=R.case_list(list(cards.values())),
        case_choices=R.case_choices(cards),
        topic_choices=R.topic_choices(cards),
        town_choices=R.town_choices(cards),
        tag_choices=R.tag_choices(cards),
        n_cases=len(cards),
        version=version,
    )


@dataclass
class LibraryRefresh:
    """A newer index was published: the library as it is now, filtered as the page had it."""

    view: LibraryView
    filtered: LibraryResult  # the case list under the page's filters (all cases if a filter value vanished)
    town: str
    tag: str


def refresh_library(
    backend: Backend,
    shown: str | None,
    town: str | None = None,
    community_type: str | None = None,
    tag: str | None = None,
    *,
    username: str | None = None,
    force: bool = False,
) -> LibraryRefresh | None:
    """What changed since the page showed index version ``shown`` (None: nothing, the usual case).

    Every open page asks now and then, so a case uploaded in one browser
    appears in all of them: the list, the filters, the cases and topics to
    choose from.  The filters the page had stay set while their value exists.
    ``force``: the library as it is, whatever the page showed (a page opening).
    """
    try:
        if not force and backend.version() == shown:
            return None
        view = library_view(backend, username)
    except AssistantError as exc:  # the old version keeps serving; the page keeps what it shows
        log.warning("library not refreshed: %s", exc)
        return None
    towns = set(view.town_choices)
    tags = {value for _, value in view.tag_choices}
    town = town if town in towns else ALL
    tag = tag if tag in tags else ALL
    return LibraryRefresh(view, filter_library(backend, town, community_type, tag), town, tag)


@dataclass
class GapsResult:
    html: str  # the grouped topics, or a message
    topics: list = field(default_factory=list)


def gaps_view(backend: Backend, since: str | None = None) -> GapsResult:
    """Content gaps for trainers (案例库 tab): uncovered topics, grouped and counted, most asked first."""
    from assistant.feedback import parse_day

    try:
        topics = backend.feedback.gap_topics(parse_day(since))
    except Exception as exc:  # noqa: BLE001 - ours or a bug: a friendly message either way
        return GapsResult(R.error(friendly(exc, "gaps")))
    return GapsResult(R.gaps(topics), topics)


@dataclass
class UploadResult:
    status_html: str  # what was added, skipped or refused
    library: LibraryView
    report: AddReport | None = None
    ask_fields: bool = False  # a script lacks its title or author line: open 单篇讲稿的补充信息


def _case_ids(backend: Backend) -> list[str]:
    try:
        return list(backend.cases())
    except AssistantError:
        return []


def upload(
    backend: Backend,
    paths: Sequence[str | Path] | None,
    meta: Mapping[str, str | None] | None = None,
    *,
    progress: Callable[[float, str], None] | None = None,
    username: str | None = None,
    session: str | None = None,
) -> UploadResult:
    """Add documents to the corpus and update the index; ``meta`` fills in a single script's
    :data:`UPLOAD_FIELDS` (title, author …) when its text lacks them.

    ``progress(fraction, message)`` is told how far the update has come and
    the time left; :func:`cancel_upload` with the same ``session`` stops it
    between two embedding batches, leaving corpus and index as they were.
    """
    from assistant.ingest import add_documents, time_left

    if not paths:
        return UploadResult(R.error("请先选择要添加的文件。"), library_view(backend, username))
    overrides = {k: v.strip() for k, v in (meta or {}).items() if k in UPLOAD_FIELDS and v and v.strip()}
    if overrides and len(paths) > 1:
        return UploadResult(R.error(FIELDS_ONE_FILE), library_view(backend, username))
    report = None
    stop = threading.Event()
    key = session or uuid.uuid4().hex
    backend.uploads[key] = stop
    started: list[float] = []

    def on_progress(done: int, total: int) -> None:  # index update: passages embedded
        if not started:
            started.append(time.monotonic())
        if total and progress:
            left = time_left(done, total, time.monotonic() - started[0])
            tail = f"，预计还需{left}" if left else ""
            progress(min(done / total, 1.0), f"正在处理新讲稿：第 {done}/{total} 段{tail}（可点“取消上传”）……")

    try:
        if progress:
            progress(0, "正在读取文档……")
        report = add_documents(
            [str(p) for p in paths], backend.settings, overrides, progress=on_progress, embedder=backend.embedder,
            stop=stop,
        )
        status = R.upload_report(report, _case_ids(backend))
    except Cancelled:
        status = R.ok("已取消上传，案例库没有改动。")
    except Exception as exc:  # noqa: BLE001 - ours or a bug: a friendly message either way
        status = R.error(friendly(exc, "upload"))
    finally:
        if backend.uploads.get(key) is stop:
            del backend.uploads[key]
    ask_fields = report is not None and any(m.missing for m in report.metadata)
    return UploadResult(status, library_view(backend, username), report, ask_fields)


def cancel_upload(backend: Backend, session: str | None) -> str:
    """Stop the session's running upload (the 取消上传 button); the status line to show."""
    stop = backend.uploads.get(session or "")
    if stop is None:
        return R.error("没有正在进行的上传。")
    stop.set()
    return R.ok("正在取消上传……案例库不会有任何改动。")
