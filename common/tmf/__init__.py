"""TMF630 behaviours written once for every API: filtering, sorting, paging, attribute selection,
JSON merge-patch and hrefs. A context declares a ``QuerySpec``; see ``common.tmf.query``."""

from common.tmf.errors import (
    InvalidFilterValue,
    InvalidQuery,
    UnknownFilterAttribute,
    UnknownSortAttribute,
    UnsupportedOperator,
)
from common.tmf.etag import EntityTag, EntityTagMismatch, InvalidEntityTag, Preconditions, entity_tag
from common.tmf.links import href
from common.tmf.merge_patch import changed_members, merge_patch
from common.tmf.paging import Page
from common.tmf.projection import ALWAYS_KEPT, Fields, parse_fields, project
from common.tmf.query import (
    BOOLEAN,
    DATETIME,
    INTEGER,
    STRING,
    ColumnAttribute,
    Filter,
    JsonAttribute,
    ListQuery,
    QuerySpec,
    SortKey,
    column,
    enum_of,
    json_array,
    json_object,
    json_value,
    parse_list_query,
)
from common.tmf.spec import component_enum
from common.tmf.sql import JsonPathEquals, order_by, where_clause

__all__ = [
    "ALWAYS_KEPT",
    "BOOLEAN",
    "DATETIME",
    "INTEGER",
    "STRING",
    "ColumnAttribute",
    "EntityTag",
    "EntityTagMismatch",
    "Fields",
    "Filter",
    "InvalidEntityTag",
    "InvalidFilterValue",
    "InvalidQuery",
    "JsonAttribute",
    "JsonPathEquals",
    "ListQuery",
    "Page",
    "Preconditions",
    "QuerySpec",
    "SortKey",
    "UnknownFilterAttribute",
    "UnknownSortAttribute",
    "UnsupportedOperator",
    "changed_members",
    "column",
    "component_enum",
    "entity_tag",
    "enum_of",
    "href",
    "json_array",
    "json_object",
    "json_value",
    "merge_patch",
    "order_by",
    "parse_fields",
    "parse_list_query",
    "project",
    "where_clause",
]
