#!/usr/bin/env python3
"""Echo client for faultline's interop tests: Apache Thrift's own Python library
(thrift 0.25.0) calls `Echo.echo` (core/idl/echo.thrift) on a running `faultline serve`.

Only the `thrift` package touches the wire: TSocket, TFramedTransport / TBufferedTransport
with TBinaryProtocol (strict, or old non-strict: strictWrite=False) or TCompactProtocol,
or THeaderProtocol (THeaderTransport). The
echo_args / echo_result structs are written and read with the generic protocol API, as
generated code would.

Usage: echo_client.py HOST PORT TRANSPORT PROTOCOL METHOD MESSAGE
  TRANSPORT: framed | buffered | header
  PROTOCOL: binary | binary-nonstrict | compact  (binary-nonstrict: not with header)
Prints one JSON line: {"seqid": n, "message": "..."} for a reply, or
{"seqid": n, "exception": {"type": n, "message": "..."}} for a TApplicationException.
`echo_client.py --check` exits 0 when the thrift module is importable (prints its version).
"""

import json
import sys

try:
    from importlib.metadata import version

    from thrift.protocol.TBinaryProtocol import TBinaryProtocol
    from thrift.protocol.TCompactProtocol import TCompactProtocol
    from thrift.protocol.THeaderProtocol import THeaderProtocol
    from thrift.Thrift import TApplicationException, TMessageType, TType
    from thrift.transport.TSocket import TSocket
    from thrift.transport.TTransport import TBufferedTransport, TFramedTransport
    from thrift.transport.THeaderTransport import THeaderClientType, THeaderSubprotocolID
except ImportError as exc:  # pragma: no cover - reported to the Rust test
    if len(sys.argv) > 1 and sys.argv[1] == "--check":
        print("thrift not importable: %s" % exc)
        sys.exit(3)
    raise

SEQID = 7


def open_protocol(host, port, transport, protocol):
    sock = TSocket(host, int(port))
    if transport == "header":
        sub = {"binary": THeaderSubprotocolID.BINARY, "compact": THeaderSubprotocolID.COMPACT}
        proto = THeaderProtocol(sock, [THeaderClientType.HEADERS], sub[protocol])
        proto.trans.open()
        return proto
    wrap = {"framed": TFramedTransport, "buffered": TBufferedTransport}[transport]
    trans = wrap(sock)
    trans.open()
    if protocol == "binary-nonstrict":
        return TBinaryProtocol(trans, strictRead=False, strictWrite=False)
    return {"binary": TBinaryProtocol, "compact": TCompactProtocol}[protocol](trans)


def write_call(proto, method, message):
    proto.writeMessageBegin(method, TMessageType.CALL, SEQID)
    proto.writeStructBegin("echo_args")
    proto.writeFieldBegin("req", TType.STRUCT, 1)
    proto.writeStructBegin("Request")
    proto.writeFieldBegin("message", TType.STRING, 1)
    proto.writeString(message)
    proto.writeFieldEnd()
    proto.writeFieldStop()
    proto.writeStructEnd()
    proto.writeFieldEnd()
    proto.writeFieldStop()
    proto.writeStructEnd()
    proto.writeMessageEnd()
    proto.trans.flush()


def read_struct(proto, on_field):
    """Reads a struct, calling on_field(fid, ftype) for each field; it returns True when
    it consumed the value, else the value is skipped."""
    proto.readStructBegin()
    while True:
        _, ftype, fid = proto.readFieldBegin()
        if ftype == TType.STOP:
            break
        if not on_field(fid, ftype):
            proto.skip(ftype)
        proto.readFieldEnd()
    proto.readStructEnd()


def read_reply(proto):
    _, mtype, seqid = proto.readMessageBegin()
    if mtype == TMessageType.EXCEPTION:
        exc = TApplicationException()
        exc.read(proto)
        proto.readMessageEnd()
        return {"seqid": seqid, "exception": {"type": exc.type, "message": exc.message}}
    found = {}

    def response_field(fid, ftype):
        if fid == 1 and ftype == TType.STRING:
            found["message"] = proto.readString()
            return True
        return False

    def result_field(fid, ftype):
        if fid == 0 and ftype == TType.STRUCT:
            read_struct(proto, response_field)
            return True
        return False

    read_struct(proto, result_field)
    proto.readMessageEnd()
    return {"seqid": seqid, "message": found.get("message")}


def main():
    if sys.argv[1:] == ["--check"]:
        print(version("thrift"))
        return
    host, port, transport, protocol, method, message = sys.argv[1:]
    proto = open_protocol(host, port, transport, protocol)
    write_call(proto, method, message)
    print(json.dumps(read_reply(proto)))
    proto.trans.close()


if __name__ == "__main__":
    main()
