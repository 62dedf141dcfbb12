"""Request body parsers with a bound on nesting.

A JSON body nested a thousand levels deep is only about 4 KB, yet walking
it (the decoder, then validation and error reporting, all recursive)
exhausted Python's recursion limit: ``RecursionError``, a 500. Nothing the
API accepts nests deeper than three levels (a proposal's ``proponents``
list of objects), so bodies deeper than ``MAX_BODY_DEPTH`` are refused with
a 400 before any code walks them.

Form and multipart bodies are flat key/value pairs (Django's ``QueryDict``);
a key that spells nesting (``a[0][0]…``) is just an unknown field name, so
they need no bound of their own.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

#: How deep a JSON body may nest: an object or array counts one level.
MAX_BODY_DEPTH = 32


def json_depth_exceeds(data, limit: int) -> bool:
    """Whether ``data`` (parsed JSON) nests more than ``limit`` containers
    deep. Iterative, so it cannot itself run out of stack."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; a body nested deeper than ``MAX_BODY_DEPTH``
    levels is a 400 (``ParseError``), never a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = f"JSON parse error - the body nests deeper than {MAX_BODY_DEPTH} levels."
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            # The decoder itself ran out of stack (thousands of levels).
            raise ParseError(too_deep) from None
        if json_depth_exceeds(data, MAX_BODY_DEPTH):
            raise ParseError(too_deep)
        if has_lone_surrogate(data):
            raise ParseError(
                "JSON parse error - a string holds a lone surrogate escape (e.g. \\ud800), which is not "
                "Unicode text (RFC 8259 §8.2)."
            )
        return data


def has_lone_surrogate(data) -> bool:
    """Whether any string (key or value) in parsed JSON holds a code point
    in U+D800–U+DFFF. Python's decoder accepts a lone ``\\ud800`` escape, but such a
    string cannot be encoded as UTF-8: echoed back in an error message it
    made the response itself fail (a 500). Iterative, like the depth check."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if any("\ud800" <= ch <= "\udfff" for ch in value):
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False
