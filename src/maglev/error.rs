// SPDX-License-Identifier: GPL-2.0

//! Errors reported by the hashing core.

use core::fmt;

/// Why the core refused a request.
///
/// On any error, the caller's buffers are left untouched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// A table index outside [`TableSize::MIN_INDEX`]..=[`TableSize::MAX_INDEX`].
    ///
    /// [`TableSize::MIN_INDEX`]: super::TableSize::MIN_INDEX
    /// [`TableSize::MAX_INDEX`]: super::TableSize::MAX_INDEX
    BadTableIndex,
    /// More destinations than table slots (the C scheduler returns `-EINVAL`),
    /// or more than the slot type can index.
    TooManyDests,
    /// A caller buffer does not have the length the table size or the
    /// destination list requires.
    BufferSize,
    /// A permutation that no destination can have in a table of this size
    /// (an offset past the end, a stride of 0 or of M).
    BadPermutation,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = match self {
            Error::BadTableIndex => "table index out of range 8..=17",
            Error::TooManyDests => "more destinations than the table can hold",
            Error::BufferSize => "buffer length does not match the table or destination count",
            Error::BadPermutation => "a permutation does not belong to a table of this size",
        };
        f.write_str(msg)
    }
}
