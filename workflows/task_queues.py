"""Task queues: one worker per queue. Browser work has its own queue so it scales separately."""

MAIN = "hrops-main"
RPA = "hrops-rpa"

ALL = (MAIN, RPA)
