"""``python -m reactive_kernel``: launch the kernel, or ``install`` its kernelspec."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    if sys.argv[1:2] == ["install"]:
        from .install import main

        sys.exit(main(sys.argv[2:]))
    from ipykernel.kernelapp import IPKernelApp

    from .kernel import ReactiveKernel

    IPKernelApp.launch_instance(kernel_class=ReactiveKernel)
