"""How fast are ``zdxm validate`` and ``zdxm merge``, against reading the same files?

Each figure is printed beside its baselines from the same run (``common.raw_read``:
python-calamine reading every sheet of every return; ``common.naive_read``: openpyxl's
read-only mode, what a naive script does), at each number of returns, with the growth per
return from the smallest size to the largest. Then the master's own size: one return
merged into masters of more and more projects, each with two months in its ledger.

    python benchmarks/bench_scale.py                           # 100, 1000, 3000 returns
    python benchmarks/bench_scale.py --sizes 100,1000 --masters 1000,30000
    python benchmarks/bench_scale.py --workers 0               # one process only
    python benchmarks/bench_scale.py --repeat 3                # best of three: quicker
    python benchmarks/bench_scale.py --resaved 100,1000        # LibreOffice-saved: 100, 1000

Each of python-calamine's read, validate and merge (and each merge into a large master)
is run ``--repeat`` times (default 5) and its best time kept, alike for the baseline and
for zdxm: on a shared machine a single run's noise (a fifth either way, and at times one
run in three twice as slow) would otherwise decide a ratio. The read, validate and merge
take turns, one run each a round (validate and merge, after the read, each going first in
every other round), so that the machine's getting faster or slower meanwhile does not favour
one of them. How far each one's runs lay apart (slowest ÷ fastest) is printed beside the
ratios: where it is large, the machine was noisy, and a ratio is only as good as that. The
openpyxl read, which only shows what a naive script costs, is run once.

A master of N units has 10 实施 projects per unit; each unit sends one filled return for
January. Returns are prepared once and cached (``ZDXM_BENCH_CACHE``, default
~/.cache/zdxm-bench). ``validate`` is ``validate_files`` as ``zdxm validate`` runs it (read
the master once, check every file); ``merge`` is ``merge_files`` on a fresh copy of the
master (read, check, archive, write, verify).

Where the time goes is printed too, as CPU time: this process's (all its threads) and that
of the processes it starts (the readers, the archive's copier). Each run of validate and
merge starts its own readers, as a new ``zdxm`` process does, and lets them end after,
so that what they spent is counted whole (``resource``: ended processes only; not on
Windows). Their sum over the wall time is how many of the machine's cores were busy on
average: where it is near the number of cores, only doing less makes it faster. (A batch
done before its reader is ready does not wait for it: that reader's CPU time is then
counted over the time until it was ready.)

Then what remains: where one return's time goes, part by part, one after another in this
process (``parts_per_return``: the first ``PROFILED`` returns of each size, each part over
them all, beside python-calamine's raw read of the same files) — 安检 (vetting, with the
content hash), 读取 (python-calamine reading the bytes vetted), 核对 (against the master,
as validate checks, and as a merge checks) and the ledger rows a merge makes of a return as
it records it. From those, and the master's read and the merge's recording and writing as
the runs above took them, the least validate and merge could take if that work were shared
without loss between this process and its readers (``bound``): when the ratio printed
beside it is already above a target, only doing less per return can meet it.

A merge's archive makes a file for each return merged, and what a new file costs is the
disk's as much as zdxm's: each size's runs are preceded by making ``PROBED`` empty files in
the work folder, and what one took is printed beside the wait for the archive (新建文件).
(Seen here: an ext4 file system without a journal does not reuse an inode freed in the last
minute — five, while its inode table is not yet on disk — and looks at each such one it
passes: a file made just after thousands were removed nearby, as a run started right after
another's folders were removed, cost 0.7 ms of processor time instead of 0.02 ms, and a
merge of 1,000 returns waited a second and more for its archive. The work folder is made in
the system's temporary folder: ``TMPDIR`` chooses another.)

The same returns are measured again as a 信息员's spreadsheet program saves them
(``--resaved``, default 1,000 of them; ``common.resaved``): 本年累计 and 开工以来累计 left to
the form's formulas, saved by LibreOffice with their computed values and the text in shared
strings, as in a return saved in Excel or WPS.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

from common import CACHE, PERIOD, naive_read, prepare, prepare_history, raw_read, resaved
from zdxm_xl.books.masterio import load_master
from zdxm_xl.checks.batch import forget_examined, settle
from zdxm_xl.checks.readers import close_all, reader_count
from zdxm_xl.checks.returns import CheckContext, FileReport, check_file
from zdxm_xl.checks.vetting import Examined, Vetted, safe_read_sheets, vet_workbook
from zdxm_xl.core.pauses import no_collection_pauses
from zdxm_xl.merge import MergeResult, merge_files
from zdxm_xl.validate import validate_files

T = TypeVar("T")
PROFILED = 500  # returns timed part by part, at most (the first of each size)
PROBED = 50  # empty files made to learn what a new file costs in the work folder
# the baseline's read, then a return's parts: 安检, 读取, 核对 as validate and as merge, and
# the ledger rows a merge makes of it
PARTS = ("raw", "vet", "read", "look", "check", "rows")


class Timed(NamedTuple, Generic[T]):
    """One run: its wall time and what it gave; and the CPU time spent by this process
    (all its threads) and by the processes it started (``math.nan`` where not counted), and
    the wall time until those were done too (a reader not ready before a small batch was
    done gets ready after it)."""

    seconds: float
    result: T
    here: float = math.nan
    others: float = math.nan
    busy: float = math.nan


def children_cpu() -> float:
    """CPU seconds spent so far by this process's children that have ended (``nan`` where
    the OS does not tell: Windows)."""
    try:
        import resource
    except ImportError:
        return math.nan
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(run: Callable[[], T], *, fresh: bool = False) -> Timed[T]:
    """How long ``run`` takes, begun as in a new ``zdxm`` process: what the runs before
    left to the cycle collector (``core.pauses`` sets it aside for the next run in the same
    process) is collected before the clock starts, and nothing of their files is
    remembered (``checks.batch``: a merge after a validation in one process, as the
    add-in's, takes that validation's examinations). ``fresh``: no helper process is kept
    from before (the run starts its readers, as a new ``zdxm`` does), and those it started
    end after it, so that their CPU time is counted."""
    forget_examined()
    if fresh:
        settle()  # (a reader of an earlier run may still be getting ready)
        close_all()
    gc.unfreeze()
    gc.collect()
    before, cpu = children_cpu(), time.process_time()
    started = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - started
    if fresh:
        # a reader not ready before the run was done gets ready after it (the run did not
        # wait for it): its time is the run's too
        settle()
    busy = time.perf_counter() - started
    here = time.process_time() - cpu
    if fresh:
        close_all()
    return Timed(seconds, result, here, children_cpu() - before if fresh else math.nan, busy)


def raw_timed(files: list[Path]) -> Timed[None]:
    """``raw_read`` of ``files``, with the CPU time it took (one process, one thread)."""
    cpu = time.process_time()
    seconds = raw_read(files)
    return Timed(seconds, None, time.process_time() - cpu, 0.0, seconds)


def ratio(value: float, base: float) -> str:
    return f"{value:.2f} s（{value / base:.1f}×）"


def best(repeat: int, run: Callable[[], T]) -> Timed[T]:
    """The fastest of ``repeat`` runs, and what it gave."""
    return min((timed(run) for _ in range(repeat)), key=lambda found: found.seconds)


def parts_per_return(files: list[Path], master_path: Path, repeat: int) -> dict[str, float]:
    """Seconds per return of each part of checking it (``PARTS``), in this process, no
    reader: python-calamine's raw read (the baseline), 安检 (vetting, and the content hash),
    读取 (the values, read from the bytes vetted), 核对 (against the master: as validate
    checks, and as a merge checks, the rows' values kept) and 台帐行 (the ledger rows a merge
    makes of them as it records them: part of its 记入台帐). Each part goes over all the
    files before the next: each at its quickest, with the processor's caches holding its own
    code and data. (A command does a file's parts one after another, where each finds the
    caches full of the one before and takes longer: the least times worked out from these
    are less than any command could take.) The best of ``repeat`` rounds is kept for each
    part."""
    master = load_master(master_path)
    best_of = dict.fromkeys(PARTS, math.inf)

    def part(name: str, work: Callable[[Path, Any], T], given: list[Any]) -> list[T]:
        started = time.perf_counter()
        made = [work(path, one) for path, one in zip(files, given, strict=True)]
        best_of[name] = min(best_of[name], (time.perf_counter() - started) / len(files))
        return made

    def checker(context: CheckContext) -> Callable[[Path, Examined], FileReport]:
        return lambda path, one: check_file(master, path, PERIOD, context, examined=one)

    for _ in range(repeat):
        with no_collection_pauses():  # each round as a new run: its own checks' context
            part("raw", lambda path, _: raw_read([path]), files)
            vetted = part("vet", lambda path, _: vetted_and_hashed(path), files)
            examined = part("read", lambda _, one: Examined(
                one[0], one[1], safe_read_sheets(one[0], isolate=False)), vetted)
            looked = part("look", checker(CheckContext(master, keep_rows=False)), examined)
            checked = part("check", checker(CheckContext(master)), examined)
            part("rows", lambda _, report: report.entries, checked)
        assert all(one.valid for one in looked + checked) and all(r.entries for r in checked)
        assert not any(one.rows for one in looked)  # validate keeps no rows
        del vetted, examined, looked, checked
    return {f"per_{name}": seconds for name, seconds in best_of.items()}


def vetted_and_hashed(path: Path) -> tuple[Vetted, str]:
    """``path`` vetted, and the content hash of the bytes vetted (``Vetted.digest``, as
    ``examine`` takes it)."""
    vetted = vet_workbook(path)
    assert vetted.content is not None  # a good return's bytes are kept until read
    return vetted, vetted.digest()


def bound(figures: dict[str, float], size: int, processes: int) -> tuple[float, float]:
    """The least validate and merge of ``size`` returns could take: every return's 安检,
    读取 and 核对 (each its own), and the master's read, shared without loss between
    ``processes`` processes (this one and its readers); for merge, its recording and
    writing after them (done by this process alone, as the runs above took them)."""
    def shared(check: str) -> float:
        per_return = figures["per_vet"] + figures["per_read"] + figures[f"per_{check}"]
        return (figures["validate_read"] + size * per_return) / processes

    return shared("look"), shared("check") + figures["merge_apply"] + figures["merge_write"]


def cached(paths: list[Path]) -> None:
    """Read ``paths`` into the system's file cache: every contender begins with the files in
    it. (Seen here: the kernel's DAMON pages out what it takes to be little used — of 1,000
    returns, 16 MB read whole every 8 s, 1 to 1.6 MB was out again each time, and the raw
    read took 0.55 to 1.57 s — so that which contender read how much from the disk was
    chance.)"""
    for path in paths:
        path.read_bytes()


def file_cost(folder: Path) -> float:
    """Seconds it takes to make one empty file in a new folder in ``folder``: ``PROBED`` of
    them, kept (removing them would make the next ones dearer on some file systems)."""
    probe = Path(tempfile.mkdtemp(prefix="probe-", dir=folder))
    started = time.perf_counter()
    for number in range(PROBED):
        with open(probe / str(number), "xb"):
            pass
    return (time.perf_counter() - started) / PROBED


def fresh_copies(master: Path, folder: Path, count: int) -> list[Path]:
    """``count`` copies of ``master`` to merge into, one each (made before any clock starts)."""
    copies = []
    for run in range(count):
        copy = folder / f"merge{run}" / "台账.xlsx"
        copy.parent.mkdir(parents=True)
        shutil.copy(master, copy)
        copies.append(copy)
    return copies


def best_merge(repeat: int, master: Path, folder: Path, files: list[Path],
               period: str) -> Timed[MergeResult]:
    """The fastest of ``repeat`` merges, each into a fresh copy of ``master``, and what it
    did."""
    return min((timed(lambda copy=copy: merge_files(copy, files, period),  # type: ignore[misc]
                      fresh=True)
                for copy in fresh_copies(master, folder, repeat)),
               key=lambda found: found.seconds)


def measure(prepared, files: list[Path], work: Path, repeat: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    size = len(files)
    folder = Path(tempfile.mkdtemp(prefix=f"n{size}-", dir=work))
    master_path = prepared.write_master(folder, size)
    raw_read(files[: min(size, 20)])  # python-calamine's code is loaded, as the others' is
    # Round by round, each contender once a round, the best of each kept: a shared machine
    # that gets faster or slower during the run (by a fifth, at times) weighs on all of
    # them alike, not on whichever ran last. Validate as the command runs it (the files are
    # vetted and read while the master is read); merge into a fresh copy each time.
    runs: dict[str, list[float]] = {"raw": [], "validate": [], "merge": []}
    best_of: dict[str, Timed[Any]] = {}
    created = file_cost(folder)  # what the merges' archive will pay for each new file

    def run(name: str, what: Callable[[], Timed[Any]], master: Path | None = None) -> None:
        """Time ``what`` (on ``master`` too), the files in the cache first; keep its time,
        and its run only while it is the best."""
        cached(files + ([master_path] if master is None else [master_path, master]))
        taken = what()
        runs[name].append(taken.seconds)
        if name not in best_of or taken.seconds < best_of[name].seconds:
            best_of[name] = taken

    for round_, copy in enumerate(fresh_copies(master_path, folder, repeat)):
        # validate and merge take turns at running first after the raw read: the one that
        # follows the other was seen to be a few hundredths slower
        commands = [("validate", lambda: timed(
                        lambda: validate_files(master_path, files, PERIOD), fresh=True), None),
                    ("merge", lambda copy=copy: timed(  # type: ignore[misc]
                        lambda: merge_files(copy, files, PERIOD), fresh=True), copy)]
        run("raw", lambda: raw_timed(files))
        for name, what, master in commands[::-1] if round_ % 2 else commands:
            run(name, what, master)
    validate, merge = best_of["validate"], best_of["merge"]
    figures = {"raw": best_of["raw"].seconds, "naive": naive_read(files),
               "validate": validate.seconds, "merge": merge.seconds, "create": created}
    # how far the runs of each lay apart: the noise the best of them was kept against
    for key, times in runs.items():
        figures[f"{key}_spread"] = max(times) / min(times)
    # the CPU time of each one's fastest run: here (all threads) and in the processes started
    for key, found in best_of.items():
        figures[f"{key}_here"], figures[f"{key}_others"] = found.here, found.others
        figures[f"{key}_busy"] = found.busy
    figures["findings"] = sum(len(r.findings) for r in validate.result.reports)
    # each one's parts, in its fastest run, as the command timed them: both begin to vet
    # and read the files as the master is read, and check them once it is, so that their
    # checks compare like with like
    figures.update({f"validate_{part}": value for part, value in validate.result.seconds.items()})
    result = merge.result
    figures.update({f"merge_{part}": value for part, value in result.seconds.items()})
    figures["merged"] = len(result.merged)
    figures.update(parts_per_return(files[:PROFILED], master_path, repeat))
    # as many processes as the runs above had: none of their readers is kept by now
    settle()
    close_all()
    figures["processes"] = 1 + reader_count(size)
    return figures


def markdown(header: list[str], rows: list[list[str]]) -> None:
    """A table as Markdown, numbers right-aligned: ready to quote."""
    print("| " + " | ".join(header) + " |")
    print("|" + "---:|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def cpu_cells(figures: dict[str, float], key: str) -> list[str]:
    """``key``'s CPU time here, in the processes it started, and both (how many cores were
    busy on average, over its wall time — until the processes it started were done)."""
    here, others = figures[f"{key}_here"], figures[f"{key}_others"]
    if math.isnan(others):
        return [f"{here:.2f}", "—", "—"]
    both = here + others
    return [f"{here:.2f}", f"{others:.2f}", f"{both:.2f}（{both / figures[f'{key}_busy']:.2f} 核）"]


def milliseconds(figures: dict[str, float], parts: tuple[str, ...]) -> str:
    """Milliseconds per return that ``parts`` take together, and how many times the raw
    read of the same file that is."""
    seconds = sum(figures[f"per_{part}"] for part in parts)
    return f"{seconds * 1000:.2f}（{seconds / figures['per_raw']:.1f}×）"


def table(sizes: list[int], rows: dict[int, dict[str, float]], title: str = "") -> None:
    if title:
        print(title)
    markdown(["报表数", "python-calamine 原始读取（基线）", "zdxm validate", "zdxm merge",
              "openpyxl 只读读取（朴素脚本）", "各次最慢÷最快：基线 / validate / merge"],
             [[f"{size:,}", f"{rows[size]['raw']:.2f} s",
               *(ratio(rows[size][key], rows[size]["raw"]) for key in ("validate", "merge", "naive")),
               " / ".join(f"{rows[size][key + '_spread']:.2f}"
                          for key in ("raw", "validate", "merge"))]
              for size in sizes])
    print()
    print("各部分用时（秒）：")
    print("（validate、merge 各自最快的那次；两者都在读台账的同时就开始安检和读取报表，读完台账再逐份核对）")
    markdown(["报表数", "validate 读台账", "validate 校验", "merge 读台账", "merge 校验",
              "merge 记入台帐", "merge 写台账（同时归档）", "其中等归档", "新建文件（毫秒/个）",
              "合并份数", "发现问题", "merge 校验÷validate 校验"],
             [[f"{size:,}", *(f"{rows[size].get(key, 0.0):.2f}" for key in (
                 "validate_read", "validate_check", "merge_read", "merge_check", "merge_apply",
                 "merge_write", "merge_archive_wait")), f"{rows[size]['create'] * 1000:.2f}",
               f"{int(rows[size]['merged']):,}",
               f"{int(rows[size]['findings'])}",
               f"{rows[size]['merge_check'] / rows[size]['validate_check']:.2f}"]
              for size in sizes])
    print()
    print(f"CPU 时间（秒），各自最快的那次：本进程（含各线程）、它起的进程（读取进程等）；"
          f"合计÷墙上时间（直到它起的进程也做完）= 平均有几核在忙（本机 {os.cpu_count()} 核）：")
    markdown(["报表数", "基线", "validate 本进程", "validate 读取进程", "validate 合计",
              "merge 本进程", "merge 读取等进程", "merge 合计"],
             [[f"{size:,}", f"{rows[size]['raw_here']:.2f}",
               *(cell for key in ("validate", "merge") for cell in cpu_cells(rows[size], key))]
              for size in sizes])
    print()
    print(f"剩下的时间花在哪里：每份报表各部分的用时（毫秒，单进程量，每种规模量前 {PROFILED:,} 份，"
          f"各部分逐份做完再做下一部分；括号里是相对原始读取同样这些文件的倍数），以及这些工作连同读台账若由本"
          f"进程和读取进程毫无损耗地分担，merge 再加上记入和写台账，至少要多久（倍数相对上面的"
          f"基线）：")
    markdown(["报表数", "原始读取（基线）", "安检", "读取", "核对（validate）",
              "核对（merge）", "merge 三者合计", "台帐行（merge 记入时）", "分担的进程数",
              "validate 至少", "merge 至少"],
             [[f"{size:,}", f"{rows[size]['per_raw'] * 1000:.2f}",
               *(milliseconds(rows[size], parts) for parts in (
                   ("vet",), ("read",), ("look",), ("check",), ("vet", "read", "check"),
                   ("rows",))),
               f"{int(rows[size]['processes'])}",
               *(ratio(least, rows[size]["raw"])
                 for least in bound(rows[size], size, int(rows[size]["processes"])))]
              for size in sizes])
    if len(sizes) > 1:
        first = sizes[0]
        print()
        print(f"增长：每份报表的用时，相对 {first:,} 份时（1.0 = 线性）：")
        markdown(["报表数", "原始读取", "validate", "merge", "openpyxl 只读"],
                 [[f"{size:,}", *(f"{rows[size][key] / size / (rows[first][key] / first):.2f}"
                                  for key in ("raw", "validate", "merge", "naive"))]
                  for size in sizes])


def masters(sizes: list[int], cache: Path, months: list[int], repeat: int) -> None:
    cases = [(projects, done) for projects in sizes for done in months]
    prepared = {case: prepare_history(case[0], months=case[1], cache=cache) for case in cases}
    found = []
    for projects, done in cases:
        master_path, filled = prepared[projects, done]
        with tempfile.TemporaryDirectory(prefix="zdxm-bench-master-") as temp:
            merged = best_merge(repeat, master_path, Path(temp), [filled],
                                f"2022-{done + 1:02d}")
            total, result = merged.seconds, merged.result
            assert len(result.merged) == 1, [r.findings for r in result.reports]
            s = result.seconds
            found.append([f"{projects:,}", f"{done}", f"{projects * done:,}", f"{s['read']:.2f} s",
                          f"{s['check'] + s['apply']:.2f} s", f"{s['write']:.2f} s",
                          f"{total:.2f} s"])
    print()
    print("台账规模：把一个单位的下月报表（10 个项目）合并进已有若干个月台帐的台账：")
    markdown(["项目数", "已有月份", "月报台帐行数", "读台账", "校验", "写台账", "合计"], found)


def returns(sizes: list[int], again: list[int], args: argparse.Namespace) -> None:
    """validate and merge of ``sizes`` returns (and ``again`` LibreOffice-saved ones)."""
    print(f"本机 {os.cpu_count()} 核；校验时另用 {reader_count(max(sizes + again))} 个常驻读取进程"
          "（各自安检并读取不同的文件）；基线都是单个进程。")
    print(f"原始读取、validate、merge（以及合并进大台账）各运行 {max(1, args.repeat)} 次取最快的一次，"
          "前三者轮流运行（openpyxl 只读读取运行 1 次）。")
    if again and not shutil.which("soffice"):
        print("（没有找到 LibreOffice（soffice），不量另存后的报表。）")
        again = []
    prepared = prepare(max(sizes + again), cache=args.cache)
    files = resaved(prepared, max(again)) if again else []  # all made before any clock runs
    rows: dict[int, dict[str, float]] = {}
    saved: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="zdxm-bench-") as temp:
        for size in sizes:
            rows[size] = measure(prepared, prepared.returns[:size], Path(temp),
                                 max(1, args.repeat))
        for size in again:
            saved[size] = measure(prepared, files[:size], Path(temp), max(1, args.repeat))
    if sizes:
        print()
        table(sizes, rows)
    if again:
        print()
        table(again, saved, "同样的报表按信息员的做法填写（本年累计、开工以来累计留给模板的公式）、"
                            "经 LibreOffice 保存（公式连同算出的值，文字在共享字符串中，"
                            "如 Excel、WPS 保存的报表）：")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,3000", help="numbers of returns")
    parser.add_argument("--masters", default="1000,10000,30000",
                        help="projects in the masters one return is merged into ('' for none)")
    parser.add_argument("--months", default="0,2",
                        help="months already in those masters' ledgers")
    parser.add_argument("--workers", type=int, default=None,
                        help="reader processes (default: one per core beyond the first)")
    parser.add_argument("--resaved", default="1000",
                        help="numbers of returns also measured as a 信息员 fills them and "
                             "LibreOffice saves them ('' or 0 for none)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="runs of each contender, the best kept (default 5)")
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args()
    if args.workers is not None:
        os.environ["ZDXM_READERS"] = str(args.workers)
    sizes = sorted(int(s) for s in args.sizes.split(",") if s)
    again = sorted(n for n in (int(s) for s in args.resaved.split(",") if s) if n > 0)
    if sizes or again:
        returns(sizes, again, args)
    if args.masters:
        masters(sorted(int(s) for s in args.masters.split(",") if s), args.cache,
                [int(m) for m in args.months.split(",") if m], max(1, args.repeat))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
