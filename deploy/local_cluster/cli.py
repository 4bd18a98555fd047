"""The command line of deploy/local-cluster."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from . import default_directory, down, start_node, status, stop_node, up
from .processes import ClusterError

USAGE = """local-cluster up PATTERN [--dir DIR] [--variant NAME] [--binary PATH] [--netns]
       local-cluster down PATTERN [--dir DIR] [--variant NAME] [--purge]
       local-cluster status PATTERN [--dir DIR] [--variant NAME]
       local-cluster start-node|stop-node|kill-node PATTERN NAME [--dir DIR] [--variant NAME]

PATTERN: a folder of deploy/patterns (1-all-in-one, 2-gateway-key-manager, 3-distributed,
4-internal-external).
DIR defaults to $TMPDIR/portico-cluster-UID/PATTERN[-VARIANT].
--netns: each node in a network namespace of its own, with the pattern's firewall rules
(root, iproute2 and nftables; docs/deployment.md)."""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="local-cluster", usage=USAGE)
    parser.add_argument("command", choices=["up", "down", "status", "start-node", "stop-node",
                                            "kill-node"])
    parser.add_argument("pattern")
    parser.add_argument("name", nargs="?")
    parser.add_argument("--dir")
    parser.add_argument("--variant", default="")
    parser.add_argument("--binary")
    parser.add_argument("--netns", action="store_true",
                        help="up: each node in a network namespace of its own")
    parser.add_argument("--purge", action="store_true",
                        help="down: remove the run folder too (databases, CA, logs)")
    args = parser.parse_args(argv)
    directory = Path(args.dir) if args.dir else default_directory(args.pattern, args.variant)
    needs_name = args.command.endswith("-node")
    if needs_name != bool(args.name):
        parser.error(f"{args.command} takes {'a' if needs_name else 'no'} process NAME")
    try:
        if args.command == "up":
            up(args.pattern, directory, variant=args.variant, binary=args.binary,
               netns=args.netns)
            print(directory.resolve() / "endpoints.env")
        elif args.command == "down":
            down(directory, args.purge)
        elif args.command == "status":
            rows = status(directory)
            for row in rows:
                pid = row["pid"] if row["up"] else "-"
                print(f"{row['name']:<12} {row['kind']:<14} {pid!s:<8} "
                      f"{'up' if row['up'] else 'down'}")
            return 0 if all(r["up"] for r in rows) else 3
        elif args.command == "start-node":
            start_node(directory, args.name)
        elif args.command == "stop-node":
            stop_node(directory, args.name)
        else:
            stop_node(directory, args.name, signal.SIGKILL)
    except ClusterError as e:
        print(f"local-cluster: {e}", file=sys.stderr)
        if args.command == "up" and (directory / "state.json").is_file():
            print(f"local-cluster: what did start still runs: local-cluster down {args.pattern}"
                  f"{' --dir ' + args.dir if args.dir else ''}", file=sys.stderr)
        return 1
    return 0
