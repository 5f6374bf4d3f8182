#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check that docs/framework.md still quotes examples/first_device/.

Every fenced block of the doc whose first line is a C comment naming a
file of the example (/* examples/first_device/bell.c */) must appear in
that file word for word, and at least one such block must exist, so the
walk-through cannot drift from the code its test compiles and runs.
Usage: doc_quotes.py SOURCE_ROOT
"""
import re
import sys

HEAD = re.compile(r"^/\* (examples/first_device/[\w.]+) \*/$")


def blocks(text):
    """The fenced blocks of a Markdown text, as lists of lines."""
    out, cur = [], None
    for line in text.split("\n"):
        if line.startswith("```"):
            if cur is None:
                cur = []
            else:
                out.append(cur)
                cur = None
        elif cur is not None:
            cur.append(line)
    return out


def main():
    root = sys.argv[1]
    with open(f"{root}/docs/framework.md", encoding="utf-8") as f:
        doc = f.read()
    checked, bad = 0, 0
    for b in blocks(doc):
        m = HEAD.match(b[0]) if b else None
        if not m:
            continue
        with open(f"{root}/{m.group(1)}", encoding="utf-8") as f:
            src = f.read()
        quote = "\n".join(b[1:]) + "\n"
        checked += 1
        if quote not in src:
            bad += 1
            first = b[1] if len(b) > 1 else ""
            print(f"docs/framework.md: a block quoting {m.group(1)} is not "
                  f"in it any more (it starts: {first.strip()!r})")
    if not checked:
        print("docs/framework.md: no block quotes examples/first_device/")
        return 1
    print(f"{checked} quoted blocks checked, {bad} stale")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
