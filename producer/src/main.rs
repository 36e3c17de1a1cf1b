use std::process::ExitCode;
use std::time::Duration;

use clap::Parser as _;

// mimalloc, overriding `malloc` for the whole process: most of the producer's allocations are
// librdkafka's (a message copy and its headers per tweet), made on one thread and freed on
// the delivery thread, where glibc's arena locks made the threads wait on each other.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async {
        // First, so that a SIGTERM during start-up is handled, not fatal.
        let shutdown = tweetpipe_common::shutdown::on_signal();
        let cli = tweetpipe_producer::cli::Cli::parse();
        tweetpipe_common::telemetry::init(cli.log_format);
        tweetpipe_producer::main_with(cli, shutdown).await
    });
    // A reader blocked on stdin or a FIFO that stays open must not keep the process alive after
    // the summary: dropping the runtime would wait for that thread forever.
    runtime.shutdown_timeout(Duration::from_millis(100));
    code
}
