//! Transports that carry Thrift messages: Buffered, Framed, Kitex TTHeader (also with a
//! framed payload), Apache THeader, and transport detection from a frame's first bytes.
