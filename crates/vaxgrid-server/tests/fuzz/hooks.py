"""Schemathesis hooks for the vaxgrid fuzz test (tests/fuzz.rs).

HL7 v2 messages are text: send generated bodies for the API's HL7 media
type as plain text, so /hl7/v2 is fuzzed like every other operation.
"""
import schemathesis

schemathesis.serializer.alias("x-application/hl7-v2+er7", "text/plain")

# Hypothesis names each filter for its repr by parsing the source of the
# module that holds the lambda; on schemathesis's largest module CPython
# 3.11 sometimes fails that parse ("AST constructor recursion depth
# mismatch") and the whole operation's run ends in an error, though no
# request was wrong. The name only serves messages: fall back to a plain one.
import hypothesis.internal.reflection as _reflection
import hypothesis.strategies._internal.lazy as _lazy

_describe = _reflection.get_pretty_function_description


def _safe_description(fn):
    try:
        return _describe(fn)
    except Exception:
        return getattr(fn, "__name__", "<function>")


_reflection.get_pretty_function_description = _safe_description
_lazy.get_pretty_function_description = _safe_description
