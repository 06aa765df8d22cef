// Plans carry addresses as NetworkAddresses values; re-exported so that a reader of a BootPlan needs one import.
@_exported import NetworkAddresses
