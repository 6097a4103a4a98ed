//! Usage charts drawn on the server as SVG: requests per day stacked by
//! outcome, and a row's small sparkline. No script and no chart library;
//! each chart comes with the same numbers as a table (or a label) for
//! people who do not see it.

use crate::domain::usage::{Outcome, UsageSeries, day_label};

/// Plot area of the full chart, in SVG user units.
const WIDTH: i64 = 720;
const HEIGHT: i64 = 180;
const SPARK_WIDTH: i64 = 120;
const SPARK_HEIGHT: i64 = 24;

/// One rectangle: a day's count of one outcome.
#[derive(Debug, Clone)]
pub struct Rect {
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
    /// `outcome-success`, …: the stylesheet colours it.
    pub class: &'static str,
    /// The hover text: `2026-12-01: 12 rate limited`.
    pub title: String,
}

/// One day of the accessible table.
#[derive(Debug, Clone)]
pub struct DayRow {
    pub date: String,
    pub counts: Vec<i64>,
    pub total: i64,
}

#[derive(Debug, Clone)]
pub struct LegendItem {
    pub label: &'static str,
    pub class: &'static str,
    pub total: i64,
}

/// A stacked daily chart and its table.
#[derive(Debug, Clone)]
pub struct Chart {
    pub width: i64,
    pub height: i64,
    pub rects: Vec<Rect>,
    /// The largest day's total, the top of the scale.
    pub max: i64,
    pub total: i64,
    pub first_day: String,
    pub last_day: String,
    pub legend: Vec<LegendItem>,
    /// Newest day first.
    pub rows: Vec<DayRow>,
}

fn class_of(o: Outcome) -> &'static str {
    match o {
        Outcome::Success => "outcome-success",
        Outcome::Invalid => "outcome-invalid",
        Outcome::Expired => "outcome-expired",
        Outcome::Disabled => "outcome-disabled",
        Outcome::InsufficientScope => "outcome-insufficient-scope",
        Outcome::RateLimited => "outcome-rate-limited",
    }
}

/// Bars of `width` columns for each day, scaled so the largest day fills
/// `height`; a day with any count is at least one unit tall.
fn bars(series: &UsageSeries, width: i64, height: i64, stacked: bool) -> (Vec<Rect>, i64) {
    let days = series.days.len().max(1) as i64;
    let column = (width / days).max(1);
    let gap = if column > 3 { 1 } else { 0 };
    let max = series
        .days
        .iter()
        .map(|d| d.iter().sum::<i64>())
        .max()
        .unwrap_or(0);
    let mut rects = Vec::new();
    if max == 0 {
        return (rects, 0);
    }
    for (i, counts) in series.days.iter().enumerate() {
        let date = day_label(series.from_day + i as i64);
        let x = i as i64 * column;
        let mut top = height;
        let parts: Vec<(Outcome, i64)> = if stacked {
            Outcome::ALL
                .into_iter()
                .map(|o| (o, counts[o.index()]))
                .collect()
        } else {
            vec![(Outcome::Success, counts.iter().sum())]
        };
        for (outcome, count) in parts {
            if count == 0 {
                continue;
            }
            let h = (count * height / max).max(1);
            top -= h;
            rects.push(Rect {
                x,
                y: top.max(0),
                w: column - gap,
                h,
                class: if stacked { class_of(outcome) } else { "spark" },
                title: if stacked {
                    format!("{date}: {count} {}", outcome.label().to_lowercase())
                } else {
                    format!("{date}: {count} requests")
                },
            });
        }
    }
    (rects, max)
}

/// The full chart of a key's (or an application's) page.
pub fn chart(series: &UsageSeries) -> Chart {
    let (rects, max) = bars(series, WIDTH, HEIGHT, true);
    let last = series.from_day + series.days.len() as i64 - 1;
    Chart {
        width: WIDTH,
        height: HEIGHT,
        rects,
        max,
        total: series.all_outcomes_total(),
        first_day: day_label(series.from_day),
        last_day: day_label(last),
        legend: Outcome::ALL
            .into_iter()
            .map(|o| LegendItem {
                label: o.label(),
                class: class_of(o),
                total: series.total(o),
            })
            .collect(),
        rows: series
            .days
            .iter()
            .enumerate()
            .rev()
            .map(|(i, counts)| DayRow {
                date: day_label(series.from_day + i as i64),
                counts: counts.to_vec(),
                total: counts.iter().sum(),
            })
            .collect(),
    }
}

/// A table row's sparkline: every outcome's total per day.
#[derive(Debug, Clone)]
pub struct Sparkline {
    pub width: i64,
    pub height: i64,
    pub rects: Vec<Rect>,
    /// What it shows, for people who do not see it.
    pub label: String,
}

pub fn sparkline(series: &UsageSeries) -> Sparkline {
    let (rects, _) = bars(series, SPARK_WIDTH, SPARK_HEIGHT, false);
    let total = series.all_outcomes_total();
    let days = series.days.len();
    Sparkline {
        width: SPARK_WIDTH,
        height: SPARK_HEIGHT,
        rects,
        label: match total {
            1 => format!("1 request in the last {days} days"),
            n => format!("{n} requests in the last {days} days"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::usage::DailyCount;

    fn series() -> UsageSeries {
        let row = |day, outcome, count| DailyCount {
            subject: "k".into(),
            day,
            outcome,
            count,
        };
        UsageSeries::from_rows(
            0,
            29,
            &[
                row(0, Outcome::Success, 100),
                row(0, Outcome::RateLimited, 100),
                row(29, Outcome::Success, 1),
            ],
        )
    }

    #[test]
    fn the_largest_day_fills_the_chart_and_every_count_shows() {
        let c = chart(&series());
        assert_eq!((c.max, c.total), (200, 201));
        // Day 0: two stacked halves; day 29: one unit, not zero.
        assert_eq!(c.rects.len(), 3);
        assert_eq!((c.rects[0].y, c.rects[0].h), (90, 90));
        assert_eq!((c.rects[1].y, c.rects[1].h), (0, 90));
        assert_eq!(c.rects[1].class, "outcome-rate-limited");
        assert_eq!(c.rects[2].h, 1);
        assert_eq!(c.rects[2].x, 29 * 24);
        assert_eq!(c.rects[0].title, "1970-01-01: 100 success");
        // The table lists the newest day first, with the same numbers.
        assert_eq!(c.rows.len(), 30);
        assert_eq!(
            (c.rows[0].date.as_str(), c.rows[0].total),
            ("1970-01-30", 1)
        );
        assert_eq!(c.rows[29].counts[Outcome::RateLimited.index()], 100);
        assert_eq!(c.legend[0].total, 101);
    }

    #[test]
    fn no_use_draws_nothing() {
        let empty = UsageSeries::from_rows(0, 29, &[]);
        assert!(chart(&empty).rects.is_empty());
        assert!(sparkline(&empty).rects.is_empty());
        let s = sparkline(&series());
        assert_eq!(s.rects.len(), 2);
        assert_eq!(s.label, "201 requests in the last 30 days");
        assert_eq!(s.rects[0].h, SPARK_HEIGHT);
    }
}
