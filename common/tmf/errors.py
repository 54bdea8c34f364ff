"""Errors of the TMF630 common behaviours (filtering, sorting, paging, attribute selection).

All are client mistakes (400): an unknown filter or sort attribute is reported, never silently ignored,
so a client that misspells ``resourceStatus`` learns it instead of receiving everything.
"""

from __future__ import annotations

from common.errors import InvalidInput


class InvalidQuery(InvalidInput):
    """A list query the server cannot honour exactly as asked."""

    code = "INVALID_QUERY"
    reason = "Invalid query"


class UnknownFilterAttribute(InvalidQuery):
    code = "UNKNOWN_FILTER_ATTRIBUTE"


class UnsupportedOperator(InvalidQuery):
    code = "UNSUPPORTED_OPERATOR"


class InvalidFilterValue(InvalidQuery):
    code = "INVALID_FILTER_VALUE"


class UnknownSortAttribute(InvalidQuery):
    code = "UNKNOWN_SORT_ATTRIBUTE"


class UnknownField(InvalidQuery):
    """``fields=`` names a member the type's schema does not have (TMF630 attribute selection)."""

    code = "UNKNOWN_FIELD"
