// Media-independent interface registers of an Ethernet PHY (SIOCGMIIPHY/SIOCGMIIREG, what mii-tool reads): an
// ioctl on a socket with a struct ifreq holding a struct mii_ioctl_data, which Swift cannot build.
#ifndef CNODESHIM_MII_H
#define CNODESHIM_MII_H

/// Reads PHY register `reg` (0-31) of interface `name` through socket `fd`. Returns the 16-bit value, or -1 with
/// errno set (EOPNOTSUPP: the driver has no MII access; ENODEV: no such interface).
int nodeinit_mii_read(int fd, const char *name, int reg);

#endif
