#!/usr/bin/env python3
"""Regenerates faultline's committed Python interop vectors.

Reads ../vectors/cases.json and, for each case, has Apache Thrift's Python library
(thrift 0.25.0, through peer.py) encode it in every listed protocol, writing
../vectors/<name>.<protocol>.hex (one line of lower-case hex). When a case lists
"transports" ("framed", "header"), those frames go to
../vectors/<name>.<protocol>.<transport>.hex; THeader ones carry the case's "headers"
([[key_hex, value_hex], ...]) and "flags", and are not written for binary-nonstrict.

The Rust test `committed_python_vectors_*` in core/tests/interop_python.rs checks these
files with and without Python. Run: python3 regen.py  (needs pip install thrift==0.25.0)
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "vectors")
sys.path.insert(0, HERE)

sys.dont_write_bytecode = True
import peer  # noqa: E402  (after the path is set)


def encode(request):
    response = peer.handle(request)
    if not response["ok"]:
        raise SystemExit("peer failed on %s: %s" % (request, response["error"]))
    return response["hex"]


def main():
    with open(os.path.join(VECTORS, "cases.json"), encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    written = []
    for case in cases:
        top = {"message": case["message"]} if "message" in case else {"struct": case["struct"]}
        for proto in case["protocols"]:
            variants = [("none", "%s.%s.hex" % (case["name"], proto))]
            for transport in case.get("transports", []):
                if transport == "header" and proto == "binary-nonstrict":
                    continue  # THeader announces binary or compact, never the old header
                variants.append((transport, "%s.%s.%s.hex" % (case["name"], proto, transport)))
            for transport, file_name in variants:
                request = dict(top, op="encode", proto=proto, transport=transport)
                if transport == "header":
                    request["headers"] = case.get("headers", [])
                    request["flags"] = case.get("flags", 0)
                with open(os.path.join(VECTORS, file_name), "w") as out:
                    out.write(encode(request) + "\n")
                written.append(file_name)
    print("wrote %d vectors to %s" % (len(written), os.path.normpath(VECTORS)))


if __name__ == "__main__":
    main()
