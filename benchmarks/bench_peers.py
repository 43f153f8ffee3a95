"""Compare gtask with its peers, side by side: `python benchmarks/bench_peers.py --tasks 10000`.

The peers are Backlog.md (npm package `backlog.md`) and Taskwarrior (Debian's `taskwarrior`);
both are installed when missing. The same N tasks are written in each tool's own format (every
third task depends on the one before, a quarter are done, priorities spread), each command runs
once untimed, then the pair runs interleaved (A B A B ...) and the medians are compared.
Peak memory is each process's own max RSS, read with os.wait4.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
WORDS = ("api", "auth", "cache", "cart", "checkout", "db", "deploy", "docs", "export", "feed", "index", "login",
         "metrics", "order", "page", "payment", "queue", "refund", "report", "search", "session", "shipping",
         "stock", "token", "ui", "upload", "webhook")
ENV = {**os.environ, "PAGER": "cat", "GIT_PAGER": "cat", "NO_COLOR": "1", "TERM": "dumb", "LESS": "FRX"}
BACKLOG_CONFIG = """project_name: "bench"
default_status: "To Do"
statuses: ["To Do", "In Progress", "Done"]
labels: []
date_format: yyyy-mm-dd
max_column_width: 20
auto_open_browser: false
default_port: 6420
remote_operations: false
auto_commit: false
filesystem_only: false
bypass_git_hooks: false
check_active_branches: true
active_branch_days: 30
task_prefix: "task"
"""


@dataclass
class Task:
    """One task of the shared data set; `number` starts at 1."""
    number: int
    title: str
    body: str
    done: bool
    priority: int  # 0 (most urgent) .. 4
    depends: int | None

    @property
    def level(self) -> str:
        """The priority as high / medium / low, for the peers."""
        return "high" if self.priority < 2 else "medium" if self.priority == 2 else "low"


def make_tasks(count: int) -> list[Task]:
    """The shared data set: deterministic titles and bodies, no randomness needed."""
    tasks = []
    for n in range(1, count + 1):
        words = [WORDS[(n * 7 + k * 13) % len(WORDS)] for k in range(5)]
        body = " ".join(WORDS[(n + k * 5) % len(WORDS)] for k in range(60))
        tasks.append(Task(n, " ".join(words).capitalize() + f" {n}", body, done=n % 4 == 0,
                          priority=n % 5, depends=n - 1 if n % 3 == 0 else None))
    return tasks


def gtask_id(n: int) -> str:
    return f"task-{n:05d}"


def commit_all(root: Path) -> None:
    """Make `root` a git repository whose one commit holds everything in it."""
    if not (root / ".git").exists():
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", "tasks"], cwd=root, check=True)


def write_gtask(root: Path, tasks: list[Task], gtask: list[str]) -> None:
    """`gtask init`, then one `.tasks/<id>.md` file per task, then one commit."""
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run([*gtask, "init"], cwd=root, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=ENV)
    for t in tasks:
        deps = f"depends_on:\n  - {gtask_id(t.depends)}\n" if t.depends else ""
        text = (f"---\ntitle: {t.title}\nstatus: {'done' if t.done else 'todo'}\npriority: {t.priority}\n"
                f"{deps}labels:\n  - {WORDS[t.number % len(WORDS)]}\n---\n## What\n\n{t.body}\n")
        (root / ".tasks" / f"{gtask_id(t.number)}.md").write_text(text)
    commit_all(root)


def write_backlog(root: Path, tasks: list[Task]) -> None:
    """backlog/config.yml (as `backlog init --defaults` writes it, without remote operations) and
    one `backlog/tasks/task-N - Title.md` per task, committed like the gtask store."""
    folder = root / "backlog" / "tasks"
    folder.mkdir(parents=True)
    (root / "backlog" / "config.yml").write_text(BACKLOG_CONFIG)
    for t in tasks:
        deps = f"\n  - TASK-{t.depends}" if t.depends else " []"
        text = (f"---\nid: TASK-{t.number}\ntitle: {t.title}\nstatus: {'Done' if t.done else 'To Do'}\n"
                f"assignee: []\ncreated_date: '2026-01-01 10:00'\nlabels:\n  - {WORDS[t.number % len(WORDS)]}\n"
                f"dependencies:{deps}\npriority: {t.level}\nordinal: {t.number * 1000}\n---\n\n"
                f"## Description\n\n<!-- SECTION:DESCRIPTION:BEGIN -->\n{t.body}\n<!-- SECTION:DESCRIPTION:END -->\n")
        (folder / f"task-{t.number} - {t.title.replace(' ', '-')}.md").write_text(text)
    commit_all(root)


def write_taskwarrior(root: Path, tasks: list[Task], task_exe: str) -> dict[str, str]:
    """A private TASKRC and TASKDATA filled by `task import`; return the environment to use them.
    Taskwarrior has no body: the body is left out (an annotation would print in full in every report)."""
    data = root / "data"
    data.mkdir(parents=True)
    rc = root / "taskrc"
    rc.write_text(f"data.location={data}\nconfirmation=off\nverbose=nothing\nhooks=off\ncolor=off\n"
                  "news.version=2.6.2\n")
    ids = {t.number: str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench/{t.number}")) for t in tasks}
    items = []
    for t in tasks:
        item = {"uuid": ids[t.number], "description": t.title, "entry": "20260101T100000Z",
                "status": "completed" if t.done else "pending", "priority": t.level[0].upper(),
                "tags": [WORDS[t.number % len(WORDS)]]}
        if t.done:
            item["end"] = "20260102T100000Z"
        if t.depends:
            item["depends"] = [ids[t.depends]]
        items.append(item)
    (root / "tasks.json").write_text(json.dumps(items))
    env = {**ENV, "TASKRC": str(rc), "TASKDATA": str(data)}
    with open(root / "tasks.json") as source:
        subprocess.run([task_exe, "import"], stdin=source, env=env, check=True, stdout=subprocess.DEVNULL)
    return env


def taskwarrior_id(task_exe: str, env: dict[str, str], number: int) -> str:
    """The working-set ID of a task, after a report has renumbered the pending ones."""
    run_once([task_exe, "next"], Path(env["TASKDATA"]), env)
    uid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench/{number}"))
    out = subprocess.run([task_exe, "_get", f"{uid}.id"], env=env, capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, check=True)
    return out.stdout.strip()


def find_gtask(choice: str | None) -> list[str]:
    """--gtask (a path or a command line), else the script next to sys.executable, else PATH;
    a console script that cannot even print its version falls back to `python -m gtask`."""
    if choice:
        return shlex.split(choice)
    beside = Path(sys.executable).parent / "gtask"
    found = str(beside) if beside.exists() else shutil.which("gtask")
    if found and subprocess.run([found, "--version"], capture_output=True, stdin=subprocess.DEVNULL).returncode == 0:
        return [found]
    print(f"note: {found or 'gtask'} does not run; using {sys.executable} -m gtask", file=sys.stderr)
    return [sys.executable, "-m", "gtask"]


def ensure_backlog(work: Path) -> list[str]:
    """The Backlog.md binary (npm-installed into `work` when missing); its native binary when the
    platform package has one, so that node's launcher does not count against it."""
    def installed() -> list[str]:
        native = sorted(glob.glob(str(work / "node_modules" / "backlog.md-*" / "backlog")))
        launcher = work / "node_modules" / ".bin" / "backlog"
        return [native[0]] if native else [str(launcher)] if launcher.exists() else []
    if not installed():
        work.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(work), "--no-audit", "--no-fund", "backlog.md"],
                       check=True, stdin=subprocess.DEVNULL)
    return installed()


def ensure_taskwarrior() -> str:
    """`task` from PATH, installed with apt-get when missing."""
    if not shutil.which("task"):
        subprocess.run("apt-get update -qq && apt-get install -y -qq taskwarrior", shell=True, check=True,
                       stdin=subprocess.DEVNULL, env={**ENV, "DEBIAN_FRONTEND": "noninteractive"})
    return shutil.which("task") or sys.exit("taskwarrior did not install")


def run_once(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Run a command to the end; return wall seconds and its own peak RSS in MB."""
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty stderr cannot block the child
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            sys.exit(f"{shlex.join(cmd)} failed in {cwd}: {errors.read().decode(errors='replace')[-500:]}")
    return seconds, usage.ru_maxrss / 1024


@dataclass
class Side:
    """One command of one tool, with where and how it runs."""
    cmd: list[str]
    cwd: Path
    env: dict[str, str]


def compare(a: Side, b: Side, runs: int) -> dict[str, float]:
    """Warm both once, then run A B A B ...; medians of time, maxima of peak memory."""
    run_once(a.cmd, a.cwd, a.env)
    run_once(b.cmd, b.cwd, b.env)
    times: tuple[list[float], list[float]] = ([], [])
    peaks: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for side, t, p in ((a, times[0], peaks[0]), (b, times[1], peaks[1])):
            seconds, peak = run_once(side.cmd, side.cwd, side.env)
            t.append(seconds)
            p.append(peak)
    ga, pb = statistics.median(times[0]), statistics.median(times[1])
    return {"gtask_s": ga, "peer_s": pb, "ratio": pb / ga, "gtask_mb": max(peaks[0]), "peer_mb": max(peaks[1])}


def print_table(rows: list[dict[str, Any]], header: str) -> None:
    """The results as a Markdown table."""
    print(header + "\n")
    print("| gtask | peer command | gtask s | peer s | ratio | target | met | gtask MB | peer MB |")
    print("|---|---|--:|--:|--:|--:|:-:|--:|--:|")
    for r in rows:
        met = "yes" if r["ratio"] >= r["target"] else "no"
        print(f"| `{r['gtask']}` | `{r['peer']}` | {r['gtask_s']:.3f} | {r['peer_s']:.3f} | {r['ratio']:.1f}x "
              f"| ≥{r['target']:g}x | {met} | {r['gtask_mb']:.0f} | {r['peer_mb']:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--work", type=Path, default=Path("/tmp/gtask-peers"),
                        help="folder for the peers' installs and the generated stores")
    parser.add_argument("--gtask", help="gtask executable or command line (e.g. 'python -m gtask')")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a Markdown table")
    args = parser.parse_args()
    began, load_before = time.perf_counter(), round(os.getloadavg()[0], 1)
    gtask, backlog, task_exe = find_gtask(args.gtask), ensure_backlog(args.work), ensure_taskwarrior()
    stores = args.work / f"stores-{args.tasks}"
    shutil.rmtree(stores, ignore_errors=True)
    tasks = make_tasks(args.tasks)
    write_gtask(stores / "gtask", tasks, gtask)
    write_backlog(stores / "backlog", tasks)
    tw_env = write_taskwarrior(stores / "taskwarrior", tasks, task_exe)
    time.sleep(2.1)  # gtask never caches a file edited in the last 2 s (racy-clean rule)
    shown = next(t.number for t in tasks[len(tasks) // 2:] if t.depends and not t.done)
    tw_id = taskwarrior_id(task_exe, tw_env, shown)

    def g(*words: str) -> Side:
        return Side([*gtask, *words], stores / "gtask", ENV)

    def bl(*words: str) -> Side:
        return Side([*backlog, *words], stores / "backlog", ENV)

    def tw(*words: str) -> Side:
        return Side([task_exe, *words], stores / "taskwarrior", tw_env)

    pairs = [(g("ready"), bl("task", "list", "--ready", "--plain"), 20),
             (g("list"), bl("task", "list", "--plain"), 20),
             (g("show", gtask_id(shown)), bl("task", "view", f"TASK-{shown}", "--plain"), 40),
             (g("ready"), tw("ready"), 15),
             (g("next"), tw("next"), 6),
             (g("show", gtask_id(shown)), tw(tw_id, "info"), 8)]
    rows = []
    for a, b, target in pairs:
        row = {"gtask": shlex.join(a.cmd[len(gtask):]), "peer": shlex.join([Path(b.cmd[0]).name, *b.cmd[1:]]),
               "target": target, **compare(a, b, args.runs)}
        rows.append(row)
        print(f"done: {row['gtask']} vs {row['peer']}", file=sys.stderr)
    meta = {"tasks": args.tasks, "runs": args.runs, "seconds": round(time.perf_counter() - began, 1),
            "gtask": shlex.join(gtask), "backlog": backlog[0], "taskwarrior": task_exe, "cores": os.cpu_count(),
            "load_before": load_before, "load_after": round(os.getloadavg()[0], 1)}
    if args.json:
        print(json.dumps({**meta, "rows": rows}, indent=2))
    else:
        print_table(rows, f"{args.tasks} tasks, median of {args.runs} interleaved warm runs "
                          f"({meta['cores']} cores, {meta['seconds']} s in all, load average {load_before} before "
                          f"and {meta['load_after']} after); ratio = peer s / gtask s; "
                          "MB = peak RSS of one process (os.wait4)")


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # time gtask as installed: bytecode written once, then read
    main()
