#!/usr/bin/env python3
"""Echo server for faultline's interop tests: Apache Thrift's own Python library
(thrift 0.25.0) serves `Echo.echo` (core/idl/echo.thrift) for `faultline call`.

Only the `thrift` package touches the wire: TServerSocket, TFramedTransport /
TBufferedTransport with TBinaryProtocol or TCompactProtocol, or THeaderProtocol. There is
no generated code: the processor reads echo_args and writes echo_result with the generic
protocol API, as generated code would; an unknown method gets a
TApplicationException(UNKNOWN_METHOD).

Usage: echo_server.py TRANSPORT PROTOCOL
  TRANSPORT: framed | buffered | header     PROTOCOL: binary | compact
Listens on 127.0.0.1 on a free port, prints `listening on 127.0.0.1:PORT`, and serves each
connection on its own thread until killed.
`echo_server.py --check` exits 0 when the thrift module is importable (prints its version).
"""

import sys
import threading

try:
    from importlib.metadata import version

    from thrift.protocol.TBinaryProtocol import TBinaryProtocol
    from thrift.protocol.TCompactProtocol import TCompactProtocol
    from thrift.protocol.THeaderProtocol import THeaderProtocol
    from thrift.Thrift import TApplicationException, TMessageType, TType
    from thrift.transport.THeaderTransport import THeaderClientType
    from thrift.transport.TSocket import TServerSocket
    from thrift.transport.TTransport import (
        TBufferedTransport,
        TFramedTransport,
        TTransportException,
    )
except ImportError as exc:  # pragma: no cover - reported to the Rust test
    if len(sys.argv) > 1 and sys.argv[1] == "--check":
        print("thrift not importable: %s" % exc)
        sys.exit(3)
    raise


def read_message(iprot):
    """Reads `echo_args { 1: Request req }`, `Request { 1: required string message }`."""
    message = None
    iprot.readStructBegin()
    while True:
        _, ftype, fid = iprot.readFieldBegin()
        if ftype == TType.STOP:
            break
        if fid == 1 and ftype == TType.STRUCT:
            iprot.readStructBegin()
            while True:
                _, rtype, rid = iprot.readFieldBegin()
                if rtype == TType.STOP:
                    break
                if rid == 1 and rtype == TType.STRING:
                    message = iprot.readString()
                else:
                    iprot.skip(rtype)
                iprot.readFieldEnd()
            iprot.readStructEnd()
        else:
            iprot.skip(ftype)
        iprot.readFieldEnd()
    iprot.readStructEnd()
    return message


def write_result(oprot, message):
    """Writes `echo_result { 0: optional Response success }`."""
    oprot.writeStructBegin("echo_result")
    oprot.writeFieldBegin("success", TType.STRUCT, 0)
    oprot.writeStructBegin("Response")
    oprot.writeFieldBegin("message", TType.STRING, 1)
    oprot.writeString(message)
    oprot.writeFieldEnd()
    oprot.writeFieldStop()
    oprot.writeStructEnd()
    oprot.writeFieldEnd()
    oprot.writeFieldStop()
    oprot.writeStructEnd()


def process(iprot, oprot):
    """Serves one request."""
    name, _, seqid = iprot.readMessageBegin()
    if name != "echo":
        iprot.skip(TType.STRUCT)
        iprot.readMessageEnd()
        exc = TApplicationException(TApplicationException.UNKNOWN_METHOD, "unknown method " + name)
        oprot.writeMessageBegin(name, TMessageType.EXCEPTION, seqid)
        exc.write(oprot)
    else:
        message = read_message(iprot)
        iprot.readMessageEnd()
        if message is None:
            exc = TApplicationException(TApplicationException.PROTOCOL_ERROR, "missing message")
            oprot.writeMessageBegin(name, TMessageType.EXCEPTION, seqid)
            exc.write(oprot)
        else:
            oprot.writeMessageBegin(name, TMessageType.REPLY, seqid)
            write_result(oprot, message)
    oprot.writeMessageEnd()
    oprot.trans.flush()


def protocol_for(client, transport, protocol):
    if transport == "header":
        return THeaderProtocol(client, [THeaderClientType.HEADERS])
    trans = {"framed": TFramedTransport, "buffered": TBufferedTransport}[transport](client)
    return {"binary": TBinaryProtocol, "compact": TCompactProtocol}[protocol](trans)


def serve_connection(client, transport, protocol):
    proto = protocol_for(client, transport, protocol)
    try:
        while True:
            process(proto, proto)
    except (TTransportException, EOFError):
        pass
    finally:
        client.close()


def main():
    if sys.argv[1:] == ["--check"]:
        print(version("thrift"))
        return
    transport, protocol = sys.argv[1], sys.argv[2]
    server = TServerSocket(host="127.0.0.1", port=0)
    server.listen()
    port = server.handle.getsockname()[1]
    print("listening on 127.0.0.1:%d" % port, flush=True)
    while True:
        client = server.accept()
        threading.Thread(
            target=serve_connection, args=(client, transport, protocol), daemon=True
        ).start()


if __name__ == "__main__":
    main()
