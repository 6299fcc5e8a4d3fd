"""Side by side: this untangler against an older checkout's, on the same lines, alternating runs.

Usage::

    git archive 89430b6 | tar -x -C /tmp/before    # the commit before the untangle package
    python bench/disentangle_compare.py /tmp/before DATA_DIR [--split dev] [--rounds 5]

The older untangler is loaded from ``OLD/untangle`` (the package, under its own module names) or,
for checkouts before the package, ``OLD/archive/conversations.py`` (with the weights beside it).  Both get the same ChatLines; every round runs old then new over all files.
Prints the median messages/s by the clock and by CPU time, their ratio, and whether both link
every line the same way.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import untangle
from untangle.irc import read_irc_file, split_files

FIELDS = ("id", "ts", "author", "text", "is_system", "reply_to", "thread_id", "mentions", "names")


def _load_package(tree: Path) -> ModuleType:
    """``tree/untangle`` imported beside this checkout's: its modules are set aside once loaded."""
    ours = {k: v for k, v in sys.modules.items() if k == "untangle" or k.startswith("untangle.")}
    for k in ours:
        del sys.modules[k]
    sys.path.insert(0, str(tree))
    try:
        mod = importlib.import_module("untangle")
    finally:
        sys.path.pop(0)
        for k in [k for k in sys.modules if k == "untangle" or k.startswith("untangle.")]:
            del sys.modules[k]
        sys.modules.update(ours)
    return mod


def load_old(tree: Path) -> ModuleType:
    """The older untangler: its untangle package, or archive/conversations.py before the package."""
    if (tree / "untangle" / "__init__.py").exists():
        return _load_package(tree)
    path = tree / "archive" / "conversations.py"
    spec = importlib.util.spec_from_file_location("old_untangler", path)
    if spec is None or spec.loader is None or not path.exists():
        raise SystemExit(f"error: no {tree / 'untangle'} or {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["old_untangler"] = mod
    spec.loader.exec_module(mod)
    return mod


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old", type=Path)
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--split", default="dev")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    old = load_old(args.old)
    new_lines = [read_irc_file(p) for p in split_files(args.data_dir, args.split)]
    old_lines = [[old.ChatLine(**{f: getattr(ln, f) for f in FIELDS}) for ln in lines] for lines in new_lines]
    total = sum(map(len, new_lines))
    runs: dict[str, dict[str, list[float]]] = {"old": {"wall": [], "cpu": []}, "new": {"wall": [], "cpu": []}}
    out: dict[str, list[tuple[int | None, int]]] = {}
    for _ in range(args.rounds):
        for name, fn, batches in (("old", old.untangle, old_lines), ("new", untangle.untangle, new_lines)):
            t0, c0 = time.perf_counter(), time.process_time()
            links = [fn(lines) for lines in batches]
            runs[name]["wall"].append(total / (time.perf_counter() - t0))
            runs[name]["cpu"].append(total / (time.process_time() - c0))
            out[name] = [(lk.parent, lk.conversation) for batch in links for lk in batch]
    for name, r in runs.items():
        print(
            f"{name}: median {statistics.median(r['wall']):,.0f} messages/s by the clock,"
            f" {statistics.median(r['cpu']):,.0f} by CPU time ({args.rounds} rounds, {total} messages)"
        )
    for kind in ("wall", "cpu"):
        ratio = statistics.median(runs["new"][kind]) / statistics.median(runs["old"][kind])
        print(f"ratio new/old ({kind}): {ratio:.2f}")
    same = sum(a == b for a, b in zip(out["old"], out["new"], strict=True))
    print(f"same parent and conversation: {same} of {total} lines")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
