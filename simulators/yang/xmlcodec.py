"""Moved to :mod:`yangdata.xmlcodec` (shared with the activation dry-run, which may not import simulators)."""

from yangdata.xmlcodec import *  # noqa: F403
