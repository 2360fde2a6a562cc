"""Schemathesis hooks for the vaxgrid fuzz test (tests/fuzz.rs).

HL7 v2 messages are text: send generated bodies for the API's HL7 media
type as plain text, so /hl7/v2 is fuzzed like every other operation.
"""
import os

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


# The run's own token's id (set by tests/fuzz.rs). An administrator may
# revoke any token, the one it signs in with included (the server refuses
# only disabling one's own account or taking back one's own role that
# manages users, and those refusals stay fuzzed), and schemathesis picks
# path values from earlier answers: after that every answer is a 401 that
# says nothing about the operation asked. A request aimed at the run's own token is sent for an
# unknown one instead: the operation is still called and checked.
_OWN_TOKEN = os.environ.get("VAXGRID_FUZZ_TOKEN_ID")


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    params = case.path_parameters
    if not params or not _OWN_TOKEN:
        return
    for key, value in params.items():
        if value == _OWN_TOKEN:
            params[key] = "not-the-fuzzer"
