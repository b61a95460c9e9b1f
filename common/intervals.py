"""How often agents report: the floor both sides hold to."""

# The least interval the agent takes from a collector: a collector set to 1 s by mistake (or an
# impostor) must not have the whole fleet scanning back to back. The collector refuses a setting
# below it, so it never asks for less.
MIN_REPORT_INTERVAL = 60
