"""Markdown made to be slow (issue #16): one long paragraph with emphasis on every line.

    python benchmarks/bench_markup.py [--sizes 0.25 0.5 1 2 4] [--before-up-to 0.5]

prints, for each size in MB:
- refused: parsing an incident whose update is that one paragraph (what a build does with it now:
  the file or the paragraph is over its limit, and is refused before rendering);
- split: rendering the same text in paragraphs under the limit (the most a build renders);
- whole: rendering it as one paragraph as builds did before the limit (Python-Markdown's inline
  patterns), only up to --before-up-to MB, since it grows faster than the text (minutes at 4 MB).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.site import markup  # noqa: E402
from generator.site.incidents import MAX_PARAGRAPH_KB, parse_incident  # noqa: E402
from generator.site.problems import InvalidInput  # noqa: E402

UNIT = "lorem ipsum *dolor* sit amet "
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def hostile(megabytes: float) -> str:
    return UNIT * int(megabytes * 1024 * 1024 / len(UNIT))


def timed(work) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def refused(text: str) -> str:
    document = f"---\ntitle: Long\n---\n\n## 2026-11-20 14:00 UTC · Investigating\n{text}\n"
    try:
        parse_incident(document, incident_id="long", file="incidents/long.md", component_ids=(), now=NOW)
    except InvalidInput as exc:
        return str(exc.problems[0])
    return "rendered"


def split(text: str) -> str:
    size = (MAX_PARAGRAPH_KB - 4) * 1024 // len(UNIT) * len(UNIT)
    return "\n\n".join(text[at:at + size].strip() for at in range(0, len(text), size))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.25, 0.5, 1, 2, 4])
    parser.add_argument("--before-up-to", type=float, default=0.5, help="MB up to which to time the one paragraph")
    args = parser.parse_args(argv)
    print(f"{'MB':>5} {'refused s':>10} {'split s':>8} {'whole s':>8}  what a build says")
    for megabytes in args.sizes:
        text = hostile(megabytes)
        said: list[str] = []
        refusing = timed(lambda: said.append(refused(text)))
        parts = split(text)
        markup.render_markdown.cache_clear()
        splitting = timed(lambda: markup.render_markdown(parts))
        whole = "-"
        if megabytes <= args.before_up_to:
            markup.render_markdown.cache_clear()
            whole = f"{timed(lambda: markup.render_markdown(text)):.2f}"
        print(f"{megabytes:>5} {refusing:>10.3f} {splitting:>8.2f} {whole:>8}  {said[0][:90]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
