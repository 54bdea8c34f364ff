"""Moved to :mod:`yangdata.model` (shared with the activation dry-run, which may not import simulators)."""

from yangdata.model import *  # noqa: F403
