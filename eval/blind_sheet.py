"""The layout of a blind-reading sheet of handouts, shared by the scripts that write one
(blind_handouts_sheet.py, blind_handouts_sheet_r5.py, handout_eval.py --sheet): a header with the one
question the reader answers, then each handout's Markdown under its number, its headings moved down two
levels, with a box to tick."""

from __future__ import annotations

import json
import re
from pathlib import Path


def sheet_text(bodies: list[str], prefix: str) -> str:
    """The sheet for the handouts' Markdown ``bodies``, numbered ``prefix``1, ``prefix``2, … in this order."""
    lines = [
        "# 培训讲义盲评表",
        "",
        f"下面是 {len(bodies)} 份由系统生成的培训讨论题讲义（编号 {prefix}1–{prefix}{len(bodies)}，顺序随机）。请只根据讲义本身判断：",
        "**这份讲义能否不经修改直接在培训课上发给学员使用？**（能 / 不能；不能时请写一句原因）",
        "",
    ]
    for i, md in enumerate(bodies, 1):
        body = re.sub(r"^# ", "### ", md, flags=re.M)
        body = re.sub(r"^## ", "#### ", body, flags=re.M)
        lines += ["---", "", f"## {prefix}{i}", "", body.strip(), "", "**能否直接使用：** □ 能　□ 不能　原因：", ""]
    return "\n".join(lines) + "\n"


def write_sheet(text: str, key: dict, sheet: Path, key_path: Path, copy: Path | None = None) -> None:
    """Write the sheet (and a copy for the readers, outside the repository) and, separately, its key."""
    for path in [sheet] + ([copy] if copy else []):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.write_text(json.dumps(key, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
