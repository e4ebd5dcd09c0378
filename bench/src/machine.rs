//! What the figures were measured on.

/// Cores, CPU model and compiler of this run.
#[derive(Debug, Clone)]
pub struct Machine {
    /// Cores available to this process.
    pub cores: usize,
    /// The CPU's model name (`/proc/cpuinfo`).
    pub cpu: String,
    /// `rustc --version`.
    pub rustc: String,
}

impl Machine {
    /// Describes this machine.
    pub fn describe() -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let rustc = std::process::Command::new(std::env::var("RUSTC").unwrap_or("rustc".into()))
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "rustc unknown".into());
        Machine {
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu,
            rustc,
        }
    }

    /// One line: `2 cores, <cpu>, <rustc>`.
    pub fn line(&self) -> String {
        format!("{} cores, {}, {}", self.cores, self.cpu, self.rustc)
    }
}

/// `VmRSS` and `VmHWM` of this process, in kB (Linux; `None` elsewhere).
pub fn proc_status() -> (Option<u64>, Option<u64>) {
    let Ok(text) = std::fs::read_to_string("/proc/self/status") else {
        return (None, None);
    };
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    (field("VmRSS:"), field("VmHWM:"))
}
