"""The service process itself."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


def settle_heap() -> None:
    """Call once startup is done: collect what startup left behind, then move every object
    still alive (modules, routes, models, metadata: some 130,000 objects in a service) to the
    collector's permanent generation. The collector then never walks them again: in the
    registry at the national volume a full collection took 70-100 ms of CPU every 2-3 s under
    load, stopping every request in flight; after this it takes about 7 ms (measured with
    gc.callbacks during `make bench-registry-reads`).

    Once per process: a process that builds many apps (the tests) would otherwise keep each
    one's cyclic garbage frozen for good."""
    if gc.get_freeze_count():
        return
    gc.collect()
    gc.freeze()


_pauses = 0
_enabled_before = False


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector waits while bulk work builds and drops many short-lived
    objects that hold no cycles (an import's batch: rows, records, event models): they are
    freed by reference counting when the step ends, so a collection in between only walks
    them, and walks them again in the older generations while they live (in the registry
    import the collections cost 2.5 s of CPU for 200,000 members, more than building the
    events; bench/registry_import.py). Nests across tasks: the collector comes back when the
    last step paused ends, and a step that ends while another is still paused collects the
    youngest generation (milliseconds), so that overlapping steps (an import commits on two
    connections) never hold back the cyclic garbage of the process's other requests for more
    than a step. Hold it for one bounded step (a batch), never a whole job."""
    global _pauses, _enabled_before
    if _pauses == 0:
        _enabled_before = gc.isenabled()
        gc.disable()
    _pauses += 1
    try:
        yield
    finally:
        _pauses -= 1
        if _pauses == 0:
            if _enabled_before:
                gc.enable()
        elif _enabled_before:
            gc.collect(0)
