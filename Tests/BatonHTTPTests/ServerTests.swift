import Testing

/// Every test that starts a real server; serialized so that timing bounds and connection
/// counts are not disturbed by other server tests.
@Suite(.serialized) struct ServerTests {}
