#include "CNodeShimMII.h"
#include <errno.h>
#include <linux/mii.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>

int nodeinit_mii_read(int fd, const char *name, int reg) {
  struct ifreq request;
  memset(&request, 0, sizeof request);
  size_t length = strlen(name);
  if (length == 0 || length >= IFNAMSIZ) {
    errno = EINVAL;
    return -1;
  }
  memcpy(request.ifr_name, name, length);
  // SIOCGMIIPHY fills in the PHY's address; SIOCGMIIREG reads from the same structure.
  if (ioctl(fd, SIOCGMIIPHY, &request) == -1) return -1;
  struct mii_ioctl_data *mii = (struct mii_ioctl_data *)&request.ifr_data;
  mii->reg_num = (unsigned short)(reg & 0x1f);
  if (ioctl(fd, SIOCGMIIREG, &request) == -1) return -1;
  return mii->val_out;
}
