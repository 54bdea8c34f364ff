"""Moved to :mod:`yangdata.validate` (shared with the activation dry-run, which may not import simulators)."""

from yangdata.validate import *  # noqa: F403
