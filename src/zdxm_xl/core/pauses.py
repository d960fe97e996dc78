"""No collection pauses while a large master or a batch of files is handled.

Python's cycle collector runs after every so many new objects and walks every object that
is still alive. Reading a master of 30,000 projects makes a few million objects (records,
their values, the sheet's cells), so the collector walks the records made so far again and
again: a third of the time of a read. Records, cells and reports hold no reference cycles
and are freed by reference counting as they go; the collector runs as usual afterwards.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["no_collection_pauses", "collection_held"]


# Objects set aside just after the last full collection. The next pause collects again
# only once those set aside since come to a quarter as many — as CPython runs its own full
# collection only when the long-lived objects have grown by a quarter. A full collection
# walks every object alive, about 0.1 s for the demo's or the add-in's process however
# little was made since; the garbage kept meanwhile is at most that quarter.
_after_collection = 0
GROWTH = 4  # collect when what was set aside grew by 1/GROWTH


@contextlib.contextmanager
def no_collection_pauses() -> Iterator[None]:
    """The cycle collector off inside, and back as it was after (nesting is fine).

    Let back on, the collector would at once walk every object made inside that is still
    alive — for a merge of 1,000 returns, some 0.07 s at its very end, just before a
    ``zdxm`` command ends anyway. So the objects alive then are set aside (``gc.freeze``)
    instead; a later pause in the same process (the add-in's, or the next step of the demo)
    puts them back and collects first, once enough was set aside since the last time
    (``GROWTH``), so that no garbage is kept for good."""
    global _after_collection
    was_on = gc.isenabled()
    gc.disable()
    if was_on and gc.get_freeze_count() > _after_collection + _after_collection // GROWTH:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        _after_collection = gc.get_freeze_count()
    try:
        yield
    finally:
        if was_on:
            gc.freeze()
            gc.enable()


@contextlib.contextmanager
def collection_held() -> Iterator[None]:
    """The cycle collector off inside, for one burst of records made after a read (a
    ledger's rows decoded when first needed), and back as it was after — without putting
    back and collecting what an earlier pause set aside, which would walk the whole master
    once more for the sake of a few rows."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
