//! The `talentcard` command line: `serve`, `migrate`, `admin create`, `audit verify`.

use std::process::ExitCode;

use clap::Parser;
use talentcard::cli::{Cli, run};

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
