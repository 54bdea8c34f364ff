"""Moved to :mod:`yangdata.edit` (shared with the activation dry-run, which may not import simulators)."""

from yangdata.edit import *  # noqa: F403
