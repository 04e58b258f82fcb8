"""Run a command-line entry point with the clock of the test that started it.

A test that starts ``flask scheduler`` in a subprocess cannot hand it the
time-machine patch of its own process; this wrapper re-creates it::

    python -m tests.clocked 2026-11-29T10:00:00+08:00 flask --app app scheduler

The clock starts at the given ISO instant and ticks at real speed, so timers and
cron triggers fire as they would in production, on the test's calendar.
"""
from __future__ import annotations

import datetime as dt
import runpy
import sys

import time_machine


def command(*args: str) -> list[str]:
    """``[python, -m, tests.clocked, <now>, *args]`` for the current (frozen) instant of the test."""
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    return [sys.executable, "-m", "tests.clocked", now, *args]


def main(argv: list[str]) -> None:
    """Start the clock at ``argv[0]`` and run module ``argv[1]`` with the remaining arguments."""
    instant = dt.datetime.fromisoformat(argv[0])
    time_machine.travel(instant, tick=True).start()
    sys.argv = [argv[1], *argv[2:]]
    runpy.run_module(argv[1], run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
