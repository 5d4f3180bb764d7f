//! The `talentcard` command line: `serve`, `migrate`, `admin create`, `audit verify`.

use std::process::ExitCode;

use clap::Parser;
use talentcard::cli::{Cli, run};

/// mimalloc, not glibc's malloc: argon2 takes 19 MiB a hash, and glibc kept a freed block in
/// each of its arenas, so a login storm left the service at 471 MiB; mimalloc gives huge blocks
/// back to the system.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
