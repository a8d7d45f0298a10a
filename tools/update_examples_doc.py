#!/usr/bin/env python3
"""Refreshes the ```java blocks of README.md and docs/ (EXAMPLES, API, OPTIONS, GPU, SPARK) from the source regions they show.

    python3 tools/update_examples_doc.py            # rewrites those files in place

A block is announced by a comment line  <!-- example NAME: PATH -->  directly followed by a ```java
fence; its content is the region of PATH between the lines  // [example NAME]  and  // [end],
with the region's common indentation removed. ExamplesDocTest (run by `mvn verify`) fails when a
block and its region differ, so the page cannot drift from the code that the build compiles and runs.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MARKER = re.compile(r"^<!-- example ([\w-]+): (\S+) -->$")


def region(path, name):
    """The lines between `// [example NAME]` and the next `// [end]`, common indentation removed; a region
    in several parts (each opened by the same line: an import at the top of the file, code in a method)
    is its parts joined in file order."""
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        lines = f.read().split("\n")
    starts = [i for i, line in enumerate(lines) if line.strip() == f"// [example {name}]"]
    if not starts:
        sys.exit(f"{path}: no line '// [example {name}]'")
    joined, after = [], -1
    for start in starts:
        if start <= after:
            sys.exit(f"{path}: region '{name}' opens again before its '// [end]'")
        ends = [i for i in range(start + 1, len(lines)) if lines[i].strip() == "// [end]"]
        if not ends:
            sys.exit(f"{path}: a part of region '{name}' has no '// [end]'")
        body = lines[start + 1:ends[0]]
        indent = min((len(line) - len(line.lstrip()) for line in body if line.strip()), default=0)
        joined.extend(line[indent:] if line.strip() else "" for line in body)
        after = ends[0]
    return joined


DOCS = ["docs/EXAMPLES.md", "docs/API.md", "docs/OPTIONS.md", "docs/GPU.md", "docs/SPARK.md", "README.md"]


def refresh(name):
    doc = os.path.join(ROOT, name)
    with open(doc, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out, i, count = [], 0, 0
    while i < len(lines):
        out.append(lines[i])
        m = MARKER.match(lines[i])
        if m:
            if i + 1 >= len(lines) or lines[i + 1] != "```java":
                sys.exit(f"{name} line {i + 2}: expected ```java after the marker of '{m.group(1)}'")
            end = next((j for j in range(i + 2, len(lines)) if lines[j] == "```"), None)
            if end is None:
                sys.exit(f"{name}: the block of '{m.group(1)}' is not closed")
            out.append("```java")
            out.extend(region(m.group(2), m.group(1)))
            out.append("```")
            i = end
            count += 1
        i += 1
    with open(doc, "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    print(f"{name}: {count} block(s) refreshed")


def main():
    for name in DOCS:
        refresh(name)


if __name__ == "__main__":
    main()
