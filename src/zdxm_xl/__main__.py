"""The ``zdxm`` command, also run as ``python -m zdxm_xl``.

``zdxm --version`` is answered here, before the command line is loaded (typer, rich and the
definitions of all the commands, ``frontends.cli``): a command that does nothing does not
wait for them. Everything else is ``frontends.cli.main``.
"""

from __future__ import annotations

import sys

from . import __version__

# The options of ``zdxm`` itself, before any command: with ``--version`` among them, the
# version is all there is to say (``frontends.cli`` answers the same).
_ROOT_OPTIONS = frozenset({"--version", "--debug"})


def main(argv: list[str] | None = None) -> int:
    """Run ``zdxm`` with ``argv`` (default: the process's arguments); the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--version" in args and set(args) <= _ROOT_OPTIONS:
        sys.stdout.write(f"zdxm-xl {__version__}\n")
        return 0
    from .frontends.cli import main as command_line

    return command_line(args)


def run() -> None:
    """The console script: ``sys.exit`` with ``main``'s code."""
    sys.exit(main())


if __name__ == "__main__":
    run()
