use clap::Parser as _;

// jemalloc: a batch is thousands of small allocations (each tweet's fields, librdkafka's message
// copies) made on the preparing threads and freed on the writing one; glibc's allocator spent
// an eighth of the consumer's CPU on them (measured; mimalloc saved as much user time but
// paid it back in page faults).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // First, so that a SIGTERM during start-up is handled, not fatal.
    let shutdown = tweetpipe_common::shutdown::on_signal();
    let cli = tweetpipe_consumer::cli::Cli::parse();
    tweetpipe_common::telemetry::init(cli.log_format);
    tweetpipe_consumer::main_with(cli, shutdown).await
}
