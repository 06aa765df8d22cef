"""nodeinit system-test harness: loopback NFS server, test images, QEMU runner."""
