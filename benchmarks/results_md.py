"""Writes one benchmark's section of `benchmarks/RESULTS.md`, keeping the rest."""

import os

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")


def write_section(name, text):
    """Replaces the text between `<!-- name:begin -->` and `<!-- name:end -->`.

    The section is appended when the file does not have it yet, so notes
    written by hand around the sections survive a new run.
    """
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    section = f"{begin}\n{text.strip()}\n{end}"
    current = open(RESULTS).read() if os.path.exists(RESULTS) else ""
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        updated = head + section + rest.split(end, 1)[1]
    else:
        updated = (current.rstrip() + "\n\n" if current else "") + section + "\n"
    with open(RESULTS, "w") as results:
        results.write(updated)
