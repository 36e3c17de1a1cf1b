//! `cargo run -p xtask -- docs`: regenerates the reference documentation (see the library).

use std::process::ExitCode;

fn main() -> ExitCode {
    let task = std::env::args().nth(1);
    match task.as_deref() {
        Some("docs") => match xtask::write(&xtask::repo_root()) {
            Ok(written) => {
                for path in &written {
                    println!("wrote {}", path.display());
                }
                println!("{} file(s) changed", written.len());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("xtask docs: {e:#}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: cargo run -p xtask -- docs   (regenerate docs/reference from the code)");
            ExitCode::from(2)
        }
    }
}
