// Sockets and rtnetlink take NetworkAddresses values; re-exported so that callers need no second import.
@_exported import NetworkAddresses
