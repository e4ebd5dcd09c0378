#!/usr/bin/env python3
"""Writes tests/fnmatch_cases.json: patterns, each with the names Python's
fnmatch.fnmatchcase matches to it and the names it does not.

The glob of ledgix-manifest must agree with the fnmatch the official Python SDK uses. The
patterns are drawn from the characters that matter to fnmatch (`*`, `?`, `[`, `]`, `!`, `-`,
`^`, `\\`) plus letters; a fixed seed keeps the file stable. Run from the crate directory:
    python3 scripts/fnmatch_cases.py
"""
import fnmatch
import json
import random
import sys

PATTERN_CHARS = "ab*?[]!-^\\_"
NAME_CHARS = "ab_-!^]["
random.seed(20261129)

cases = set()
# Every pattern up to length 3 against every name up to length 2 of a smaller alphabet.
small_p = "a*?[]!-"
small_n = "a-]"


def words(alphabet, n):
    out = [""]
    for _ in range(n):
        out = out + [w + c for w in out for c in alphabet if len(w) < n]
    return sorted(set(out))


for p in words(small_p, 3):
    for n in words(small_n, 2):
        cases.add((p, n))


def instantiate(p):
    """A name that often matches p: `*` becomes 0-2 characters, `?` one, a class one of the
    characters written in it, anything else itself."""
    out, i = [], 0
    while i < len(p):
        c = p[i]
        if c == "*":
            out += random.choices(NAME_CHARS, k=random.randint(0, 2))
        elif c == "?":
            out.append(random.choice(NAME_CHARS))
        elif c == "[" and "]" in p[i + 2 :]:
            j = p.index("]", i + 2)
            out.append(random.choice(p[i + 1 : j]))
            i = j
        else:
            out.append(c)
        i += 1
    return "".join(out)


# Random longer patterns, each with a name made to match it (often) and a random one.
while len(cases) < 9000:
    p = "".join(random.choice(PATTERN_CHARS) for _ in range(random.randint(1, 8)))
    cases.add((p, instantiate(p)))
    cases.add((p, "".join(random.choices(NAME_CHARS, k=random.randint(0, 6)))))

by_pattern = {}
for p, n in sorted(cases):
    by_pattern.setdefault(p, ([], []))[0 if fnmatch.fnmatchcase(n, p) else 1].append(n)
rows = [[p, yes, no] for p, (yes, no) in sorted(by_pattern.items())]
doc = {
    "source": "Python %s fnmatch.fnmatchcase, written by scripts/fnmatch_cases.py"
    % sys.version.split()[0],
    "cases": rows,
}
with open("tests/fnmatch_cases.json", "w") as f:
    json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
    f.write("\n")
print(len(rows), "patterns,", len(cases), "cases,", sum(len(r[1]) for r in rows), "matching")
