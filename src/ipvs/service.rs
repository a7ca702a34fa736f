// SPDX-License-Identifier: GPL-2.0

//! Views of an IPVS virtual service (`struct ip_vs_service`).

use super::{bindings, dest::DestRefs};
use crate::maglev::{Addr, Family};
use core::{marker::PhantomData, ptr::NonNull};
use kernel::prelude::*;

/// The scheduler flags of a service (`ipvsadm -b flag-1,flag-2,flag-3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SchedFlags {
    /// `flag-1` (`mh-fallback` for mh).
    pub(crate) flag1: bool,
    /// `flag-2` (`mh-port` for mh).
    pub(crate) flag2: bool,
    /// `flag-3`.
    pub(crate) flag3: bool,
}

/// A service, seen from a scheduler callback.
///
/// # Invariants
///
/// `svc` points to a live service for the lifetime `'a`.
pub(crate) struct Service<'a> {
    svc: NonNull<bindings::ip_vs_service>,
    _life: PhantomData<&'a bindings::ip_vs_service>,
}

impl<'a> Service<'a> {
    /// # Safety
    ///
    /// `svc` must point to a service that stays live for `'a`.
    pub(super) unsafe fn from_raw(svc: NonNull<bindings::ip_vs_service>) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self {
            svc,
            _life: PhantomData,
        }
    }

    fn raw(&self) -> &bindings::ip_vs_service {
        // SAFETY: By the type invariant the service is live.
        unsafe { self.svc.as_ref() }
    }

    pub(super) fn as_ptr(&self) -> *mut bindings::ip_vs_service {
        self.svc.as_ptr()
    }

    /// The service's address family, which decides how every address of
    /// the service (client or destination) is hashed.
    pub(crate) fn family(&self) -> Family {
        if u32::from(self.raw().af) == bindings::AF_INET6 {
            Family::Inet6
        } else {
            Family::Inet
        }
    }

    /// The service's protocol number (IPPROTO_TCP, ...).
    pub(crate) fn protocol(&self) -> u16 {
        self.raw().protocol
    }

    /// The virtual address.
    pub(crate) fn addr(&self) -> Addr {
        // SAFETY: `nf_inet_addr` is a 16-byte union of plain integers: any
        // bit pattern is a valid byte array.
        let bytes: [u8; 16] = unsafe { core::mem::transmute_copy(&self.raw().addr) };
        Addr::from_nf_inet_addr(self.family(), &bytes)
    }

    /// The virtual port, in host order.
    pub(crate) fn port(&self) -> u16 {
        u16::from_be(self.raw().port)
    }

    /// The firewall mark of a fwmark service, else 0.
    pub(crate) fn fwmark(&self) -> u32 {
        self.raw().fwmark
    }

    /// The scheduler flags.
    pub(crate) fn sched_flags(&self) -> SchedFlags {
        // SAFETY: `flags` is a plain integer that IPVS updates with single
        // stores; a racy read gives the old or the new flags.
        let flags = unsafe { core::ptr::read_volatile(&self.raw().flags) };
        SchedFlags {
            flag1: flags & bindings::IP_VS_SVC_F_SCHED1 != 0,
            flag2: flags & bindings::IP_VS_SVC_F_SCHED2 != 0,
            flag3: flags & bindings::IP_VS_SVC_F_SCHED3 != 0,
        }
    }
}

/// A service whose configuration cannot change while this view exists: the
/// callback holds the IPVS configuration mutex.
pub(crate) struct LockedService<'a> {
    service: Service<'a>,
}

impl<'a> LockedService<'a> {
    /// # Safety
    ///
    /// `svc` must point to a service that stays live for `'a`, and the IPVS
    /// configuration mutex must be held for `'a`.
    pub(super) unsafe fn from_raw(svc: NonNull<bindings::ip_vs_service>) -> Self {
        Self {
            // SAFETY: Guaranteed by the caller.
            service: unsafe { Service::from_raw(svc) },
        }
    }

    /// The read-only view.
    pub(crate) fn service(&self) -> &Service<'a> {
        &self.service
    }

    /// The number of destinations.
    pub(crate) fn num_dests(&self) -> usize {
        self.service.raw().num_dests as usize
    }

    /// Takes a reference on every destination, in the service's list order
    /// (newest first, as IPVS adds them at the head).
    pub(crate) fn hold_destinations(&self) -> Result<DestRefs> {
        let family = self.service.family();
        let mut refs = DestRefs::with_capacity(self.num_dests())?;
        let head: *const bindings::list_head = &self.service.raw().destinations;
        // SAFETY: The list is only changed under the configuration mutex,
        // which we hold, so walking it is race free.
        let mut node = unsafe { (*head).next };
        while !core::ptr::eq(node, head) {
            let dest = node
                .cast::<u8>()
                .wrapping_sub(core::mem::offset_of!(bindings::ip_vs_dest, n_list))
                .cast::<bindings::ip_vs_dest>();
            let dest = NonNull::new(dest).ok_or(EINVAL)?;
            // SAFETY: `node` is the `n_list` member of a destination on the
            // service's list, which is live while we hold the mutex.
            unsafe { refs.push_held(dest, family)? };
            // SAFETY: As above, the list is stable under the mutex.
            node = unsafe { (*node).next };
        }
        Ok(refs)
    }
}
