//! The goal of each figure of the `bench:` line that has one (one line per figure).

/// A goal: the figure at most or at least this value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    /// The figure must be at most this.
    AtMost(f64),
    /// The figure must be at least this.
    AtLeast(f64),
}

/// The goal of figure `key`, if it has one.
pub fn goal(key: &str) -> Option<Goal> {
    use Goal::{AtLeast, AtMost};
    Some(match key {
        "guard_vs_floor_p50" => AtMost(1.10),
        "throughput_256_vs_bare" => AtLeast(0.90),
        "guard_cpu_vs_floor_cpu" => AtMost(1.15),
        "verify_vs_crypto_floor" => AtMost(1.30),
        "python_peer_vs_rust" => AtLeast(10.0),
        "python_client_cost_ratio" => AtLeast(50.0),
        "python_verify_ratio" => AtLeast(20.0),
        "vault_decisions_per_s" => AtLeast(10_000.0),
        "gateway_vs_bare" => AtLeast(0.90),
        _ => return None,
    })
}

impl Goal {
    fn holds(self, value: f64) -> bool {
        match self {
            Goal::AtMost(g) => value <= g,
            Goal::AtLeast(g) => value >= g,
        }
    }

    /// `<= 1.10`, `>= 50`.
    pub fn text(self) -> String {
        match self {
            Goal::AtMost(g) => format!("<= {g}"),
            Goal::AtLeast(g) => format!(">= {g}"),
        }
    }

    /// `met` when the whole range meets the goal, `missed` when none of it does, otherwise
    /// `median met, range straddles` or `median missed, range straddles` (see BENCHMARKS.md,
    /// "Reading a spread").
    pub fn verdict(self, median: f64, min: f64, max: f64) -> &'static str {
        if median.is_nan() {
            return "not measured";
        }
        match (self.holds(min), self.holds(median), self.holds(max)) {
            (true, true, true) => "met",
            (false, false, false) => "missed",
            (_, true, _) => "median met, range straddles",
            (_, false, _) => "median missed, range straddles",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        let g = Goal::AtMost(1.15);
        assert_eq!(g.verdict(1.05, 1.02, 1.10), "met");
        assert_eq!(g.verdict(1.30, 1.20, 1.40), "missed");
        assert_eq!(g.verdict(1.10, 1.02, 1.20), "median met, range straddles");
        assert_eq!(
            g.verdict(1.18, 1.10, 1.20),
            "median missed, range straddles"
        );
        assert_eq!(g.verdict(f64::NAN, f64::NAN, f64::NAN), "not measured");
        let g = Goal::AtLeast(0.90);
        assert_eq!(g.verdict(0.95, 0.91, 0.99), "met");
        assert_eq!(
            g.verdict(0.88, 0.85, 0.93),
            "median missed, range straddles"
        );
        assert_eq!(goal("guard_cpu_vs_floor_cpu"), Some(Goal::AtMost(1.15)));
        assert_eq!(goal("no_such_figure"), None);
    }
}
