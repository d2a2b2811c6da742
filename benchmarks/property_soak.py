"""A long run of the guarantee's property test (tests/test_property.py): many more random
sessions than CI runs, over several seeds.

    python benchmarks/property_soak.py                  # 4 seeds x 2,000 sessions
    python benchmarks/property_soak.py --seeds 8 --examples 5000

Each seed runs in its own pytest process; a failure prints hypothesis's shrunk session.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4, help="how many seeds (default 4)")
    parser.add_argument("--examples", type=int, default=2000, help="sessions per seed")
    parser.add_argument("--first-seed", type=int, default=1)
    args = parser.parse_args()
    failed = 0
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        env = dict(
            os.environ,
            REACTIVE_PROPERTY_EXAMPLES=str(args.examples),
            REACTIVE_PROPERTY_SEED=str(seed),
        )
        start = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_property.py"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.monotonic() - start
        verdict = "passed" if result.returncode == 0 else "FAILED"
        print(f"seed {seed}: {args.examples} sessions {verdict} in {seconds:.0f} s", flush=True)
        if result.returncode:
            failed += 1
            print(result.stdout[-6000:])
    print(f"{args.seeds - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
