// SPDX-License-Identifier: GPL-2.0

//! The command line's grammar, declared with clap: commands, options, their
//! help. It depends on clap and std only, because `build.rs` compiles it too
//! to write the man page and the shell completions. Values stay strings
//! here: [`crate::args`] checks them, so that every error names the option
//! and value as typed.

use clap::{Args, Parser, Subcommand};

/// Where the module shows its tables (debugfs), read by `view` and
/// `metrics` when no `--view` is given.
pub const DEFAULT_VIEW: &str = "/sys/kernel/debug/ip_vs_mh/tables";

/// What `--help` prints after the options.
const EXIT_STATUS: &str =
    "Exit status: 0 on success, 2 on a usage or input error (one line on stderr).";

/// `mh-tool`.
#[derive(Debug, Parser)]
#[command(
    name = "mh-tool",
    version,
    about = "IPVS Maglev (mh) tables offline, exactly as the ip_vs_mh scheduler builds them",
    long_about = "IPVS Maglev (mh) tables offline, exactly as the ip_vs_mh scheduler builds \
                  them: per-destination shares, the table digest, lookups, what a change \
                  would move, two directors compared, and metrics for monitoring.",
    after_help = EXIT_STATUS,
    subcommand_required = true,
    propagate_version = true
)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Table size, flags, order, each destination's turns, slots and share,
    /// and the table digest
    Summary {
        /// The service.
        #[command(flatten)]
        service: ServiceArgs,
        /// The output format.
        #[command(flatten)]
        output: Output,
    },
    /// The real server each client is scheduled to
    Lookup {
        /// The service.
        #[command(flatten)]
        service: ServiceArgs,
        /// A client's source address and port (IPv6 as [ADDR]:PORT); repeat.
        /// The port is hashed only with mh-port. Weight 0 or overload makes
        /// a server unavailable
        #[arg(long = "client", value_name = "ADDR[:PORT]")]
        clients: Vec<String>,
        /// The output format.
        #[command(flatten)]
        output: Output,
    },
    /// Apply changes to a copy of the service: share of slots and of sampled
    /// client flows that would move, old and new digests
    Plan {
        /// The service.
        #[command(flatten)]
        service: ServiceArgs,
        /// The changes, applied in the order given.
        #[command(flatten)]
        changes: Changes,
        /// The flow sample.
        #[command(flatten)]
        sampling: SamplingArgs,
    },
    /// Two directors' tables (their --view): equal digests, or which servers
    /// differ in order or weight, and the share of slots and of sampled
    /// client flows that change server on a failover between them
    Compare {
        /// A director's view (/sys/kernel/debug/ip_vs_mh/tables there, or a
        /// saved copy): give two
        #[arg(long = "view", value_name = "FILE")]
        views: Vec<String>,
        /// The service of the views, as they name it ('TCP 10.0.0.100:80');
        /// one for both views, or one per view. Needed when a view holds
        /// several
        #[arg(long = "service", value_name = "LABEL")]
        services: Vec<String>,
        /// The flow sample.
        #[command(flatten)]
        sampling: SamplingArgs,
        /// The output format.
        #[command(flatten)]
        output: Output,
    },
    /// Every service of a director's view, each checked against the table
    /// computed here: label, scheduler, size, flags, order, digest, builds
    View {
        /// The director's view: the module's debugfs file, or a saved copy
        #[arg(long = "view", value_name = "FILE", default_value = DEFAULT_VIEW)]
        view: String,
        /// The output format.
        #[command(flatten)]
        output: Output,
    },
    /// Prometheus text exposition of a director's view, for node_exporter's
    /// textfile collector: per service its digest, table size, builds,
    /// tables kept, and each destination's slots and share
    Metrics {
        /// The director's view: the module's debugfs file, or a saved copy
        #[arg(long = "view", value_name = "FILE", default_value = DEFAULT_VIEW)]
        view: String,
    },
}

/// How a command takes its service: destinations on the command line, a
/// file, or a director's view.
#[derive(Debug, Args)]
pub struct ServiceArgs {
    /// A real server; repeat for each one, in the service's list order:
    /// newest first, as IPVS keeps them and `ipvsadm -Ln --nosort` prints
    /// them. IPv6 as [ADDR]:PORT. WEIGHT defaults to 1; LAST_WEIGHT (the last
    /// non-zero weight, which shapes the table) to WEIGHT
    #[arg(long = "dest", value_name = "ADDR:PORT[:WEIGHT[:LAST_WEIGHT]]")]
    pub dests: Vec<String>,
    /// Read the service from FILE instead of --dest: lines `index N`,
    /// `af inet|inet6`, `flags LIST` and
    /// `dest ADDR PORT WEIGHT LAST_WEIGHT OVERLOAD` (the userspace-tests
    /// fixture format); options given on the command line override the
    /// file's
    #[arg(long, value_name = "FILE")]
    pub file: Option<String>,
    /// Table size index, 8 to 17 (CONFIG_IP_VS_MH_TAB_INDEX or the module's
    /// tab_index) [default: 12, 4093 slots]
    #[arg(long, value_name = "N")]
    pub index: Option<String>,
    /// The service's family [default: the first destination's]
    #[arg(long = "af", value_name = "inet|inet6")]
    pub family: Option<String>,
    /// Comma-separated scheduler flags: mh-port, mh-fallback, flag-3
    /// (order-independent table), or none [default: none]
    #[arg(long, value_name = "LIST")]
    pub flags: Option<String>,
    /// Read the service from a director's live state instead:
    /// /sys/kernel/debug/ip_vs_mh/tables there, or a saved copy of it (last
    /// weights and the order the table was built in included; summary also
    /// checks the kernel's digest)
    #[arg(long, value_name = "FILE")]
    pub view: Option<String>,
    /// The service of a --view, as the view names it ('TCP 10.0.0.100:80',
    /// with 'netns N' when several namespaces have it); needed when a view
    /// holds several
    #[arg(long, value_name = "LABEL")]
    pub service: Option<String>,
}

/// The changes of `plan`, in the order given across the three options.
#[derive(Debug, Args)]
pub struct Changes {
    /// Add a real server at the list head, as IPVS does [default weight: 1]
    #[arg(long, value_name = "ADDR:PORT[:WEIGHT]")]
    pub add: Vec<String>,
    /// Remove a real server
    #[arg(long, value_name = "ADDR:PORT")]
    pub remove: Vec<String>,
    /// Set a weight; 0 keeps the last weight (and so the table), as IPVS does
    #[arg(long, value_name = "ADDR:PORT:WEIGHT")]
    pub reweight: Vec<String>,
}

/// How many client flows to sample, from which seed.
#[derive(Debug, Args)]
pub struct SamplingArgs {
    /// Random client flows to sample [default: 10000]
    // A negative number is a bad value, not an option: the value check
    // says so.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub sample: Option<String>,
    /// Seed of the sample [default: 1]
    #[arg(long, value_name = "S", allow_hyphen_values = true)]
    pub seed: Option<String>,
}

/// The output format.
#[derive(Debug, Args)]
pub struct Output {
    /// Print JSON instead of text (the schema: mh-tool's README)
    #[arg(long)]
    pub json: bool,
}
