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


@contextlib.contextmanager
def no_collection_pauses() -> Iterator[None]:
    """The cycle collector off inside, and back as it was after (nesting is fine).

    Let back on, the collector would at once walk every object made inside that is still
    alive — for a merge of 1,000 returns, some 0.07 s at its very end, just before a
    ``zdxm`` command ends anyway. So the objects alive then are set aside (``gc.freeze``)
    instead; the next pause in the same process (the add-in's, or the next step of the
    demo) puts them back and collects first, so that no garbage is kept for good."""
    was_on = gc.isenabled()
    gc.disable()
    if was_on and gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()
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
