use clap::Parser as _;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = tweetpipe_consumer::cli::Cli::parse();
    tweetpipe_common::telemetry::init(cli.log_format);
    tweetpipe_consumer::main_with(cli, tweetpipe_common::shutdown::shutdown_signal()).await
}
