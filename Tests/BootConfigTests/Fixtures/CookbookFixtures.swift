// The litefile samples from the xCAT Statelite Cookbook (seed 004, sections "Sample Data for RedHat" and
// "Sample Data for SLES11"), verbatim including the blank lines and the SLES rows' ", , , ," spacing.
enum CookbookFixtures {
    static let redhatLitefile = """
        #image,file,options,comments,disable
        "ALL", "/etc/adjtime",,,,
        "ALL", "/etc/fstab",,,,
        "ALL", "/etc/inittab",,,,
        "ALL", "/etc/lvm/.cache",,,,

        "ALL", "/etc/mtab",,,,
        "ALL", "/etc/ntp.conf",,,,
        "ALL", "/etc/ntp.conf.predhclient",,,,
        "ALL", "/etc/resolv.conf",,,,
        "ALL", "/etc/resolv.conf.predhclient",,,,
        "ALL", "/etc/ssh/",,,,
        "ALL", "/tmp/",,,,
        "ALL", "/var/account/",,,,
        "ALL", "/var/arpwatch",,,,
        "ALL", "/var/cache/alchemist",,,,
        "ALL", "/var/cache/foomatic/",,,,
        "ALL", "/var/cache/logwatch/",,,,
        "ALL", "/var/cache/man/",,,,
        "ALL", "/var/cache/mod_ssl/",,,,
        "ALL", "/var/cache/mod_proxy/",,,,
        "ALL", "/var/cache/php-pear/",,,,
        "ALL", "/var/cache/systemtap/",,,,
        "ALL", "/var/empty/",,,,
        "ALL", "/var/db/nsd/",,,,
        "ALL", "/var/gdm/",,,,
        "ALL", "/var/lib/dav/",,,,
        "ALL", "/var/lib/dhcp/",,,,
        "ALL", "/var/lib/dhclient/",,,,
        "ALL", "/var/lib/php/",,,,
        "ALL", "/var/lib/scsi/",,,,
        "ALL", "/var/lib/ups/",,,,
        "ALL", "/var/lib/random-seed",,,,
        "ALL", "/var/lib/iscsi",,,,
        "ALL", "/var/lib/logrotate.status",,,,
        "ALL", "/var/lib/ntp/",,,,
        "ALL", "/var/lib/xen/ntp",,,,
        "ALL", "/var/lock/",,,,
        "ALL", "/var/log/",,,,
        "ALL", "/var/run/",,,,
        "ALL", "/var/tmp/",,,,
        "ALL", "/var/tux/",,,,
        "ALL", "/opt/xcat/",,,,
        "ALL", "/xcatpost/",,,,

        """

    static let slesLitefile = """

        #image,file,options,comments,disable
        "ALL", "/etc/inittab",,,,
        "ALL", "/etc/lvm/.cache",,,,
        "ALL", "/etc/mtab",,,,
        "ALL", "/etc/ntp.conf",,,,
        "ALL", "/etc/resolv.conf",,,,
        "ALL", "/etc/ssh/",,,,
        "ALL", "/etc/sysconfig/",,,,
        "ALL", "/etc/syslog-ng/",,,,
        "ALL", "/tmp/",,,,
        "ALL", "/var/tmp/",,,,
        "ALL", "/var/run/",,,,
        "ALL", "/etc/yp.conf",,,,
        "ALL", "/var/lib/",,,,
        "ALL", "/var/empty/",,,,

        "ALL", "/var/spool/", , , ,
        "ALL", "/var/lock/", , , ,
        "ALL", "/var/log/", , , ,
        "ALL", "/var/cache/", , , ,
        "ALL", "/etc/fstab", , , ,
        "ALL", "/var/adm/", , , ,
        "ALL", "/root/.viminfo", , , ,
        "ALL", "/root/.bash_history", , , ,
        "ALL", "/opt/xcat/", , , ,
        "ALL", "/xcatpost/", , , ,
        """

    /// The cookbook's PXE `APPEND` line for x86_64 (section 2.13), joined from its wrapped lines.
    static let pxeAppendX86 =
        "initrd=xcat/netboot/centos5.3/x86_64/all/initrd.gz NFSROOT=172.10.0.1:/install/netboot/centos5.3/x86_64/all "
        + "STATEMNT=cnfs:/gpfs/state XCAT=172.10.0.1:3001 console=tty0 console=ttyS0,115200n8r"

    /// The cookbook's yaboot `append=` value for POWER (section 2.13), the wrapped path joined.
    static let yabootAppendPOWER =
        "NFSROOT=192.168.11.108:/install/netboot/sles11/ppc64/compute STATEMNT= XCAT=192.168.11.108:3001 "

    /// The cookbook's litetree example (section 2.3), as tabdump would write it.
    static let litetree = """
        #priority,image,directory,mntopts,comments,disable
        "1",,"$noderes.nfsserver:/statelite/$node",,,
        "2",,"cnfs:/gpfs/dallas/",,,
        """

    /// The cookbook's statelite example (section 2.4), with a node row added for `jfe01`.
    static let statelite = """
        #node,image,statemnt,mntopts,comments,disable
        "japan",,"cnfs:/gpfs/state",,,
        "jfe01",,"$noderes.nfsserver:/lite/state","nolock,vers=3",,
        """
}
