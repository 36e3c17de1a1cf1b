use clap::Parser as _;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // First, so that a SIGTERM during start-up is handled, not fatal.
    let shutdown = tweetpipe_common::shutdown::on_signal();
    let cli = tweetpipe_consumer::cli::Cli::parse();
    tweetpipe_common::telemetry::init(cli.log_format);
    tweetpipe_consumer::main_with(cli, shutdown).await
}
