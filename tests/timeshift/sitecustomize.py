"""Moves every Python process of a test run to another day: `make test-clock-ahead`.

With `SP_TEST_CLOCK_SHIFT_DAYS` set and this folder on PYTHONPATH, the interpreter starts
(pytest, and every service, gateway or CLI process the tests spawn, which inherit the
environment) with time-machine travelling that many days ahead, the clock still ticking. A
test that compares the real clock against fixed dates fails under it; the suite must pass
on any day, so it must pass here too. PostgreSQL and the broker keep the machine's time: the
services take every time they judge from their injected clock, never from SQL `now()`.
"""

import importlib.util
import os

_days = os.environ.get("SP_TEST_CLOCK_SHIFT_DAYS")
# A tool the tests run in an interpreter of its own (openapi-python-client through uvx)
# inherits PYTHONPATH but not the project's packages: it keeps the machine's time, and its
# output stays free of a failed sitecustomize.
if _days and importlib.util.find_spec("time_machine") is not None:
    import datetime as _dt

    import time_machine

    _destination = _dt.datetime.now(_dt.UTC) + _dt.timedelta(days=float(_days))
    time_machine.travel(_destination, tick=True).start()
