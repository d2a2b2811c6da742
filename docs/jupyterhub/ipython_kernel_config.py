# Settings of the reactive kernel for every user of this environment.
# Goes in {sys.prefix}/etc/jupyter/ (or {sys.prefix}/etc/ipython/); a user's own
# ~/.jupyter/ipython_kernel_config.py or ~/.ipython/profile_default/ipython_kernel_config.py
# overrides it. All settings: python -m reactive_kernel --help-all
c = get_config()  # noqa: F821 - provided by the config loader

# auto: re-run dependent cells; lazy: only mark them stale; off: plain ipykernel.
c.ReactiveKernel.mode = "lazy"
