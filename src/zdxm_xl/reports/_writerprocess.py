"""A writer process (``reports.writers``): run as a script by path, ``python
_writerprocess.py``, it takes what its documents share, then writes one document per
request on its standard input, answering each. Requests and answers are length-prefixed
pickles of zdxm's own data (the jobs of the process that started it, never a file from
outside). A failure is answered as such, not raised: that process writes the document
again itself, where the failure is reported as usual.
"""

from __future__ import annotations

import pickle
import struct
import sys
from pathlib import Path
from typing import Any

if __name__ == "__main__" and sys.path and Path(sys.path[0]).resolve() == Path(__file__).parent:
    # run by path: this file's folder is not a place to import top-level modules from
    del sys.path[0]

__all__ = ["serve"]

_HEADER = struct.Struct(">I")


def serve() -> int:
    incoming, outgoing = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # what a document's writing prints must not mix with the answers
    shared: Any = None
    while True:
        head = incoming.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return 0
        kind, data = pickle.loads(incoming.read(_HEADER.unpack(head)[0]))
        if kind == "shared":
            shared = pickle.loads(data)
            continue
        try:
            write, job = pickle.loads(data)
            reply: tuple[str, Any] = ("ok", write(shared, job))
            answer = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # written again by the process that asked, which says why
            answer = pickle.dumps(("failed", None), protocol=pickle.HIGHEST_PROTOCOL)
        outgoing.write(_HEADER.pack(len(answer)) + answer)
        outgoing.flush()


if __name__ == "__main__":
    sys.exit(serve())
