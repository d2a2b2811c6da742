"""``python -m reactive_kernel``: launch the kernel, or run a command (``install``, ``audit``,
``run``; see ``cli.py``)."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    if sys.argv[1:2] in (["install"], ["audit"], ["run"], ["--help"], ["--version"]):
        from .cli import main

        sys.exit(main(sys.argv[1:]))
    from .kernelapp import main

    main()
