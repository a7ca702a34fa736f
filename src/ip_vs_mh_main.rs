// SPDX-License-Identifier: GPL-2.0

//! IPVS Maglev hashing scheduler `mh`, in Rust.
//!
//! A drop-in replacement for the in-tree C `ip_vs_mh`: the same scheduler
//! name and flags, and the same real server for every packet. Layout:
//!
//! - [`maglev`]: the hashing core, pure and shared with userspace (its
//!   kernel face only: the module compiles what it calls);
//! - [`mh`]: the scheduler's logic, safe Rust;
//! - [`ipvs`]: the thin adapter to IPVS, where all `unsafe` code lives.

use core::borrow::Borrow;
use kernel::{
    debugfs::Scope,
    prelude::*, //
};

mod ipvs;
// Test builds only (`make IP_VS_MH_RS_KUNIT=y`).
#[cfg(ip_vs_mh_kunit)]
mod kunit;
// The core's items are `pub` for its userspace users (mh-tool, the tests),
// which include the same files as a public module.
#[expect(unreachable_pub)]
// A test build compiles the core's full face (`maglev_full`) for the KUnit
// suite, which uses only part of it.
#[cfg_attr(ip_vs_mh_kunit, expect(dead_code, unused_imports))]
mod maglev;
mod mh;

mod build_config {
    include!(concat!(
        env!("IP_VS_MH_RS_GENERATED"),
        "/build_config_generated.rs"
    ));
}

module! {
    type: MhModule,
    name: "ip_vs_mh",
    authors: ["ip_vs_mh Rust developers"],
    description: "Maglev hashing IPVS scheduler (Rust)",
    license: "GPL v2",
    // `ipvsadm -s mh-16` loads the module (IPVS asks for `ip_vs_` and the
    // name): one alias per name of `mh::SIZED`, in its order.
    alias: [
        "ip_vs_mh-8",
        "ip_vs_mh-9",
        "ip_vs_mh-10",
        "ip_vs_mh-11",
        "ip_vs_mh-12",
        "ip_vs_mh-13",
        "ip_vs_mh-14",
        "ip_vs_mh-15",
        "ip_vs_mh-16",
        "ip_vs_mh-17",
    ],
    params: {
        tab_index: u32 {
            default: crate::build_config::TAB_INDEX,
            description: "Table size index, 8 to 17: the table has a prime number of slots near 2^index (default: the build's CONFIG_IP_VS_MH_RS_TAB_INDEX)",
        },
        // An integer, not a bool: module! takes bool parameters from 7.3
        // only, and the module builds for 7.2 too.
        canonical_order: u32 {
            default: 0,
            description: "1: build every service's table from its destinations in canonical order (as flag-3 does), so that directors whose destinations were added in different orders agree, for clients that cannot set flag-3 (keepalived, kube-proxy); 0 (default): IPVS list order, as the C scheduler. Fixed at load time",
        },
    },
}

/// The module: its schedulers, inside the debugfs directory that shows
/// their services (`/sys/kernel/debug/ip_vs_mh/tables`), which goes away
/// before them.
#[pin_data]
struct MhModule {
    #[pin]
    schedulers: Scope<Schedulers>,
}

/// The registered schedulers: `mh`, C's scheduler with the table size of
/// the module parameter, and one per table size (`mh::SIZED`) for services
/// that choose theirs. All share `canonical_order`.
#[pin_data]
struct Schedulers {
    #[pin]
    mh: ipvs::Registration<mh::Mh>,
    #[pin]
    sized: [ipvs::Registration<mh::Mh>; mh::SIZED.len()],
}

impl Schedulers {
    fn new(module: &'static ThisModule) -> Result<impl PinInit<Self, Error>> {
        let (size, canonical) = parameters()?;
        Ok(try_pin_init!(Self {
            mh <- ipvs::Registration::new(module, mh::NAME, mh::Mh::new(size, canonical)),
            sized <- pin_init::pin_init_array_from_fn(|i| {
                let (name, size) = mh::SIZED[i];
                ipvs::Registration::new(module, name, mh::Mh::sized(size, canonical))
            }),
        }))
    }

    /// Every registration, `mh` first.
    fn all(&self) -> impl Iterator<Item = &ipvs::Registration<mh::Mh>> {
        Iterator::chain(core::iter::once(&self.mh), self.sized.iter())
    }
}

/// A parameter's value: `value()` gives it by value from 7.3, by reference
/// before.
fn parameter(value: impl Borrow<u32>) -> u32 {
    *value.borrow()
}

/// The table size and order the module parameters ask for; a bad value
/// of any parameter (`service_tab_index` too, which `mh` reads at each
/// build) fails the load with one line in the kernel log.
fn parameters() -> Result<(maglev::TableSize, bool)> {
    let index = parameter(module_parameters::tab_index.value());
    let Ok(size) = maglev::TableSize::new(index) else {
        pr_err!(
            "tab_index={} is out of range: it must be 8 to 17 (table sizes 251 to 131071)\n",
            index
        );
        return Err(EINVAL);
    };
    let canonical = match parameter(module_parameters::canonical_order.value()) {
        0 => false,
        1 => true,
        other => {
            pr_err!(
                "canonical_order={} is out of range: it must be 0 or 1\n",
                other
            );
            return Err(EINVAL);
        }
    };
    // Last: a bad value given for it at load fails the load here.
    ipvs::SERVICE_TAB_INDEX.go_live("service_tab_index")?;
    Ok((size, canonical))
}

fn show_tables(schedulers: &Schedulers, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    schedulers
        .all()
        .try_for_each(|reg| mh::write_tables(reg, f))
}

impl kernel::InPlaceModule for MhModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            schedulers <- Scope::dir(
                Schedulers::new(module)?,
                c"ip_vs_mh",
                |schedulers, dir| {
                    let mh = schedulers.mh.scheduler();
                    let size = mh.size();
                    pr_info!(
                        "Maglev hashing scheduler {} registered: table size {} (index {}), {} order; and {} to {}, one table size each\n",
                        schedulers.mh.name().to_str().unwrap_or("?"),
                        size.slots(),
                        size.index(),
                        if mh.canonical_order() { "canonical" } else { "list" },
                        mh::SIZED[0].0.to_str().unwrap_or("?"),
                        mh::SIZED[mh::SIZED.len() - 1].0.to_str().unwrap_or("?"),
                    );
                    dir.read_callback_file(c"tables", schedulers, &show_tables);
                },
            ),
        })
    }
}
