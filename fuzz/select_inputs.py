#!/usr/bin/python3
"""Chooses which of the fuzzer's finds join the kept corpus: a greedy set cover over the
project-code edges each input reaches (fuzz/edges_main.cpp prints them), starting from what
the kept corpus already covers, taking the input that adds the most edges until none adds
at least --min-edges. Prints the chosen files, best first, with what each adds on stderr.

    select_inputs.py EDGES_FILE KEPT_DIR [--min-edges N]
"""

import argparse
import os
import sys


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("edges")
    parser.add_argument("kept")
    parser.add_argument("--min-edges", type=int, default=5)
    args = parser.parse_args()

    kept_dir = os.path.realpath(args.kept)
    covered: set[int] = set()
    candidates: dict[str, set[int]] = {}
    for line in open(args.edges):
        name, *edges = line.split()
        if os.path.dirname(os.path.realpath(name)) == kept_dir:
            covered.update(map(int, edges))
        else:
            candidates[name] = set(map(int, edges))

    start = len(covered)
    while candidates:
        # Most new edges first; the smaller file among equals.
        best = max(candidates, key=lambda f: (len(candidates[f] - covered), -os.path.getsize(f)))
        gain = len(candidates[best] - covered)
        if gain < args.min_edges:
            break
        covered |= candidates.pop(best)
        print(best)
        print(f"  {os.path.basename(best)}: +{gain} edges", file=sys.stderr)
    print(f"kept corpus edges: {start} → {len(covered)}", file=sys.stderr)


if __name__ == "__main__":
    main()
