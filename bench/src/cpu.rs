//! CPU time of this process (every thread: user + system), the figure a noisy machine barely
//! moves. Wall-clock time counts waiting for a core someone else holds; CPU time counts only
//! the work this process did.

use std::time::Duration;

/// User and system CPU time this process has used so far (`getrusage(RUSAGE_SELF)`: every
/// thread, microsecond resolution).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuTime {
    /// Time in user mode.
    pub user: Duration,
    /// Time in the kernel on this process's behalf (syscalls: sockets, epoll, futex).
    pub system: Duration,
}

impl CpuTime {
    /// The CPU time used so far by this process.
    pub fn now() -> std::io::Result<CpuTime> {
        rusage_self()
    }

    /// User + system.
    pub fn total(&self) -> Duration {
        self.user + self.system
    }

    /// The CPU time used between `earlier` and `self`.
    pub fn since(&self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }
}

#[cfg(unix)]
#[allow(unsafe_code)]
fn rusage_self() -> std::io::Result<CpuTime> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a `struct rusage` into the pointer it is given, which points to
    // a zeroed, properly aligned `rusage` that lives across the call.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the call succeeded, so the struct is initialised (it was zeroed before anyway).
    let usage = unsafe { usage.assume_init() };
    let time = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    Ok(CpuTime {
        user: time(usage.ru_utime),
        system: time(usage.ru_stime),
    })
}

#[cfg(not(unix))]
fn rusage_self() -> std::io::Result<CpuTime> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "process CPU time is read with getrusage(2), on Unix only",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_work_shows_up_as_user_time() {
        let before = CpuTime::now().unwrap();
        let started = std::time::Instant::now();
        let mut x = 0u64;
        // Spin until the reader reports 20 ms of user time (a broken reader never does).
        let used = loop {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
            let used = CpuTime::now().unwrap().since(before);
            if used.user >= Duration::from_millis(20) {
                break used;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "30 s of spinning and getrusage reports {used:?}"
            );
        };
        assert_eq!(used.total(), used.user + used.system);
        assert!(CpuTime::now().unwrap().total() >= used.total());
    }
}
