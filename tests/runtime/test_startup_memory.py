"""What the bot builds at start is kept out of the garbage collector's walks."""

from __future__ import annotations

import gc

from bot.runtime.app import freeze_startup_objects


class Built:
    """Stands for what start-up builds: a dispatcher, dialogs, schemas."""


def test_objects_built_at_start_are_out_of_the_collectors_walk_and_later_ones_are_not():
    built = [Built() for _ in range(1000)]
    try:
        freeze_startup_objects()
        later = Built()

        walked = {id(o) for o in gc.get_objects()}  # what a full collection goes through
        assert id(built) not in walked
        assert not any(id(o) in walked for o in built)
        assert id(later) in walked
        assert gc.get_freeze_count() >= len(built)
    finally:
        gc.unfreeze()
