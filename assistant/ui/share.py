"""An answer to pass on: plain text for a WeChat message, or a Word file to print.

Secretaries share advice in WeChat groups and printed notes.  An answer keeps
what makes it trustworthy when it leaves the assistant: the question, the
answer with its ``[n]`` markers, and its sources as 《title》 author (with
role and community), plus the date.  An extractive answer already is the
scripts' own words, so its sources name where they come from; an LLM's
answer is its own wording, so each source also carries the quoted sentence.
Nothing a reader cannot use travels along: no ids, no character offsets, no
notices about how the search went.

Example::

    >>> from assistant.answer import ask
    >>> from assistant.ui.share import SharedAnswer
    >>> shared = SharedAnswer.from_answer(ask("小区停车位不够怎么办？"))   # doctest: +SKIP
    >>> print(shared.text())                                              # doctest: +SKIP
    >>> shared.write_docx("问答.docx")                                     # doctest: +SKIP
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from assistant.fsutil import atomic_write

APP_NAME = "基层治理案例问答助手"
SOURCE_NOTE = "松江村居书记讲稿"
MARKER = re.compile(r"\[(\d+)\]")


def chinese_date(day: date) -> str:
    """``2025年6月3日``."""
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass
class Cited:
    """One citation of a source: its number in the answer, where in the script, the words quoted."""

    n: int
    section: str
    quote: str


@dataclass
class Source:
    """A script the answer cites, with every citation of it, in the order of their numbers."""

    title: str
    author: str  # the author line: name with community and role, 沈东（中山街道蓝天二村居民区党总支书记）
    cited: list[Cited] = field(default_factory=list)

    @property
    def numbers(self) -> str:
        return "".join(f"[{c.n}]" for c in self.cited)


@dataclass
class SharedAnswer:
    """What is passed on of one answer (see the module's docstring)."""

    question: str
    answer: str  # the answer's text, ``[n]`` markers kept
    sources: list[Source]
    quotes: bool  # list each quoted sentence under its source (an LLM answer's words are its own)
    day: date  # when it was answered

    @classmethod
    def from_answer(cls, answer, day: date | None = None) -> SharedAnswer:
        """From an :class:`assistant.answer.Answer`; sources grouped by script, in the order first cited."""
        by_case: dict[str, Source] = {}
        for c in sorted(answer.citations, key=lambda c: c.n or 0):
            source = by_case.setdefault(c.case_id, Source(c.case_title or "", c.author or ""))
            source.cited.append(Cited(c.n or 0, c.section or "开头", " ".join(c.quote.split())))
        return cls(
            question=answer.question,
            answer=answer.answer.strip(),
            sources=list(by_case.values()),
            quotes=answer.mode != "extractive",
            day=day or date.today(),
        )

    # ------------------------------------------------------------------ text
    def text(self) -> str:
        """Plain text for a chat message: 问 / 答 / 出处, then where it comes from and when."""
        lines = [f"问：{self.question}", "", f"答：{self.answer}"]
        if self.sources:
            lines += ["", "出处："]
            for s in self.sources:
                lines.append(f"{s.numbers}《{s.title}》{s.author}")
                if self.quotes:
                    lines += [f"  [{c.n}]“{c.quote}”" for c in s.cited]
        lines += ["", f"——摘自{APP_NAME}（{SOURCE_NOTE}），{chinese_date(self.day)}"]
        return "\n".join(lines)

    # ------------------------------------------------------------------ Word
    def docx_bytes(self) -> bytes:
        """A4, zh-CN, a CJK font and page numbers, like the handouts: question, answer, sources, date."""
        from docx.shared import Cm, Pt

        from assistant.handout import new_document

        doc = new_document(f"问答：{self.question}")
        doc.add_heading("基层治理案例问答", level=0)
        meta = doc.add_paragraph()
        meta.add_run(f"日期：{chinese_date(self.day)}　　来源：{APP_NAME}（{SOURCE_NOTE}）").italic = True
        doc.add_heading("问题", level=1)
        doc.add_paragraph(self.question)
        doc.add_heading("回答", level=1)
        for line in self.answer.split("\n"):
            if not line.strip():
                continue
            p = doc.add_paragraph()
            head = re.match(r"^(\d+\.\s*[^：]{1,40}：)", line)
            if head:  # a community's block: its name, where and who in bold
                p.add_run(head.group(1)).bold = True
                p.add_run(line[head.end():])
            else:
                p.add_run(line.strip())
                if line.startswith(" "):
                    p.paragraph_format.left_indent = Cm(0.8)
            p.paragraph_format.space_after = Pt(4)
        if self.sources:
            doc.add_heading("出处", level=1)
            for s in self.sources:
                p = doc.add_paragraph()
                p.add_run(f"{s.numbers} ").bold = True
                p.add_run(f"《{s.title}》{s.author}")
                p.paragraph_format.space_after = Pt(2)
                for c in s.cited:
                    where = doc.add_paragraph(f"[{c.n}] 章节：{c.section}")
                    where.paragraph_format.left_indent = Cm(0.8)
                    where.paragraph_format.space_after = Pt(0 if self.quotes else 2)
                    if self.quotes:
                        quote = doc.add_paragraph(style="Quote")
                        quote.add_run(c.quote)
                        quote.paragraph_format.left_indent = Cm(1.2)
        buf = io.BytesIO()
        doc.save(buf)
        return buf.getvalue()

    def filename(self) -> str:
        stem = re.sub(r"[\\/:*?\"<>|\s，。？！、；：“”‘’（）《》]+", "", self.question)[:20] or "回答"
        return f"问答-{stem}.docx"

    def write_docx(self, path: str | Path) -> Path:
        """Write the Word file atomically (no partial file on failure)."""
        return atomic_write(Path(path), self.docx_bytes())
