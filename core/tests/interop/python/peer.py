#!/usr/bin/env python3
"""Interop peer for faultline's tests: Apache Thrift's own Python library (thrift 0.25.0)
encodes and decodes values with its generic protocol API, so faultline is checked against
an implementation nobody here wrote.

Only the `thrift` package is used for anything on the wire: TBinaryProtocol (strict and
non-strict), TCompactProtocol, TFramedTransport, THeaderTransport/THeaderProtocol and
TMemoryBuffer. This script only translates between JSON and those calls.

Usage: peer.py < requests.json > responses.json
  stdin:  a JSON list of requests; stdout: a JSON list of responses, same order.
  `peer.py --check` exits 0 when the thrift module is importable (prints its version).

Typed values (one-key objects):
  {"bool": true} {"byte": -1} {"i16": 1} {"i32": 1} {"i64": 1}
  {"double": "<16 hex digits: big-endian IEEE-754 bits>"}   (exact NaN/-0.0/inf)
  {"string": "text"}   written with writeString, read with readString (UTF-8)
  {"binary": "<hex>"}  written with writeBinary, read with readBinary
  {"uuid": "<32 hex digits>"}
  {"struct": [[id, value], ...]}                            (fields in wire order)
  {"list": {"elem": T, "items": [...]}}  {"set": {"elem": T, "items": [...]}}
  {"map": {"key": T, "value": T, "entries": [[k, v], ...]}}
  T is a type name: bool byte i16 i32 i64 double binary uuid struct map set list
  (a decoder reports "stop"/"void" for type ids 0/1, e.g. an empty Compact map's types).
A message: {"name": str, "type": 1..4, "seqid": i32, "body": {"struct": [...]}}.

Requests:
  {"op": "encode", "proto": P, "transport": X, "message": M}   or "struct": V instead of M
     P: "binary" (strict write), "binary-nonstrict" (strictWrite=False), "compact"
     X: "none" (TMemoryBuffer), "framed" (TFramedTransport), "header" (THeaderTransport,
        sub-protocol from P; "headers": [[key_hex, value_hex], ...] set with set_header
        in that order, "flags": n sets the transport's flags, "zlib": true adds the
        zlib transform)
     -> {"ok": true, "hex": "..."}
  {"op": "decode", "proto": P, "transport": X, "kind": "message"|"struct", "hex": "...",
   "expect": optional typed value or message, used only to choose readString over
   readBinary where the expected value is a {"string": ...}}
     X may also be "detect": THeaderTransport allowing every client type, so Python's
     own transport detection decides what the bytes are.
     -> {"ok": true, "message"|"struct": ..., "trailing": bytes left unread,
         and for header/detect: "client_type" (THeaderClientType), "protocol_id",
         "headers" ([[key_hex, value_hex], ...] in the order read), "seq_id", "flags",
         and for framed/header/detect "frame_trailing": frame bytes left unread}
  {"op": "skip", "proto": P, "kind": "message"|"struct", "hex": "..."}
     TProtocol.skip over the whole input -> {"ok": true, "trailing": n}
Any failure -> {"ok": false, "error": "<exception type>: <message>"}.
"""

import json
import struct
import sys
import uuid

try:
    import thrift
    from thrift.Thrift import TType
    from thrift.protocol.TBinaryProtocol import TBinaryProtocol
    from thrift.protocol.TCompactProtocol import TCompactProtocol
    from thrift.protocol.THeaderProtocol import THeaderProtocol
    from thrift.transport.TTransport import TFramedTransport, TMemoryBuffer
    from thrift.transport.THeaderTransport import (
        THeaderClientType,
        THeaderSubprotocolID,
        THeaderTransformID,
        THeaderTransport,
    )
except ImportError as exc:  # pragma: no cover - reported to the Rust test
    if len(sys.argv) > 1 and sys.argv[1] == "--check":
        print("thrift not importable: %s" % exc)
        sys.exit(3)
    raise

TYPE_IDS = {
    "stop": TType.STOP,
    "void": TType.VOID,
    "bool": TType.BOOL,
    "byte": TType.BYTE,
    "double": TType.DOUBLE,
    "i16": TType.I16,
    "i32": TType.I32,
    "i64": TType.I64,
    "binary": TType.STRING,
    "string": TType.STRING,
    "struct": TType.STRUCT,
    "map": TType.MAP,
    "set": TType.SET,
    "list": TType.LIST,
    "uuid": TType.UUID,
}
TYPE_NAMES = {v: k for k, v in TYPE_IDS.items() if k != "string"}


def tag(value):
    (key,) = value.keys()
    return key, value[key]


def ttype_of(value):
    return TYPE_IDS[tag(value)[0]]


# ---------------------------------------------------------------------------- writing

def write_value(p, value):
    kind, v = tag(value)
    if kind == "bool":
        p.writeBool(v)
    elif kind == "byte":
        p.writeByte(v)
    elif kind == "i16":
        p.writeI16(v)
    elif kind == "i32":
        p.writeI32(v)
    elif kind == "i64":
        p.writeI64(v)
    elif kind == "double":
        p.writeDouble(struct.unpack(">d", bytes.fromhex(v))[0])
    elif kind == "string":
        p.writeString(v)
    elif kind == "binary":
        p.writeBinary(bytes.fromhex(v))
    elif kind == "uuid":
        p.writeUuid(uuid.UUID(bytes=bytes.fromhex(v)))
    elif kind == "struct":
        write_struct(p, v)
    elif kind in ("list", "set"):
        begin, end = (p.writeListBegin, p.writeListEnd) if kind == "list" else (
            p.writeSetBegin, p.writeSetEnd)
        begin(TYPE_IDS[v["elem"]], len(v["items"]))
        for item in v["items"]:
            write_value(p, item)
        end()
    elif kind == "map":
        p.writeMapBegin(TYPE_IDS[v["key"]], TYPE_IDS[v["value"]], len(v["entries"]))
        for k, val in v["entries"]:
            write_value(p, k)
            write_value(p, val)
        p.writeMapEnd()
    else:
        raise ValueError("unknown value kind %r" % kind)


def write_struct(p, fields):
    p.writeStructBegin("S")
    for fid, value in fields:
        p.writeFieldBegin("f%d" % fid, ttype_of(value), fid)
        write_value(p, value)
        p.writeFieldEnd()
    p.writeFieldStop()
    p.writeStructEnd()


def write_top(p, req):
    if "message" in req:
        m = req["message"]
        p.writeMessageBegin(m["name"], m["type"], m["seqid"])
        write_value(p, m["body"])
        p.writeMessageEnd()
    else:
        write_value(p, req["struct"])


def plain_protocol(proto, trans):
    if proto == "binary":
        return TBinaryProtocol(trans, strictRead=True, strictWrite=True)
    if proto == "binary-nonstrict":
        return TBinaryProtocol(trans, strictRead=False, strictWrite=False)
    if proto == "compact":
        return TCompactProtocol(trans)
    raise ValueError("unknown protocol %r" % proto)


def header_subprotocol(proto):
    if proto == "binary":
        return THeaderSubprotocolID.BINARY
    if proto == "compact":
        return THeaderSubprotocolID.COMPACT
    raise ValueError("THeader carries only binary or compact, not %r" % proto)


def encode(req):
    out = TMemoryBuffer()
    transport = req.get("transport", "none")
    if transport == "none":
        write_top(plain_protocol(req["proto"], out), req)
    elif transport == "framed":
        framed = TFramedTransport(out)
        write_top(plain_protocol(req["proto"], framed), req)
        framed.flush()
    elif transport == "header":
        trans = THeaderTransport(out, (THeaderClientType.HEADERS,),
                                 header_subprotocol(req["proto"]))
        trans.flags = req.get("flags", 0)
        p = THeaderProtocol(trans, (THeaderClientType.HEADERS,),
                            header_subprotocol(req["proto"]))
        for k, v in req.get("headers", []):
            p.set_header(bytes.fromhex(k), bytes.fromhex(v))
        if req.get("zlib"):
            p.add_transform(THeaderTransformID.ZLIB)
        write_top(p, req)
        trans.flush()
    else:
        raise ValueError("unknown transport %r" % transport)
    return {"ok": True, "hex": out.getvalue().hex()}


# ---------------------------------------------------------------------------- reading

def hint_at(hint, kind, index):
    """The expected value at position `index` of container `hint`, if it has one."""
    if hint is None:
        return None
    hkind, hv = tag(hint)
    if hkind != kind:
        return None
    try:
        if kind == "struct":
            return hv[index][1]
        if kind in ("list", "set"):
            return hv["items"][index]
        if kind == "map":
            return hv["entries"][index[0]][index[1]]
    except (IndexError, KeyError, TypeError):
        return None
    return None


def read_value(p, ttype, hint=None):
    if ttype == TType.BOOL:
        return {"bool": p.readBool()}
    if ttype == TType.BYTE:
        return {"byte": p.readByte()}
    if ttype == TType.I16:
        return {"i16": p.readI16()}
    if ttype == TType.I32:
        return {"i32": p.readI32()}
    if ttype == TType.I64:
        return {"i64": p.readI64()}
    if ttype == TType.DOUBLE:
        return {"double": struct.pack(">d", p.readDouble()).hex()}
    if ttype == TType.STRING:
        if hint is not None and tag(hint)[0] == "string":
            return {"string": p.readString()}
        return {"binary": p.readBinary().hex()}
    if ttype == TType.UUID:
        return {"uuid": p.readUuid().bytes.hex()}
    if ttype == TType.STRUCT:
        return {"struct": read_struct(p, hint)}
    if ttype in (TType.LIST, TType.SET):
        kind = "list" if ttype == TType.LIST else "set"
        begin, end = (p.readListBegin, p.readListEnd) if kind == "list" else (
            p.readSetBegin, p.readSetEnd)
        etype, size = begin()
        items = [read_value(p, etype, hint_at(hint, kind, i)) for i in range(size)]
        end()
        return {kind: {"elem": TYPE_NAMES[etype], "items": items}}
    if ttype == TType.MAP:
        ktype, vtype, size = p.readMapBegin()
        entries = []
        for i in range(size):
            k = read_value(p, ktype, hint_at(hint, "map", (i, 0)))
            v = read_value(p, vtype, hint_at(hint, "map", (i, 1)))
            entries.append([k, v])
        p.readMapEnd()
        return {"map": {"key": TYPE_NAMES[ktype], "value": TYPE_NAMES[vtype],
                        "entries": entries}}
    raise ValueError("cannot read a value of type id %r" % ttype)


def read_struct(p, hint=None):
    p.readStructBegin()
    fields = []
    while True:
        _, ttype, fid = p.readFieldBegin()
        if ttype == TType.STOP:
            break
        fields.append([fid, read_value(p, ttype, hint_at(hint, "struct", len(fields)))])
        p.readFieldEnd()
    p.readStructEnd()
    return fields


def read_top(p, req, result):
    expect = req.get("expect")
    if req.get("kind", "message") == "message":
        name, mtype, seqid = p.readMessageBegin()
        body = read_value(p, TType.STRUCT, expect["body"] if expect else None)
        p.readMessageEnd()
        result["message"] = {"name": name, "type": mtype, "seqid": seqid, "body": body}
    else:
        result["struct"] = read_value(p, TType.STRUCT, expect)


def trailing(buf):
    return len(buf.getvalue()) - buf._buffer.tell()


def decode(req):
    data = bytes.fromhex(req["hex"])
    src = TMemoryBuffer(data)
    transport = req.get("transport", "none")
    result = {"ok": True}
    if transport == "none":
        read_top(plain_protocol(req["proto"], src), req, result)
    elif transport == "framed":
        framed = TFramedTransport(src)
        p = plain_protocol(req["proto"], framed)
        read_top(p, req, result)
        result["frame_trailing"] = len(framed.cstringio_buf.read())
    elif transport in ("header", "detect"):
        allowed = (THeaderClientType.HEADERS,) if transport == "header" else (
            THeaderClientType.HEADERS,
            THeaderClientType.FRAMED_BINARY,
            THeaderClientType.UNFRAMED_BINARY,
            THeaderClientType.FRAMED_COMPACT,
            THeaderClientType.UNFRAMED_COMPACT,
        )
        trans = THeaderTransport(src, allowed)
        p = THeaderProtocol(trans, allowed)
        read_top(p, req, result)
        result["client_type"] = trans._client_type
        result["protocol_id"] = trans.protocol_id
        result["headers"] = [[k.hex(), v.hex()] for k, v in trans.get_headers().items()]
        result["seq_id"] = trans.sequence_id
        result["flags"] = trans.flags
        result["frame_trailing"] = len(trans.cstringio_buf.read())
    else:
        raise ValueError("unknown transport %r" % transport)
    result["trailing"] = trailing(src)
    return result


def skip(req):
    src = TMemoryBuffer(bytes.fromhex(req["hex"]))
    p = plain_protocol(req["proto"], src)
    if req.get("kind", "message") == "message":
        p.readMessageBegin()
        p.skip(TType.STRUCT)
        p.readMessageEnd()
    else:
        p.skip(TType.STRUCT)
    return {"ok": True, "trailing": trailing(src)}


def handle(req):
    try:
        op = req["op"]
        if op == "encode":
            return encode(req)
        if op == "decode":
            return decode(req)
        if op == "skip":
            return skip(req)
        raise ValueError("unknown op %r" % op)
    except Exception as exc:  # every failure is data for the Rust side
        return {"ok": False, "error": "%s: %s" % (type(exc).__name__, exc)}


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--check":
        from importlib import metadata
        try:
            print(metadata.version("thrift"))
        except metadata.PackageNotFoundError:
            print("unknown")
        return
    requests = json.load(sys.stdin)
    json.dump([handle(r) for r in requests], sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
