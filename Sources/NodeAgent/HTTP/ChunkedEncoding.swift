/// Chunked transfer coding (RFC 9112 §7.1): framing on the sending side.
public enum ChunkedEncoding {
    /// "<hex size>\r\n": the line before a chunk's data.
    public static func chunkPrefix(size: Int) -> [UInt8] {
        Array((String(size, radix: 16) + "\r\n").utf8)
    }

    public static let chunkSuffix: [UInt8] = [13, 10]

    /// The last chunk, trailer fields, and the final empty line.
    public static func lastChunk(trailers: HTTPHeaders) -> [UInt8] {
        var text = "0\r\n"
        for (name, value) in trailers.fields { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }
}
