"""JSON Schema (as OpenAI clients send it) -> Gemini `Schema` (an OpenAPI 3.0 subset).

Used for function `parameters` and for `response_format.json_schema.schema`. Keywords that
Gemini keeps are copied; a few are rewritten with the same meaning (`type: [t, "null"]` ->
`nullable`, `const` -> one-value `enum`); annotations that cannot change what Gemini may
generate are dropped (`DROPPED_KEYWORDS`, unsupported `format` hints); anything else would
change the contract and is rejected with a `TranslationError` naming the keyword's path.
"""

from __future__ import annotations

from typing import Any

from ext_proc.translators.base import TranslationError

JSONObject = dict[str, Any]

# Copied as they are (values recursed into where they hold schemas).
KEPT_KEYWORDS = frozenset(
    {
        "description", "title", "nullable", "enum", "maxItems", "minItems", "required",
        "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example",
        "default", "minimum", "maximum", "propertyOrdering",
    }
)
# Dropped: they only annotate, or forbid what Gemini never does (extra object keys).
DROPPED_KEYWORDS = frozenset({"$schema", "$id", "$comment", "examples", "strict"})
# `format` values Gemini understands, per type; other formats are hints and are dropped.
FORMATS = {"STRING": {"enum", "date-time"}, "INTEGER": {"int32", "int64"},
           "NUMBER": {"float", "double"}}
TYPES = {"string", "number", "integer", "boolean", "array", "object", "null"}


def json_schema_to_gemini(schema: Any, path: str) -> JSONObject:
    """Convert one schema node; `path` names it in errors (e.g. `tools[0].function.parameters`)."""
    if not isinstance(schema, dict):
        raise TranslationError(f"{path} must be a JSON Schema object.", param=path)
    out: JSONObject = {}
    for key, value in schema.items():
        if key in DROPPED_KEYWORDS or (key == "additionalProperties" and value is False):
            continue
        _convert_keyword(key, value, path, out)
    if isinstance(out.get("format"), str) and out["format"] not in FORMATS.get(out.get("type"), ()):
        del out["format"]
    if "enum" in out and out.get("type", "STRING") != "STRING":
        raise TranslationError(f"{path}.enum: Gemini supports enum on strings only.", param=path)
    return out


def _convert_keyword(key: str, value: Any, path: str, out: JSONObject) -> None:
    if key == "type":
        out.update(_gemini_type(value, f"{path}.type"))
    elif key == "properties":
        out["properties"] = _properties(value, f"{path}.properties")
    elif key == "items":
        out["items"] = json_schema_to_gemini(value, f"{path}.items")
    elif key == "anyOf":
        out["anyOf"] = [
            json_schema_to_gemini(item, f"{path}.anyOf[{i}]") for i, item in enumerate(value)
        ]
    elif key == "const":
        out["enum"] = [_string_const(value, f"{path}.const")]
    elif key == "format":
        out["format"] = value
    elif key in KEPT_KEYWORDS:
        out[key] = value
    else:
        raise TranslationError(
            f"JSON Schema keyword '{key}' at {path} is not supported by Gemini.",
            param=f"{path}.{key}",
        )


def _gemini_type(value: Any, path: str) -> JSONObject:
    names = value if isinstance(value, list) else [value]
    if not names or not all(isinstance(name, str) and name in TYPES for name in names):
        raise TranslationError(f"{path} must be a JSON Schema type name.", param=path)
    concrete = [name for name in names if name != "null"]
    if len(concrete) > 1:
        raise TranslationError(f"{path}: Gemini allows one type (plus null).", param=path)
    result: JSONObject = {"type": (concrete[0] if concrete else "null").upper()}
    if concrete and len(names) > 1:
        result["nullable"] = True
    return result


def _properties(value: Any, path: str) -> JSONObject:
    if not isinstance(value, dict):
        raise TranslationError(f"{path} must be an object.", param=path)
    return {name: json_schema_to_gemini(item, f"{path}.{name}") for name, item in value.items()}


def _string_const(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise TranslationError(f"{path}: Gemini supports string constants only.", param=path)
    return value
