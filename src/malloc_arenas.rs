//! Bounds glibc's malloc arenas for `tenx serve`.
//!
//! glibc gives every thread that allocates its own arena (up to eight per core) and keeps the
//! free holes inside an arena instead of returning them: with the server's 13 threads (tokio's
//! workers, the blocking pool, the two writer threads) the arenas held 62–124 MB after a load
//! for 14–17 MB in use (BENCHMARKS.md, "Where the memory goes"). Two arenas are enough for two
//! cores and keep the peak under 64 MB. glibc reads the limit once, from `MALLOC_ARENA_MAX`,
//! before `main` runs, and the only call that changes it later (`mallopt`) needs `unsafe`,
//! which this workspace forbids; so the server re-executes itself, same pid and arguments, with
//! the variable set. On Lambda, template.yaml sets it.

/// The variable glibc reads, and the bound.
const VAR: &str = "MALLOC_ARENA_MAX";
const ARENAS: &str = "2";

/// Replaces this process with itself, `MALLOC_ARENA_MAX` set, unless the variable is already
/// set (by the operator, or by this re-execution). Returns when it is set, off glibc, or when
/// the exec failed (the server then runs with glibc's default and says so).
pub(crate) fn bound() {
    if !cfg!(all(target_os = "linux", target_env = "gnu")) || std::env::var_os(VAR).is_some() {
        return;
    }
    reexec();
}

#[cfg(unix)]
fn reexec() {
    use std::os::unix::process::CommandExt;
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    let error = command.args(args).env(VAR, ARENAS).exec();
    eprintln!(
        "warning: could not re-execute with {VAR}={ARENAS} ({error}); glibc's default arenas apply"
    );
}

#[cfg(not(unix))]
fn reexec() {}
