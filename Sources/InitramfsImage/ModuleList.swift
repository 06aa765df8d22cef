/// The kernel modules the nodeinit initramfs carries. `defaultText` is the list compiled into `nodeinit`, so a
/// WalT image that has only the static binary builds the same initramfs as `make initramfs`; the format (one or
/// more names a line, `#` starts a comment) is also what `nodeinit initramfs --modules-list FILE` reads, and
/// `--print-modules-list` prints this text as a starting point for a site's own list.
public enum ModuleList {
    /// The names in a list text, in order.
    public static func names(parsing text: String) -> [String] {
        var names: [String] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            names += content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
        }
        return names
    }

    public static let defaultText = """
        # Kernel modules the nodeinit initramfs carries (one name per line; '#' starts a comment).
        # Their dependencies (modules.dep) and pre-soft-dependencies (modules.softdep) are added
        # automatically. Names built into the kernel (modules.builtin) or absent from it are skipped
        # with a note, so the list works for kernels configured differently from Debian's.

        # NFS root (v3 and v4.x; sunrpc, lockd, grace, nfs_acl, dns_resolver... come from modules.dep)
        nfs
        nfsv3
        nfsv4

        # Overlay on top of the NFS lower, loop files, local file systems
        overlay
        loop
        squashfs
        ext4
        xfs
        crc32c_generic
        crc32c_intel

        # Packet sockets (for DHCP on kernels that build them as modules)
        af_packet

        # Bonds, VLANs and bridges (dracut bond=, vlan=, bridge=; loaded only when the command line asks)
        bonding
        8021q
        bridge

        # Storage controllers and disks
        virtio_pci
        virtio_blk
        virtio_scsi
        ahci
        ata_piix
        nvme
        sd_mod
        sr_mod

        # Network drivers: virtual machines
        virtio_net
        e1000
        vmxnet3
        # Network drivers: common server NICs
        e1000e
        igb
        igc
        ixgbe
        i40e
        ice
        tg3
        bnx2
        bnx2x
        bnxt_en
        be2net
        r8169
        mlx4_en
        mlx5_core

        """
}
