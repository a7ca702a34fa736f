// SPDX-License-Identifier: GPL-2.0

//! The scheduler flags of an `mh` service, as `ipvsadm -b` names them.

use core::fmt;

/// What `ipvsadm -b` sets for an `mh` service (IPVS's sched flags 1 to 3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// `mh-fallback` (flag-1): an unavailable destination's clients go to
    /// the next available one in their rehash sequence.
    pub fallback: bool,
    /// `mh-port` (flag-2): the client's source port is hashed too.
    pub port: bool,
    /// `flag-3`: the Rust module's order-independent table (destinations in
    /// canonical order instead of list order).
    pub canonical: bool,
}

/// A flag name [`Flags::parse`] does not know.
#[cfg(maglev_full)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownFlag<'a>(pub &'a str);

#[cfg(maglev_full)]
impl fmt::Display for UnknownFlag<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown flag '{}' (expected mh-port, mh-fallback, flag-3 or none)",
            self.0
        )
    }
}

// Parsing is for userspace: the kernel gets the flags as bits.
#[cfg(maglev_full)]
impl Flags {
    /// No flag set.
    pub const NONE: Flags = Flags {
        fallback: false,
        port: false,
        canonical: false,
    };

    /// Parses a comma-separated list of `mh-fallback`, `mh-port`,
    /// `flag-1`..`flag-3` (`ipvsadm` also accepts the generic names of the
    /// first two), or `none`.
    pub fn parse(list: &str) -> Result<Flags, UnknownFlag<'_>> {
        let mut f = Flags::NONE;
        for name in list.split(',').map(str::trim) {
            match name {
                "none" | "" => {}
                "mh-fallback" | "flag-1" => f.fallback = true,
                "mh-port" | "flag-2" => f.port = true,
                "flag-3" => f.canonical = true,
                _ => return Err(UnknownFlag(name)),
            }
        }
        Ok(f)
    }
}

impl Flags {
    /// The names of the flags set, in the order `ipvsadm` lists them.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        [
            (self.fallback, "mh-fallback"),
            (self.port, "mh-port"),
            (self.canonical, "flag-3"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
    }
}

/// The names `ipvsadm` lists, comma-separated (`mh-fallback,mh-port`), or
/// `none`.
impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        for name in self.names() {
            write!(f, "{sep}{name}")?;
            sep = ",";
        }
        if sep.is_empty() {
            f.write_str("none")?;
        }
        Ok(())
    }
}
