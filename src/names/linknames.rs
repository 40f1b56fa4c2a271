//! The names ss gives to the protocols of packet and netlink sockets: ethertypes (`ip`, `ipv6`,
//! `arp`, ... from `include/uapi/linux/if_ether.h`, spelled as iproute2 spells them) and netlink
//! protocols (`rtnl`, `genl`, ... from `/etc/iproute2/nl_protos`, or the same built-in list when
//! that file is missing). Used both ways: numbers to names in the table, names to numbers in a
//! filter.

/// `ETH_P_ALL`: a packet socket that receives every protocol. ss shows it as `*`.
pub const ETH_P_ALL: u16 = 0x0003;

/// Ethertypes by name, in the order ss looks them up.
const ETHERTYPES: &[(u16, &str)] = &[
    (0x0001, "802_3"),
    (0x0002, "ax25"),
    (0x0003, "*"),
    (0x0004, "802_2"),
    (0x0005, "snap"),
    (0x0006, "ddcmp"),
    (0x0007, "wan_ppp"),
    (0x0008, "ppp_mp"),
    (0x0009, "localtalk"),
    (0x000c, "can"),
    (0x0010, "ppptalk"),
    (0x0011, "tr_802_2"),
    (0x0015, "mobitex"),
    (0x0016, "control"),
    (0x0017, "irda"),
    (0x0018, "econet"),
    (0x0060, "loop"),
    (0x0200, "pup"),
    (0x0201, "pupat"),
    (0x0800, "ip"),
    (0x0805, "x25"),
    (0x0806, "arp"),
    (0x0a00, "ieeepup"),
    (0x0a01, "ieeepupat"),
    (0x6000, "dec"),
    (0x6001, "dna_dl"),
    (0x6002, "dna_rc"),
    (0x6003, "dna_rt"),
    (0x6004, "lat"),
    (0x6005, "diag"),
    (0x6006, "cust"),
    (0x6007, "sca"),
    (0x6558, "teb"),
    (0x8035, "rarp"),
    (0x809b, "atalk"),
    (0x80f3, "aarp"),
    (0x8100, "802.1Q"),
    (0x8137, "ipx"),
    (0x86dd, "ipv6"),
    (0x8847, "mpls_uc"),
    (0x8848, "mpls_mc"),
    (0x884c, "atmmpoa"),
    (0x8863, "ppp_disc"),
    (0x8864, "ppp_ses"),
    (0x8884, "atmfate"),
    (0x8892, "profinet"),
    (0x88a2, "aoe"),
    (0x88a4, "ethercat"),
    (0x88a8, "802.1ad"),
    (0x88ca, "tipc"),
    (0x88cc, "LLDP"),
];

/// The name of an ethertype, if it has one.
pub fn ethertype_name(protocol: u16) -> Option<&'static str> {
    ETHERTYPES
        .iter()
        .find(|&&(number, _)| number == protocol)
        .map(|&(_, name)| name)
}

/// An ethertype from its name, case-insensitively; `ipv4` and `all` are accepted too, as ss
/// accepts them.
pub fn ethertype_number(name: &str) -> Option<u16> {
    let aliases = [(0x0800, "ipv4"), (ETH_P_ALL, "all")];
    ETHERTYPES
        .iter()
        .chain(&aliases)
        .find(|&&(_, known)| known.eq_ignore_ascii_case(name))
        .map(|&(number, _)| number)
}

/// Netlink protocol names as iproute2 installs them in `/etc/iproute2/nl_protos`.
const NETLINK_PROTOCOLS: &[(u8, &str)] = &[
    (0, "rtnl"),
    (1, "unused"),
    (2, "usersock"),
    (3, "fw"),
    (4, "tcpdiag"),
    (5, "nflog"),
    (6, "xfrm"),
    (7, "selinux"),
    (8, "iscsi"),
    (9, "audit"),
    (10, "fiblookup"),
    (11, "connector"),
    (12, "nft"),
    (13, "ip6fw"),
    (14, "dec-rt"),
    (15, "uevent"),
    (16, "genl"),
    (18, "scsi-trans"),
    (19, "ecryptfs"),
    (20, "rdma"),
    (21, "crypto"),
];

const NL_PROTOS: &str = "/etc/iproute2/nl_protos";

/// The netlink protocol names, from `/etc/iproute2/nl_protos` (where an administrator may have
/// added some) or, without it, the list iproute2 ships.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetlinkProtocols {
    names: Vec<(u8, Box<str>)>,
}

impl NetlinkProtocols {
    pub fn load() -> NetlinkProtocols {
        match std::fs::read_to_string(NL_PROTOS) {
            Ok(text) => NetlinkProtocols::parse(&text),
            Err(_) => NetlinkProtocols::builtin(),
        }
    }

    pub fn builtin() -> NetlinkProtocols {
        NetlinkProtocols {
            names: NETLINK_PROTOCOLS
                .iter()
                .map(|&(number, name)| (number, name.into()))
                .collect(),
        }
    }

    /// `NUMBER NAME` lines; `#` starts a comment. A later line for a number wins.
    pub fn parse(text: &str) -> NetlinkProtocols {
        let names = text
            .lines()
            .filter_map(|line| {
                let mut fields = line.split('#').next()?.split_ascii_whitespace();
                let number = fields.next()?.parse().ok()?;
                Some((number, fields.next()?.into()))
            })
            .collect();
        NetlinkProtocols { names }
    }

    pub fn name(&self, protocol: u8) -> Option<&str> {
        self.names
            .iter()
            .rev()
            .find(|(number, _)| *number == protocol)
            .map(|(_, name)| &**name)
    }

    /// The protocol of a name, exactly as spelled.
    pub fn number(&self, name: &str) -> Option<u8> {
        self.names
            .iter()
            .find(|(_, known)| **known == *name)
            .map(|(number, _)| *number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethertypes_both_ways() {
        assert_eq!(ethertype_name(0x0800), Some("ip"));
        assert_eq!(ethertype_name(ETH_P_ALL), Some("*"));
        assert_eq!(ethertype_name(0x1234), None);
        assert_eq!(ethertype_number("IPv6"), Some(0x86dd));
        assert_eq!(ethertype_number("lldp"), Some(0x88cc));
        assert_eq!(ethertype_number("ipv4"), Some(0x0800));
        assert_eq!(ethertype_number("ALL"), Some(ETH_P_ALL));
        assert_eq!(ethertype_number("vlan"), None);
    }

    #[test]
    fn netlink_protocols_from_a_file() {
        let protocols = NetlinkProtocols::parse("# names\n0   rtnl\n\n99 mine # local\n0 route\n");
        assert_eq!(protocols.name(0), Some("route"));
        assert_eq!(protocols.name(99), Some("mine"));
        assert_eq!(protocols.number("rtnl"), Some(0));
        assert_eq!(protocols.number("RTNL"), None);
        assert_eq!(NetlinkProtocols::builtin().name(16), Some("genl"));
        assert_eq!(NetlinkProtocols::builtin().name(17), None);
    }
}
