"""macOS implementations of the probes: one module per kind of fact.

What the agent reads, and why it needs no prompt: it runs as a root launchd daemon, so
IOKit's registry (``ioreg``), ``system_profiler``, ``wdutil`` and every user's preference
files are readable without TCC consent. Location Services alone guards the Wi-Fi BSSID;
without it the probe says so in the report.
"""
