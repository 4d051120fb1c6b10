//! The `stockbridge` binary; everything lives in the library.

fn main() -> std::process::ExitCode {
    stockbridge_app::cli::main()
}
