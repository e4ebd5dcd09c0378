//! Statistics: percentiles by nearest rank, the median and range of a figure over rounds, and
//! the ABBA order that gives two sides the same mean position in time.

use std::time::Duration;

/// Microseconds of `d`.
pub fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// `a / b`, `NaN` when `b` is not positive.
pub fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

/// The `q` quantile (0..=1) of `sorted` by nearest rank; `NaN` when empty.
pub fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// p50, p99 and mean of one series of durations, in microseconds.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Mean.
    pub mean: f64,
}

impl Percentiles {
    /// The percentiles of `samples` (sorted in place); `NaN`s when empty.
    pub fn of(samples: &mut [Duration]) -> Percentiles {
        samples.sort_unstable();
        let us: Vec<f64> = samples.iter().map(|d| micros(*d)).collect();
        let mean = if us.is_empty() {
            f64::NAN
        } else {
            us.iter().sum::<f64>() / us.len() as f64
        };
        Percentiles {
            p50: nearest_rank(&us, 0.50),
            p99: nearest_rank(&us, 0.99),
            mean,
        }
    }
}

/// A figure over rounds: its median, smallest and largest value (`NaN`s left out).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Spread {
    /// Median over the rounds (the lower middle value for an even count).
    pub median: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; all `NaN` when none is a number.
    pub fn of(values: &[f64]) -> Spread {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        v.sort_by(f64::total_cmp);
        match (v.first(), v.last()) {
            (Some(&min), Some(&max)) => Spread {
                median: nearest_rank(&v, 0.5),
                min,
                max,
            },
            _ => Spread::none(),
        }
    }

    /// One measurement: median, min and max alike.
    pub fn single(value: f64) -> Spread {
        Spread {
            median: value,
            min: value,
            max: value,
        }
    }

    /// Nothing measured.
    pub fn none() -> Spread {
        Spread::single(f64::NAN)
    }

    /// This spread as a figure named `key`.
    pub fn figure(self, key: &'static str) -> crate::Figure {
        (key, self.median, self.min, self.max)
    }
}

/// One side of an A/B comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The first side (the SDK).
    A,
    /// The second side (the floor).
    B,
}

/// One ABBA round: A, B, B, A. Over a round each side has the same mean position in time, so
/// a drift (a neighbour's build starting, a CPU warming up) hits both alike.
pub const ABBA: [Side; 4] = [Side::A, Side::B, Side::B, Side::A];

/// The order of the two calls of interleaved pair `n`: A then B, B then A, alternating.
pub fn pair_order(n: usize) -> [Side; 2] {
    if n.is_multiple_of(2) {
        [Side::A, Side::B]
    } else {
        [Side::B, Side::A]
    }
}

/// Runs `rounds` ABBA rounds of `measure` and returns each round's `(A, B)`: the mean of the
/// two A runs and of the two B runs.
pub async fn abba_rounds<F>(rounds: usize, mut measure: F) -> crate::R<Vec<(f64, f64)>>
where
    F: AsyncFnMut(Side) -> crate::R<f64>,
{
    let mut out = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let (mut a, mut b) = (0.0, 0.0);
        for side in ABBA {
            let value = measure(side).await?;
            match side {
                Side::A => a += value / 2.0,
                Side::B => b += value / 2.0,
            }
        }
        out.push((a, b));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_ignores_nan_and_takes_the_lower_middle() {
        let s = Spread::of(&[3.0, f64::NAN, 1.0, 2.0, 10.0]);
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 10.0));
        assert!(Spread::of(&[f64::NAN]).median.is_nan());
        assert_eq!(Spread::of(&[5.0]), Spread::single(5.0));
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(nearest_rank(&v, 0.5), 50.0);
        assert_eq!(nearest_rank(&v, 0.99), 99.0);
        assert_eq!(nearest_rank(&v, 1.0), 100.0);
        assert!(nearest_rank(&[], 0.5).is_nan());
        let mut d = vec![Duration::from_micros(3), Duration::from_micros(1)];
        let p = Percentiles::of(&mut d);
        assert_eq!((p.p50, p.p99, p.mean), (1.0, 3.0, 2.0));
    }

    #[test]
    fn abba_gives_each_side_the_same_mean_position() {
        let position = |side| {
            ABBA.iter()
                .enumerate()
                .filter(|(_, s)| **s == side)
                .map(|(i, _)| i)
                .sum::<usize>()
        };
        assert_eq!(position(Side::A), position(Side::B));
        assert_eq!(pair_order(0), [Side::A, Side::B]);
        assert_eq!(pair_order(1), [Side::B, Side::A]);
    }

    #[tokio::test]
    async fn abba_rounds_average_each_side() {
        let mut t = 0.0;
        let rounds = abba_rounds(2, async |side| {
            t += 1.0;
            Ok(match side {
                Side::A => t,
                Side::B => -t,
            })
        })
        .await
        .unwrap();
        // Round 1: A at 1 and 4, B at 2 and 3; round 2: A at 5 and 8, B at 6 and 7.
        assert_eq!(rounds, vec![(2.5, -2.5), (6.5, -6.5)]);
    }
}
