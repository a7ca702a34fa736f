// SPDX-License-Identifier: GPL-2.0

//! What `summary`, `lookup`, `compare` and `view` find, as data: the text
//! reports ([`crate::commands`]), `--json` and `metrics` are all printed
//! from these. The JSON schema (README.md) is these types' serde form.

use crate::maglev::{Family, Flags, Share, TableSize};
use crate::service::{family_name, DestSpec, Table};
use serde::{Serialize, Serializer};

/// A 64-bit digest, serialized as a hexadecimal string (`"0x…"`, 16
/// digits): JSON numbers lose precision past 2^53.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digest(pub u64);

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#018x}", self.0)
    }
}

/// A table's shape: size, family, flags, order, weight scaling.
#[derive(Clone, Debug, Serialize)]
pub struct TableInfo {
    /// Slots (M).
    pub slots: u32,
    /// The size's index (8 to 17).
    pub index: u32,
    /// `inet` or `inet6`.
    pub family: &'static str,
    /// The scheduler flags set: `mh-fallback`, `mh-port`, `flag-3` (in JSON
    /// a list of their names).
    #[serde(serialize_with = "flag_names")]
    pub flags: Flags,
    /// `list` (the destinations as given, newest first) or `canonical`
    /// (flag-3: sorted by address, port, last weight).
    pub order: &'static str,
    /// The greatest common divisor of the last weights (0 when none is
    /// positive).
    pub gcd: i32,
    /// The right shift applied to the weights.
    pub shift: u32,
    /// Slots no destination owns.
    pub empty_slots: u32,
}

impl TableInfo {
    /// The shape of `t`, a table of `size`.
    pub fn of(size: TableSize, family: Family, t: &Table) -> Self {
        TableInfo {
            slots: size.slots(),
            index: size.index(),
            family: family_name(family),
            flags: t.flags,
            order: if t.flags.canonical {
                "canonical"
            } else {
                "list"
            },
            gcd: t.table.built.weights.gcd,
            shift: t.table.built.weights.rshift,
            empty_slots: t.empty_slots(),
        }
    }
}

/// The flags as the list of their names.
fn flag_names<S: Serializer>(f: &Flags, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(f.names())
}

/// One destination of a table.
#[derive(Clone, Debug, Serialize)]
pub struct DestReport {
    /// Its place in the table's order, from 0.
    pub position: usize,
    /// Its address.
    pub address: String,
    /// Its port.
    pub port: u16,
    /// Its weight now.
    pub weight: i32,
    /// Its last non-zero weight, which shapes the table.
    pub last_weight: i32,
    /// Slots it claims per round of the build.
    pub turns: u32,
    /// Slots it owns.
    pub slots: u32,
    /// Its share of the slots, 0 to 1.
    pub share: f64,
    /// Whether it takes new connections.
    pub available: bool,
    /// Why not: `weight 0`, `overloaded`, or both; null when available.
    pub unavailable_because: Option<&'static str>,
    /// Its share as the text reports print it (`"24.98%"`).
    #[serde(skip)]
    pub share_text: String,
    /// `ADDR:PORT` (IPv6 as `[ADDR]:PORT`).
    #[serde(skip)]
    pub endpoint: String,
}

impl DestReport {
    /// Every destination of `t`, a table of `size`, in table order.
    pub fn all(size: TableSize, t: &Table) -> Vec<Self> {
        t.specs
            .iter()
            .zip(&t.counts)
            .enumerate()
            .map(|(i, (d, &slots))| {
                let share = Share::of_table(slots, size);
                DestReport {
                    position: i,
                    address: d.ip.to_string(),
                    port: d.port,
                    weight: d.weight,
                    last_weight: d.last_weight,
                    turns: t.table.turns(i),
                    slots,
                    share: f64::from(slots) / f64::from(size.slots()),
                    available: unavailable_because(d).is_none(),
                    unavailable_because: unavailable_because(d),
                    share_text: share.to_string(),
                    endpoint: d.endpoint(),
                }
            })
            .collect()
    }
}

/// Why a destination takes no new connections, if it does not.
fn unavailable_because(d: &DestSpec) -> Option<&'static str> {
    match (d.weight > 0, d.overload) {
        (true, false) => None,
        (false, false) => Some("weight 0"),
        (true, true) => Some("overloaded"),
        (false, true) => Some("weight 0, overloaded"),
    }
}

/// `summary`.
#[derive(Clone, Debug, Serialize)]
pub struct SummaryReport {
    /// The table's shape.
    pub table: TableInfo,
    /// Its destinations, in table order.
    pub destinations: Vec<DestReport>,
    /// The table's digest, computed here.
    pub digest: Digest,
    /// The digest a director's view reported (`--view`), else null.
    pub view_digest: Option<Digest>,
}

/// One client of `lookup`.
#[derive(Clone, Debug, Serialize)]
pub struct ClientReport {
    /// The client as given.
    pub client: String,
    /// The slot its hash picks.
    pub slot: u32,
    /// The real server it is scheduled to (`ADDR:PORT`), null for none.
    pub server: Option<String>,
    /// The slot's owner (`ADDR:PORT`), null for an empty slot.
    pub owner: Option<String>,
    /// Why the server is not the owner, or why there is none; null when
    /// the owner takes it.
    pub note: Option<String>,
}

/// `lookup`.
#[derive(Clone, Debug, Serialize)]
pub struct LookupReport {
    /// The table's shape.
    pub table: TableInfo,
    /// The table's digest.
    pub digest: Digest,
    /// Whether client ports are hashed (mh-port).
    pub ports_hashed: bool,
    /// The clients, as given.
    pub clients: Vec<ClientReport>,
}

/// One director of `compare`.
#[derive(Clone, Debug, Serialize)]
pub struct DirectorReport {
    /// The view file.
    pub file: String,
    /// The service, as the view names it.
    pub service: String,
    /// Its destinations.
    pub destinations: usize,
    /// The table's shape.
    pub table: TableInfo,
    /// The order as the view describes it.
    pub view_order: String,
    /// The digest the view reported.
    pub digest: Digest,
    /// Whether it is the digest computed here from the view's inputs.
    pub digest_as_computed: bool,
}

/// A server whose table position or last weight differs between two
/// directors, or that only one has.
#[derive(Clone, Debug, Serialize)]
pub struct Difference {
    /// `ADDR:PORT`.
    pub server: String,
    /// Its table position on director A, from 1; null when A lacks it.
    pub position_a: Option<usize>,
    /// The same on director B.
    pub position_b: Option<usize>,
    /// Its last weight on A; null when A lacks it.
    pub last_weight_a: Option<i32>,
    /// The same on B.
    pub last_weight_b: Option<i32>,
}

/// What a sample of client flows did between two tables.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct FlowsReport {
    /// Flows sampled.
    pub sampled: u32,
    /// The sample's seed.
    pub seed: u64,
    /// Flows whose real server (or lack of one) differs.
    pub changed: u32,
    /// Flows with no real server in the first table.
    pub no_server_before: u32,
    /// Flows with no real server in the second table.
    pub no_server_after: u32,
}

/// `compare`.
#[derive(Clone, Debug, Serialize)]
pub struct CompareReport {
    /// Directors A and B.
    pub directors: [DirectorReport; 2],
    /// Whether both tables have the same family and size (else no client
    /// is scheduled alike by design).
    pub same_family_and_size: bool,
    /// Whether both digests are equal: every client goes to the same real
    /// server on both.
    pub equal_digests: bool,
    /// The servers that differ (empty with equal digests).
    pub differences: Vec<Difference>,
    /// Slots whose server differs.
    pub slots_differing: u32,
    /// Slots of the larger table.
    pub slots: u32,
    /// The flow sample; null when not sampled (`--sample 0`) or the
    /// digests are equal.
    pub flows: Option<FlowsReport>,
}

/// How the kernel's builds of a service went, from its view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct BuildStats {
    /// Tables built for the service since it was bound.
    pub builds: u64,
    /// Configuration changes that kept the table (nothing it is built
    /// from changed).
    pub kept: u64,
    /// How long the last build took, in microseconds.
    pub last_build_us: u64,
}

/// One service of a director's view.
#[derive(Clone, Debug, Serialize)]
pub struct ServiceReport {
    /// The service as the view names it, without its namespace
    /// (`TCP 10.0.0.100:80`).
    pub service: String,
    /// The network namespace's inode number, when the view gives it.
    pub netns: Option<String>,
    /// The scheduler (`mh`, `mh-8` .. `mh-17`); null in older views.
    pub scheduler: Option<String>,
    /// The table's shape.
    pub table: TableInfo,
    /// The order as the view describes it.
    pub view_order: String,
    /// The digest the view reported.
    pub digest: Digest,
    /// Whether it is the digest computed here from the view's inputs.
    pub digest_as_computed: bool,
    /// The kernel's build counters; null in older views.
    pub builds: Option<BuildStats>,
    /// The destinations, in table order.
    pub destinations: Vec<DestReport>,
}

/// `view`.
#[derive(Clone, Debug, Serialize)]
pub struct ViewReport {
    /// The view file.
    pub file: String,
    /// Its services that have a table, in the view's order.
    pub services: Vec<ServiceReport>,
}
