"""Schemathesis hooks for the vaxgrid fuzz test (tests/fuzz.rs).

HL7 v2 messages are text: send generated bodies for the API's HL7 media
type as plain text, so /hl7/v2 is fuzzed like every other operation.
"""
import schemathesis

schemathesis.serializer.alias("x-application/hl7-v2+er7", "text/plain")
