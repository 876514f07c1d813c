"""A minimal JSON Schema (2020-12) validator and OpenAPI 3.1 lookups, for
test_openapi.py. Python standard library only.

It supports exactly the keywords docs/openapi.json uses, and refuses any
other assertion keyword (SchemaError) rather than ignore it, so a constraint
added to the document cannot silently go unchecked:

  type (a name or a list, e.g. ["string", "null"]), enum, const,
  properties, required, additionalProperties (boolean or schema),
  minProperties, items, minItems, minimum, maximum, minLength and maxLength
  (in code points), pattern (see below), format (date-time: loose RFC 3339;
  int64), $ref (to "#/..." inside the document, with sibling keywords),
  allOf, anyOf, oneOf.

Annotations (description, examples, default, ...) are ignored. Patterns are
Python `re` searches in ASCII mode, so `\\d` is [0-9] as in ECMA-262;
the document's patterns use nothing where the two dialects differ.
"""
import datetime
import json
import re

ASSERTIONS = {
    "type", "enum", "const", "properties", "required", "additionalProperties", "minProperties",
    "items", "minItems", "minimum", "maximum", "minLength", "maxLength", "pattern", "format",
    "$ref", "allOf", "anyOf", "oneOf",
}
ANNOTATIONS = {"description", "title", "examples", "example", "default", "deprecated", "readOnly",
               "writeOnly", "$comment"}
FORMATS = {"date-time", "int64"}
TYPES = {"null", "boolean", "object", "array", "number", "integer", "string"}

DATE_TIME = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)$", re.ASCII)


class SchemaError(Exception):
    """The schema itself uses something this validator does not support."""


def load(path):
    """The document at path; raises ValueError when it is not JSON."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def resolve(doc, ref):
    """The value a local reference ("#/components/...") points at."""
    if not isinstance(ref, str) or not ref.startswith("#/"):
        raise SchemaError(f"only local references are supported: {ref!r}")
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise SchemaError(f"unresolvable reference {ref!r}")
    return node


def deref(doc, obj):
    """An OpenAPI object with its $ref followed (siblings such as a
    description override are dropped), repeatedly."""
    seen = set()
    while isinstance(obj, dict) and "$ref" in obj:
        if obj["$ref"] in seen:
            raise SchemaError(f"reference cycle at {obj['$ref']!r}")
        seen.add(obj["$ref"])
        obj = resolve(doc, obj["$ref"])
    return obj


def type_of(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def has_type(value, name):
    t = type_of(value)
    if name == "number":
        return t in ("integer", "number")
    if name == "integer":
        return t == "integer" or (t == "number" and value == value and float(value).is_integer())
    return t == name


def json_equal(a, b):
    """Equality of JSON values: 1 == 1.0, but true != 1 and "1" != 1."""
    ta, tb = type_of(a), type_of(b)
    numeric = ("integer", "number")
    if ta in numeric and tb in numeric:
        return a == b
    if ta != tb:
        return False
    if ta == "array":
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if ta == "object":
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return a == b


def valid_date_time(s):
    m = DATE_TIME.match(s)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return hour <= 23 and minute <= 59 and second <= 60  # 60: a leap second


def validate(instance, schema, doc, path="$"):
    """The list of ways instance breaks schema (empty when valid). doc is
    the document $refs resolve in; path names the place in messages."""
    errors = []
    _validate(instance, schema, doc, path, errors)
    return errors


def is_valid(instance, schema, doc):
    return not validate(instance, schema, doc)


def _validate(v, schema, doc, path, errors):
    if schema is True:
        return
    if schema is False:
        errors.append(f"{path}: no value is allowed here")
        return
    if not isinstance(schema, dict):
        raise SchemaError(f"a schema must be an object or a boolean, not {schema!r}")
    unknown = set(schema) - ASSERTIONS - ANNOTATIONS
    if unknown:
        raise SchemaError(f"unsupported keywords {sorted(unknown)} in schema at {path}")

    if "$ref" in schema:
        _validate(v, resolve(doc, schema["$ref"]), doc, path, errors)

    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not names or any(n not in TYPES for n in names):
            raise SchemaError(f"bad type {schema['type']!r} at {path}")
        if not any(has_type(v, n) for n in names):
            errors.append(f"{path}: {type_of(v)} {_short(v)} is not of type {' or '.join(names)}")
            return  # the other keywords would only repeat the mismatch
    if "enum" in schema and not any(json_equal(v, e) for e in schema["enum"]):
        errors.append(f"{path}: {_short(v)} is not one of {schema['enum']!r}")
    if "const" in schema and not json_equal(v, schema["const"]):
        errors.append(f"{path}: {_short(v)} is not {schema['const']!r}")

    t = type_of(v)
    if t in ("integer", "number"):
        if "minimum" in schema and v < schema["minimum"]:
            errors.append(f"{path}: {v} is less than {schema['minimum']}")
        if "maximum" in schema and v > schema["maximum"]:
            errors.append(f"{path}: {v} is greater than {schema['maximum']}")
    if t == "string":
        n = len(v)  # code points: a Python str is a sequence of them
        if "minLength" in schema and n < schema["minLength"]:
            errors.append(f"{path}: {n} characters, fewer than {schema['minLength']}")
        if "maxLength" in schema and n > schema["maxLength"]:
            errors.append(f"{path}: {n} characters, more than {schema['maxLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], v, re.ASCII):
            errors.append(f"{path}: {_short(v)} does not match {schema['pattern']!r}")
    if "format" in schema:
        fmt = schema["format"]
        if fmt not in FORMATS:
            raise SchemaError(f"unsupported format {fmt!r} at {path}")
        if fmt == "date-time" and t == "string" and not valid_date_time(v):
            errors.append(f"{path}: {_short(v)} is not an RFC 3339 date-time")
        if fmt == "int64" and t in ("integer", "number") and not -2**63 <= v <= 2**63 - 1:
            errors.append(f"{path}: {v} does not fit in 64 bits")

    if t == "object":
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in v:
                errors.append(f"{path}: required property {name!r} is missing")
        for name, value in v.items():
            if name in props:
                _validate(value, props[name], doc, f"{path}.{name}", errors)
            elif "additionalProperties" in schema:
                _validate(value, schema["additionalProperties"], doc, f"{path}.{name}", errors)
        if "minProperties" in schema and len(v) < schema["minProperties"]:
            errors.append(f"{path}: {len(v)} properties, fewer than {schema['minProperties']}")
    if t == "array":
        if "items" in schema:
            for i, item in enumerate(v):
                _validate(item, schema["items"], doc, f"{path}[{i}]", errors)
        if "minItems" in schema and len(v) < schema["minItems"]:
            errors.append(f"{path}: {len(v)} items, fewer than {schema['minItems']}")

    for sub in schema.get("allOf", []):
        _validate(v, sub, doc, path, errors)
    if "anyOf" in schema:
        if not any(is_valid(v, sub, doc) for sub in schema["anyOf"]):
            errors.append(f"{path}: {_short(v)} matches none of anyOf")
    if "oneOf" in schema:
        matches = sum(1 for sub in schema["oneOf"] if is_valid(v, sub, doc))
        if matches != 1:
            errors.append(f"{path}: {_short(v)} matches {matches} of oneOf, not exactly one")


def _short(v):
    text = json.dumps(v, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def schemas_in(doc):
    """(where, schema) for every schema of an OpenAPI 3.1 document: the
    component schemas, parameter, header and media type schemas, and the
    subschemas of each."""
    found = []

    def walk_schema(where, s):
        found.append((where, s))
        if not isinstance(s, dict):
            return
        for key in ("items", "additionalProperties"):
            if isinstance(s.get(key), (dict, bool)):
                walk_schema(f"{where}/{key}", s[key])
        for name, sub in s.get("properties", {}).items():
            walk_schema(f"{where}/properties/{name}", sub)
        for key in ("allOf", "anyOf", "oneOf"):
            for i, sub in enumerate(s.get(key, [])):
                walk_schema(f"{where}/{key}/{i}", sub)

    def walk(where, node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "schema":
                    walk_schema(f"{where}/schema", value)
                elif where == "#/components" and key == "schemas":
                    for name, s in value.items():
                        walk_schema(f"#/components/schemas/{name}", s)
                else:
                    walk(f"{where}/{key}", value)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(f"{where}/{i}", value)

    walk("#", doc)
    return found


def references_in(node, where="#"):
    """(where, target) of every $ref in the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield where, value
            else:
                yield from references_in(value, f"{where}/{key.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from references_in(value, f"{where}/{i}")


METHODS = ("get", "head", "post", "put", "delete", "patch", "options", "trace")


def operations(doc):
    """(path template, method in upper case, operation) for every operation."""
    for template, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield template, method.upper(), item[method]


def template_regex(template):
    """A regex for the raw request paths of a path template: each {param}
    is one non-empty segment."""
    parts = re.split(r"(\{[^}/]+\})", template)
    return re.compile("^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts if p) + "$")


def match_template(doc, path):
    """The path template of doc that a raw request path (query stripped)
    matches, preferring one without parameters; None when none does."""
    path = path.split("?", 1)[0]
    candidates = [t for t in doc["paths"] if template_regex(t).match(path)]
    candidates.sort(key=lambda t: t.count("{"))
    return candidates[0] if candidates else None
