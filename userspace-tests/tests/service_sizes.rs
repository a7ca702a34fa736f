// SPDX-License-Identifier: GPL-2.0

//! The text of the module parameter `service_tab_index`: what it accepts,
//! what it refuses and why, and how it is written back.

use proptest::prelude::*;
use userspace_tests::maglev::{
    size_entries, Addr, Protocol, ServiceKey, SizeEntry, SizeEntryError, SizeEntryProblem,
    TableSize,
};

fn entries(text: &str) -> Result<Vec<SizeEntry>, SizeEntryError> {
    size_entries(text).collect()
}

fn problem(text: &str) -> (usize, SizeEntryProblem) {
    let error = entries(text).expect_err(text);
    (error.entry, error.problem)
}

fn size(index: u32) -> TableSize {
    TableSize::new(index).unwrap()
}

#[test]
fn accepts_every_kind_of_service() {
    let got = entries("tcp:10.0.0.1:80=16, UDP:[2001:db8::53]:53=9\nsctp:192.0.2.7:0=8,fwm:7=17\n")
        .unwrap();
    let v6: std::net::Ipv6Addr = "2001:db8::53".parse().unwrap();
    assert_eq!(
        got,
        vec![
            SizeEntry {
                service: ServiceKey::Addr {
                    protocol: Protocol::Tcp,
                    addr: Addr::V4([10, 0, 0, 1]),
                    port: 80
                },
                size: size(16)
            },
            SizeEntry {
                service: ServiceKey::Addr {
                    protocol: Protocol::Udp,
                    addr: Addr::V6(v6.octets()),
                    port: 53
                },
                size: size(9)
            },
            SizeEntry {
                service: ServiceKey::Addr {
                    protocol: Protocol::Sctp,
                    addr: Addr::V4([192, 0, 2, 7]),
                    port: 0
                },
                size: size(8)
            },
            SizeEntry {
                service: ServiceKey::Fwmark(7),
                size: size(17)
            },
        ]
    );
    // Written back as it is shown in sysfs: lower case, canonical addresses.
    let shown: Vec<String> = got.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "tcp:10.0.0.1:80=16",
            "udp:[2001:db8::53]:53=9",
            "sctp:192.0.2.7:0=8",
            "fwm:7=17"
        ]
    );
    assert_eq!(entries("").unwrap(), vec![]);
    assert_eq!(entries(" ,\n,, ").unwrap(), vec![]);
}

#[test]
fn refuses_with_the_entry_and_the_reason() {
    use SizeEntryProblem::*;
    assert_eq!(problem("tcp:10.0.0.1:80=16,tcp:10.0.0.1:81"), (2, NoIndex));
    assert_eq!(problem("tcp:10.0.0.1:80=x"), (1, IndexNotANumber));
    assert_eq!(problem("tcp:10.0.0.1:80=-1"), (1, IndexNotANumber));
    assert_eq!(problem("tcp:10.0.0.1:80=7"), (1, IndexOutOfRange(7)));
    assert_eq!(problem("tcp:10.0.0.1:80=18"), (1, IndexOutOfRange(18)));
    assert_eq!(problem("icmp:10.0.0.1:80=9"), (1, UnknownProtocol));
    assert_eq!(problem("10.0.0.1:80=9"), (1, UnknownProtocol));
    assert_eq!(problem("tcp:10.0.0.1=9"), (1, BadAddress));
    assert_eq!(problem("tcp:2001:db8::1:80=9"), (1, BadAddress));
    assert_eq!(problem("tcp:10.0.0.1:65536=9"), (1, BadAddress));
    assert_eq!(problem("fwm:0=9"), (1, BadFwmark));
    assert_eq!(problem("fwm:x=9"), (1, BadFwmark));
    let error = entries("fwm:1=9,tcp:10.0.0.1:80=99").unwrap_err();
    assert_eq!(
        error.to_string(),
        "entry 2: index 99 is out of range: it must be 8 to 17"
    );
}

#[test]
fn names_its_service_only() {
    let tcp = ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: Addr::V4([10, 0, 0, 1]),
        port: 80,
    };
    let vip = Addr::V4([10, 0, 0, 1]);
    assert!(tcp.names(6, &vip, 80, 0));
    assert!(!tcp.names(17, &vip, 80, 0), "another protocol");
    assert!(!tcp.names(6, &vip, 81, 0), "another port");
    assert!(
        !tcp.names(6, &Addr::V4([10, 0, 0, 2]), 80, 0),
        "another address"
    );
    assert!(!tcp.names(6, &vip, 80, 5), "a fwmark service");
    let mark = ServiceKey::Fwmark(5);
    assert!(mark.names(6, &vip, 80, 5));
    assert!(!mark.names(6, &vip, 80, 6));
    assert!(!mark.names(6, &vip, 80, 0));
    assert_eq!(Protocol::Sctp.number(), 132);
}

proptest! {
    /// What is written back reads as the same entries.
    #[test]
    fn written_back_reads_the_same(
        list in prop::collection::vec(
            (0u8..4, any::<[u8; 16]>(), any::<u16>(), 1u32.., 8u32..=17),
            0..20,
        )
    ) {
        let text: Vec<String> = list
            .iter()
            .map(|&(kind, bytes, port, mark, index)| {
                let service = match kind {
                    0 => ServiceKey::Fwmark(mark),
                    1 => ServiceKey::Addr {
                        protocol: Protocol::Udp,
                        addr: Addr::V6(bytes),
                        port,
                    },
                    2 => ServiceKey::Addr {
                        protocol: Protocol::Sctp,
                        addr: Addr::V4([bytes[0], bytes[1], bytes[2], bytes[3]]),
                        port,
                    },
                    _ => ServiceKey::Addr {
                        protocol: Protocol::Tcp,
                        addr: Addr::V4([bytes[0], bytes[1], bytes[2], bytes[3]]),
                        port,
                    },
                };
                SizeEntry { service, size: size(index) }.to_string()
            })
            .collect();
        let parsed = entries(&text.join(",")).unwrap();
        let again: Vec<String> = parsed.iter().map(ToString::to_string).collect();
        prop_assert_eq!(again, text);
    }

    /// No text makes the parser panic.
    #[test]
    fn any_text_parses_or_is_refused(text in "\\PC{0,80}") {
        let _ = entries(&text);
    }
}
