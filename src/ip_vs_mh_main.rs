// SPDX-License-Identifier: GPL-2.0

//! IPVS Maglev hashing scheduler `mh`, in Rust.
//!
//! A drop-in replacement for the in-tree C `ip_vs_mh`: the same scheduler
//! name and flags, and the same real server for every packet. Layout:
//!
//! - [`maglev`]: the hashing core, pure and shared with userspace tests;
//! - [`mh`]: the scheduler's logic, safe Rust;
//! - [`ipvs`]: the thin adapter to IPVS, where all `unsafe` code lives.

use kernel::{debugfs, prelude::*};

mod ipvs;
// The core's whole API is exercised by userspace-tests; the module uses a part.
#[allow(dead_code, unused_imports, unreachable_pub)]
mod maglev;
mod mh;

mod build_config {
    include!("build_config_generated.rs");
}

module! {
    type: MhModule,
    name: "ip_vs_mh",
    authors: ["ip_vs_mh Rust developers"],
    description: "Maglev hashing IPVS scheduler (Rust)",
    license: "GPL v2",
    params: {
        tab_index: u32 {
            default: crate::build_config::TAB_INDEX,
            description: "Table size index, 8 to 17: the table has a prime number of slots near 2^index (default: the build's CONFIG_IP_VS_MH_RS_TAB_INDEX)",
        },
    },
}

/// The table size chosen at load time.
pub(crate) fn table_size() -> maglev::TableSize {
    // `init` refused any other value, so this cannot fail once loaded.
    maglev::TableSize::new(module_parameters::tab_index.value()).unwrap_or(DEFAULT_SIZE)
}

const DEFAULT_SIZE: maglev::TableSize = match maglev::TableSize::new(build_config::TAB_INDEX) {
    Ok(size) => size,
    Err(_) => panic!("Kbuild checks CONFIG_IP_VS_MH_RS_TAB_INDEX"),
};

struct MhModule {
    // Dropped in this order: the view goes before the scheduler.
    _tables: Pin<KBox<debugfs::File<()>>>,
    _debugfs: debugfs::Dir,
    _registration: Pin<KBox<ipvs::Registration<mh::Mh>>>,
}

/// `/sys/kernel/debug/ip_vs_mh/tables`: every mh service's table summary.
fn show_tables(_: &(), f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    mh::write_tables(f)
}

impl kernel::Module for MhModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let index = module_parameters::tab_index.value();
        let Ok(size) = maglev::TableSize::new(index) else {
            pr_err!(
                "tab_index={} is out of range: it must be 8 to 17 (table sizes 251 to 131071)\n",
                index
            );
            return Err(EINVAL);
        };
        let registration = ipvs::Registration::register(module).inspect_err(|e| {
            pr_err!(
                "cannot register scheduler mh ({:?}): is the C ip_vs_mh loaded?\n",
                e
            )
        })?;
        pr_info!(
            "Maglev hashing scheduler mh registered: table size {} (index {})\n",
            size.slots(),
            index
        );
        let dir = debugfs::Dir::new(c"ip_vs_mh");
        let tables = KBox::pin_init(
            dir.read_callback_file(c"tables", (), &show_tables),
            GFP_KERNEL,
        )?;
        Ok(Self {
            _tables: tables,
            _debugfs: dir,
            _registration: registration,
        })
    }
}
