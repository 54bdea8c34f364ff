"""Validators that are built once, not once per request, and that check every format the documents declare.

connexion 3.3 builds a new ``Draft4Validator`` for every parameter and every request body of every
request (and deep-copies each parameter's declaration first), although the declarations are the loaded
spec's own and never change. The subclasses here keep one validator per declaration and validate exactly
as connexion does (Draft 4, OpenAPI 3.0 ``nullable``, ``required``), with the same messages.

Formats: jsonschema's stock checker checks only the formats whose optional library happens to be
installed (``date-time`` was, ``uri`` was not), so ``resourceSpecification.href: "not a uri"`` was
stored although the served document says ``format: uri``. ``FORMAT_CHECKER`` names every format the
documents declare and the rule each follows:

- ``date-time``: RFC 3339 §5.6 (what OpenAPI 3.0 means by it);
- ``uri``: an absolute URI, RFC 3986 §4.3 (a scheme is required; ``AAA`` is a relative reference);
- ``uri-reference``: an RFC 3986 §4.1 URI-reference (a relative one is fine);
- ``base64``: RFC 4648 §4 base64 text (padding included);
- ``float``, ``double``, ``int32``, ``int64``: OpenAPI 3.0 numeric formats, already said by ``type``.

A request body is checked first by jsonschema-rs (compiled: a tenth of jsonschema's time on a TMF639
create, measured in the profile) with the very format rules above. A body it accepts is accepted; a body
it refuses is validated again by jsonschema, the authority, which accepts it (jsonschema-rs knows no
OpenAPI ``nullable``, so it refuses a null the document allows) or refuses it with connexion's usual
message. That is sound only while jsonschema-rs accepts nothing jsonschema refuses:
tests/unit/server/test_body_validation.py checks it, seeded, on every body schema served.

A request body is parsed once: ``RequestGuardMiddleware`` parses it to check it (RFC 8259) and leaves the
document in the ASGI scope; ``CachedJSONBodyValidator`` validates that document instead of parsing the
bytes again.
"""

from __future__ import annotations

import binascii
import logging
import re
import threading
from collections.abc import AsyncGenerator
from typing import Any

import jsonschema_rs
from connexion.datastructures import MediaTypeDict
from connexion.exceptions import BadRequestProblem, UnsupportedMediaTypeProblem
from connexion.json_schema import Draft4RequestValidator, format_error_with_path
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.utils import is_null, is_nullable
from connexion.validators import VALIDATOR_MAP, JSONRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, FormatChecker, ValidationError
from rfc3339_validator import validate_rfc3339
from rfc3986_validator import validate_rfc3986
from starlette.types import Receive, Scope, Send

from common.errors import InvalidInput
from common.tmf.polymorphism import UnknownAttribute

logger = logging.getLogger("connexion.middleware.validation")  # connexion's, as the code it stands for

# Where RequestGuardMiddleware leaves the parsed JSON body (server.middleware sets it).
PARSED_BODY_KEY = "provisio.json_body"

# Draft 4's own checks (email, ipv4, ...) for documents that declare them later, with the rules above on top.
FORMAT_CHECKER = FormatChecker(formats=())
FORMAT_CHECKER.checkers = dict(Draft4Validator.FORMAT_CHECKER.checkers)
_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


def _is_date_time(instance: object) -> bool:
    return not isinstance(instance, str) or bool(validate_rfc3339(instance.upper()))


def _is_uri(instance: object) -> bool:
    return not isinstance(instance, str) or validate_rfc3986(instance, rule="URI") is not None


def _is_uri_reference(instance: object) -> bool:
    return not isinstance(instance, str) or validate_rfc3986(instance, rule="URI_reference") is not None


def _is_base64(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    if len(instance) % 4 or not _BASE64.match(instance):
        return False
    try:
        binascii.a2b_base64(instance.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError):
        return False
    return True


def _is_number_format(_instance: object) -> bool:
    return True  # the number's ``type`` already says all these formats say in JSON


for _name, _rule in {
    "date-time": _is_date_time,
    "uri": _is_uri,
    "uri-reference": _is_uri_reference,
    "base64": _is_base64,
    **dict.fromkeys(("float", "double", "int32", "int64"), _is_number_format),
}.items():
    FORMAT_CHECKER.checkers[_name] = (_rule, ())  # (check, exceptions it raises), as FormatChecker.checks keeps it


# id(schema) -> (schema, validator); the schema is kept so that its id cannot be reused by another object.
# The schemas are the spec's dictionaries, so the cache is bounded by the spec; the limit only guards
# against a connexion version that would hand out fresh copies per request.
_CACHE_LIMIT = 4096
_validators: dict[tuple[int, type[Any]], tuple[dict[str, Any], Any]] = {}
_lock = threading.Lock()


def _validator_for(schema: dict[str, Any], validator_class: type[Any] = Draft4Validator) -> Any:
    key = (id(schema), validator_class)
    found = _validators.get(key)
    if found is not None and found[0] is schema:
        return found[1]
    validator = validator_class(schema, format_checker=FORMAT_CHECKER)
    with _lock:
        if len(_validators) >= _CACHE_LIMIT:
            _validators.clear()
        _validators[key] = (schema, validator)
    return validator


# A parameter schema any text meets (an id in the path, ``fields`` once its pattern is left to the handler).
_ANY_STRING = {"type": "string"}


class CachedParameterValidator(ParameterValidator):  # type: ignore[misc]  # connexion ships no types
    @staticmethod
    def validate_parameter(
        parameter_type: str, value: Any, param: dict[str, Any], param_name: str | None = None
    ) -> str | None:
        """connexion's ``validate_parameter`` without the per-call deep copy and validator construction
        (a validator never changes its schema, so the copy protected nothing)."""
        if is_nullable(param) and is_null(value):
            return None
        if value is not None:
            schema = _edge_schema(param.get("schema", param))
            if isinstance(value, str) and schema == _ANY_STRING:
                return None  # what jsonschema would answer, without building its error iterator
            try:
                _validator_for(schema).validate(value)
            except ValidationError as exception:
                return str(exception)
            return None
        if param.get("required"):
            return f"Missing {parameter_type} parameter '{param['name']}'"
        return None


# id(schema) -> (schema, the schema without the keywords its handler checks); see ``_edge_schema``.
_edge_schemas: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}


def _edge_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` less the keywords ``x-handler-checks`` names (``server.documents``): the document declares
    them, and the handler enforces them with TMF630's codes and messages (``UNKNOWN_SORT_ATTRIBUTE``
    listing the sortable names, not a regular expression)."""
    keywords = schema.get("x-handler-checks")
    if not keywords:
        return schema
    found = _edge_schemas.get(id(schema))
    if found is not None and found[0] is schema:
        return found[1]
    edge = {key: value for key, value in schema.items() if key not in keywords}
    with _lock:
        _edge_schemas[id(schema)] = (schema, edge)
    return edge


def _format_rule(name: str) -> Any:
    return lambda value: FORMAT_CHECKER.conforms(value, name)


def compiled_validator_for(schema: dict[str, Any]) -> Any:
    """jsonschema-rs's Draft 4 validator of ``schema`` with FORMAT_CHECKER's rules (built once per schema)."""
    key = (id(schema), jsonschema_rs.Draft4Validator)
    found = _validators.get(key)
    if found is not None and found[0] is schema:
        return found[1]
    validator = jsonschema_rs.Draft4Validator(
        schema, validate_formats=True, formats={name: _format_rule(name) for name in FORMAT_CHECKER.checkers}
    )
    with _lock:
        if len(_validators) >= _CACHE_LIMIT:
            _validators.clear()
        _validators[key] = (schema, validator)
    return validator


def fast_accepts(schema: dict[str, Any], body: Any) -> bool:
    """True if jsonschema-rs accepts ``body``; False if it refuses it or cannot take it (then jsonschema decides)."""
    try:
        return bool(compiled_validator_for(schema).is_valid(body))
    except (ValueError, TypeError, OverflowError):  # a value jsonschema-rs cannot convert (a huge integer)
        return False


class CachedJSONBodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]  # connexion ships no types
    """connexion's JSON body validator with one validator per body schema, jsonschema-rs in front of
    jsonschema for valid bodies, and the guard's parse reused.

    A refusal names what is wrong in the TMF Error's ``code``: an attribute a closed schema does not declare
    is ``UNKNOWN_ATTRIBUTE`` (naming it); a failure of a (sub)schema that carries ``x-error-code`` has that
    code (``callback`` is ``INVALID_CALLBACK`` whether the document or the hub refuses it), a wrong JSON
    type excepted (that is a malformed request); anything else is connexion's 400 with jsonschema's message.
    Subclasses choose the schema a body is checked against (``target``: ``server.discriminator`` picks the
    ``oneOf`` branch its ``@type`` names)."""

    @property
    def _validator(self) -> Any:
        return _validator_for(self._schema, Draft4RequestValidator)

    def target(self, body: Any) -> tuple[dict[str, Any], Any]:
        """The schema ``body`` is validated against and what is validated: the operation's own, the body."""
        return self._schema, body

    def _validate(self, body: Any) -> dict[str, Any] | None:
        if body is None:
            if not self._nullable:
                raise BadRequestProblem("Request body must not be empty")
            return None
        schema, candidate = self.target(body)
        if fast_accepts(schema, candidate):
            return None
        try:  # jsonschema is the authority, and words the refusal
            _validator_for(schema, Draft4RequestValidator).validate(candidate)
        except ValidationError as exception:
            raise refusal(exception) from None
        return None

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        parsed = scope.get(PARSED_BODY_KEY)
        if parsed is None:  # not checked by the guard (an empty body, or a test without the middleware)
            return await super()._parse(stream, scope)
        async for _chunk in stream:  # still drained: connexion replays these messages to the handler
            pass
        return parsed[0]


def refusal(exception: ValidationError) -> Exception:
    """The 400 for a body jsonschema refused (see ``CachedJSONBodyValidator``)."""
    where = _path(exception)
    if exception.validator == "additionalProperties" and isinstance(exception.instance, dict):
        declared = exception.schema.get("properties") or {}
        unknown = sorted(str(key) for key in exception.instance if key not in declared)
        if unknown:
            inside = f" in {where}" if where else ""
            return UnknownAttribute(
                f"Unknown attribute {unknown[0]!r}{inside}: the schema does not declare it"
                + (f" (nor {', '.join(repr(name) for name in unknown[1:])})" if unknown[1:] else "")
                + ". Only attributes a type declares are accepted.",
                details={"attributes": unknown, **({"path": where} if where else {})},
            )
    message = f"{exception.message}{format_error_with_path(exception=exception)}"
    code = exception.schema.get("x-error-code") if isinstance(exception.schema, dict) else None
    if isinstance(code, str) and exception.validator != "type":  # a wrong JSON type stays a malformed request
        # Not jsonschema's message: it quotes the value, and a value with a code of its own may hold a
        # secret (a callback's credentials). The rule and the schema's description say what is wanted.
        description = str(exception.schema.get("description") or "").strip()
        return InvalidInput(
            f"{where or 'The body'!s} breaks its {exception.validator} rule"
            + (f": {description}" if description else "."),
            code=code,
        )
    problem: Exception = BadRequestProblem(detail=message)
    return problem


def _path(exception: ValidationError) -> str:
    return ".".join(str(part) for part in exception.absolute_path)


def validator_map(body_validator: type[CachedJSONBodyValidator] = CachedJSONBodyValidator) -> dict[str, Any]:
    """connexion's validators, with parameters and JSON bodies validated by the cached validators above
    (``body_validator``: this module's, or a subclass such as ``server.discriminator``'s)."""
    body = MediaTypeDict(
        {
            media_type: body_validator if validator is JSONRequestBodyValidator else validator
            for media_type, validator in VALIDATOR_MAP["body"].items()
        }
    )
    return {**VALIDATOR_MAP, "parameter": CachedParameterValidator, "body": body}


# --- request validation built once per operation ------------------------------------------------------


_NOT_FOUND = object()
_MEDIA_TYPES_LIMIT = 64


class PrebuiltRequestValidationOperation(RequestValidationOperation):  # type: ignore[misc]
    """connexion's request validation of one operation, with what it builds per request built once.

    connexion 3.3 makes a new URI parser and a new parameter validator for every request (and, for an
    operation with a request body, a new media-type table of what it consumes), from the operation's
    parameters, which never change. Here they are made at the operation's first request and kept; the
    checks, their order and their messages are connexion's own (``RequestValidationOperation.__call__``)."""

    _parameter_validator: Any = None
    _consumed: MediaTypeDict | None = None
    _answers: dict[tuple[int, str], Any] | None = None

    def _lookup(self, table: MediaTypeDict, mime_type: str) -> Any:
        """``table.get(mime_type)`` remembered (``_NOT_FOUND`` if absent): MediaTypeDict sorts its keys and
        fnmatches each at every lookup. The tables are this operation's own, fixed when the API is added;
        the media types are client text, so the memory is bounded."""
        if self._answers is None or len(self._answers) >= _MEDIA_TYPES_LIMIT:
            self._answers = {}
        key = (id(table), mime_type)
        found = self._answers.get(key, _NOT_FOUND)
        if found is _NOT_FOUND:
            found = self._answers[key] = table.get(mime_type, _NOT_FOUND)
        return found

    def _validator_of_parameters(self) -> Any:
        if self._parameter_validator is None:
            operation = self._operation
            uri_parser = operation._uri_parser_class(operation.parameters, operation.body_definition())
            self._parameter_validator = self._validator_map["parameter"](
                self._operation.parameters,
                uri_parser=uri_parser,
                strict_validation=self.strict_validation,
                security_query_params=self.security_query_params,
            )
        return self._parameter_validator

    def validate_mime_type(self, mime_type: str) -> None:
        consumes = self._operation.consumes
        if not consumes:
            return
        if self._consumed is None:
            self._consumed = MediaTypeDict([(media_type.lower(), None) for media_type in consumes])
        if self._lookup(self._consumed, mime_type.lower()) is _NOT_FOUND:
            raise UnsupportedMediaTypeProblem(detail=f"Invalid Content-type ({mime_type}), expected {consumes}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._validator_of_parameters().validate(scope)
        mime_type, encoding = self.extract_content_type(scope["headers"])
        self.validate_mime_type(mime_type)
        schema = self._operation.body_schema(mime_type)
        if schema:
            body_validator = self._lookup(self._validator_map["body"], mime_type)
            if body_validator is _NOT_FOUND:
                logger.info("Skipping validation. No validator registered for content type: %s.", mime_type)
            else:
                validator = body_validator(
                    schema=schema,
                    required=self._operation.request_body.get("required", False),
                    nullable=is_nullable(self._operation.body_definition(mime_type)),
                    encoding=encoding,
                    strict_validation=self.strict_validation,
                    uri_parser=self._operation.uri_parser_class(
                        self._operation.parameters, self._operation.body_definition()
                    ),
                )
                receive, scope = await validator.wrap_receive(receive, scope=scope)
        await self.next_app(scope, receive, send)


class PrebuiltRequestValidationAPI(RequestValidationAPI):  # type: ignore[misc]
    def make_operation(self, operation: Any) -> PrebuiltRequestValidationOperation:
        return PrebuiltRequestValidationOperation(
            self.next_app,
            operation=operation,
            strict_validation=self.strict_validation,
            validator_map=self.validator_map,
        )


class PrebuiltRequestValidationMiddleware(RequestValidationMiddleware):  # type: ignore[misc]
    """connexion's ``RequestValidationMiddleware`` with ``PrebuiltRequestValidationOperation``s."""

    api_cls = PrebuiltRequestValidationAPI
