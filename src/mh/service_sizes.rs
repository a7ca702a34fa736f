// SPDX-License-Identifier: GPL-2.0

//! The value of the module parameter `service_tab_index`: a table size for
//! each service it names, for the services of `mh`, so that clients that
//! can only name `mh` (keepalived) still give services their own size.

use crate::{
    ipvs::{
        ParamValue,
        Service, //
    },
    maglev::{
        size_entries,
        SizeEntry,
        SizeEntryError,
        SizeEntryProblem,
        TableSize, //
    },
};
use core::fmt;
use kernel::prelude::*;

/// The services `service_tab_index` names, each with its size, in the
/// order given.
pub(crate) struct ServiceSizes(KVec<SizeEntry>);

/// Why a value of `service_tab_index` is refused.
pub(crate) enum ServiceSizesError {
    /// An entry is bad.
    Entry(SizeEntryError),
    /// No memory for the entries.
    NoMemory,
}

impl fmt::Display for ServiceSizesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceSizesError::Entry(error) => write!(f, "{error}"),
            ServiceSizesError::NoMemory => f.write_str("no memory for the entries"),
        }
    }
}

impl ServiceSizes {
    /// The size `svc` gets, if an entry names it.
    pub(crate) fn size_for(&self, svc: &Service) -> Option<TableSize> {
        let (protocol, addr, port, fwmark) = (svc.protocol(), svc.addr(), svc.port(), svc.fwmark());
        self.0
            .iter()
            .find(|e| e.service.names(protocol, &addr, port, fwmark))
            .map(|e| e.size)
    }
}

impl ParamValue for ServiceSizes {
    type Error = ServiceSizesError;

    fn parse(text: &str) -> Result<Self, ServiceSizesError> {
        let mut entries = KVec::new();
        for entry in size_entries(text) {
            let entry = entry.map_err(ServiceSizesError::Entry)?;
            if entries
                .iter()
                .any(|e: &SizeEntry| e.service == entry.service)
            {
                return Err(ServiceSizesError::Entry(SizeEntryError {
                    entry: entries.len().wrapping_add(1),
                    problem: SizeEntryProblem::Repeated,
                }));
            }
            entries
                .push(entry, GFP_KERNEL)
                .map_err(|_| ServiceSizesError::NoMemory)?;
        }
        Ok(Self(entries))
    }

    fn show(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        let mut sep = "";
        for entry in self.0.iter() {
            write!(f, "{sep}{entry}")?;
            sep = ",";
        }
        Ok(())
    }
}
