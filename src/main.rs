use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = keyflow::config::Cli::parse();
    match keyflow::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keyflow: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
