"""Moves every Python process of a test run to another day: `make test-clock-ahead`.

With `SP_TEST_CLOCK_SHIFT_DAYS` set and this folder on PYTHONPATH, the interpreter starts
(pytest, and every service, gateway or CLI process the tests spawn, which inherit the
environment) with time-machine travelling that many days ahead, the clock still ticking. A
test that compares the real clock against fixed dates fails under it; the suite must pass
on any day, so it must pass here too. PostgreSQL and the broker keep the machine's time: the
services take every time they judge from their injected clock, never from SQL `now()`.
"""

import os

_days = os.environ.get("SP_TEST_CLOCK_SHIFT_DAYS")
if _days:
    import datetime as _dt

    import time_machine

    _destination = _dt.datetime.now(_dt.UTC) + _dt.timedelta(days=float(_days))
    time_machine.travel(_destination, tick=True).start()
