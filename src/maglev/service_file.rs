// SPDX-License-Identifier: GPL-2.0

//! The lines of a service file (`userspace-tests/fixtures/*.mhfx`, which
//! `mh-tool --file` reads too; the format is in `userspace-tests/README.md`).

/// The meaningful lines of a service file: (line number from 1, key, rest
/// of the line), with `#` comments, surrounding blanks and empty lines left
/// out.
pub fn service_file_lines(text: &str) -> impl Iterator<Item = (usize, &str, &str)> {
    text.lines().enumerate().filter_map(|(n, raw)| {
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            return None;
        }
        let (key, rest) = content
            .split_once(char::is_whitespace)
            .map_or((content, ""), |(k, r)| (k, r.trim()));
        Some((n.wrapping_add(1), key, rest))
    })
}
