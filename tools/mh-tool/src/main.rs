// SPDX-License-Identifier: GPL-2.0

//! The `mh-tool` binary: see `mh-tool --help` and README.md.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Result<Vec<String>, _> = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect();
    let result = match argv {
        Ok(argv) => mh_tool::run(&argv),
        Err(bad) => Err(mh_tool::UsageError(format!(
            "argument {bad:?} is not valid UTF-8"
        ))),
    };
    match result {
        Ok(out) => {
            // A closed pipe (`mh-tool ... | head`) is not worth a panic.
            let _ = std::io::stdout().lock().write_all(out.as_bytes());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mh-tool: {e}");
            ExitCode::from(2)
        }
    }
}
