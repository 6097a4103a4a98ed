//! Usage analytics: what became of each use of an API key or an
//! application's credentials, counted per UTC day.

use crate::clock::UnixTime;

/// What became of one presentation of a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Accepted (for an application: a token issued).
    Success,
    /// The credential was recognised (its prefix, or the application key)
    /// but the secret was wrong.
    Invalid,
    Expired,
    /// Deactivated or revoked.
    Disabled,
    /// Accepted, but the request needed a scope the credential lacks.
    InsufficientScope,
    RateLimited,
}

impl Outcome {
    /// Every outcome, in the order charts stack them (success at the bottom).
    pub const ALL: [Outcome; 6] = [
        Outcome::Success,
        Outcome::Invalid,
        Outcome::Expired,
        Outcome::Disabled,
        Outcome::InsufficientScope,
        Outcome::RateLimited,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Invalid => "invalid",
            Outcome::Expired => "expired",
            Outcome::Disabled => "disabled",
            Outcome::InsufficientScope => "insufficient_scope",
            Outcome::RateLimited => "rate_limited",
        }
    }

    /// How a person reads it.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Success => "Success",
            Outcome::Invalid => "Wrong secret",
            Outcome::Expired => "Expired",
            Outcome::Disabled => "Deactivated or revoked",
            Outcome::InsufficientScope => "Insufficient scope",
            Outcome::RateLimited => "Rate limited",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Days since 1970-01-01 in UTC: the day `t` falls in.
pub fn day_of(t: UnixTime) -> i64 {
    t.div_euclid(86_400)
}

/// The first second of `day`.
pub fn day_start(day: i64) -> UnixTime {
    day * 86_400
}

/// `YYYY-MM-DD` of a day number.
pub fn day_label(day: i64) -> String {
    crate::clock::rfc3339(day_start(day))
        .get(..10)
        .unwrap_or_default()
        .to_owned()
}

/// Parses `YYYY-MM-DD` (or an RFC 3339 time, taking its UTC day).
pub fn parse_day(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Some(day_of(t.unix_timestamp()));
    }
    if s.len() != 10 {
        return None;
    }
    let t = time::OffsetDateTime::parse(&format!("{s}T00:00:00Z"), &Rfc3339).ok()?;
    Some(day_of(t.unix_timestamp()))
}

/// One row of the daily counts: `count` uses of `subject` (an API key id
/// or a client id) on `day` ended in `outcome`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyCount {
    pub subject: String,
    pub day: i64,
    pub outcome: Outcome,
    pub count: i64,
}

/// Counts per day and outcome over a range of days, zeros included: what
/// the charts, the tables and the API show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageSeries {
    pub from_day: i64,
    /// `days[i][outcome.index()]` for day `from_day + i`.
    pub days: Vec<[i64; 6]>,
}

impl UsageSeries {
    /// The series of `from_day..=to_day` from stored rows (of one subject,
    /// or summed over several).
    pub fn from_rows(from_day: i64, to_day: i64, rows: &[DailyCount]) -> Self {
        let len = usize::try_from(to_day - from_day + 1).unwrap_or(0);
        let mut days = vec![[0i64; 6]; len];
        for r in rows {
            if let Some(slot) = usize::try_from(r.day - from_day)
                .ok()
                .and_then(|i| days.get_mut(i))
            {
                slot[r.outcome.index()] += r.count;
            }
        }
        Self { from_day, days }
    }

    pub fn total(&self, outcome: Outcome) -> i64 {
        self.days.iter().map(|d| d[outcome.index()]).sum()
    }

    pub fn all_outcomes_total(&self) -> i64 {
        self.days.iter().flatten().sum()
    }

    /// The API's shape: one object per day with every outcome, and totals.
    pub fn to_json(&self) -> serde_json::Value {
        let day = |i: usize, counts: &[i64; 6]| {
            let mut o = serde_json::Map::new();
            o.insert("date".into(), day_label(self.from_day + i as i64).into());
            for outcome in Outcome::ALL {
                o.insert(outcome.as_str().into(), counts[outcome.index()].into());
            }
            serde_json::Value::Object(o)
        };
        let mut totals = serde_json::Map::new();
        for outcome in Outcome::ALL {
            totals.insert(outcome.as_str().into(), self.total(outcome).into());
        }
        serde_json::json!({
            "from": day_label(self.from_day),
            "to": day_label(self.from_day + self.days.len() as i64 - 1),
            "days": self.days.iter().enumerate().map(|(i, c)| day(i, c)).collect::<Vec<_>>(),
            "totals": totals,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_follow_utc_midnight() {
        assert_eq!(day_of(0), 0);
        assert_eq!(day_of(86_399), 0);
        assert_eq!(day_of(86_400), 1);
        assert_eq!(day_of(-1), -1);
        assert_eq!(day_label(day_of(1_800_000_000)), "2027-01-15");
        assert_eq!(parse_day("2027-01-15"), Some(day_of(1_800_000_000)));
        assert_eq!(
            parse_day("2027-01-15T23:59:59Z"),
            Some(day_of(1_800_000_000))
        );
        assert_eq!(
            parse_day("2027-01-16T00:30:00+01:00"),
            Some(day_of(1_800_000_000))
        );
        assert_eq!(parse_day("15/01/2027"), None);
        assert_eq!(parse_day(""), None);
    }

    #[test]
    fn a_series_has_every_day_and_sums_rows() {
        let row = |day, outcome, count| DailyCount {
            subject: "k".into(),
            day,
            outcome,
            count,
        };
        let s = UsageSeries::from_rows(
            10,
            12,
            &[
                row(10, Outcome::Success, 3),
                row(12, Outcome::RateLimited, 2),
                row(12, Outcome::RateLimited, 1),
                row(9, Outcome::Success, 100),
                row(13, Outcome::Success, 100),
            ],
        );
        assert_eq!(s.days.len(), 3);
        assert_eq!(s.days[0][Outcome::Success.index()], 3);
        assert_eq!(s.days[1], [0; 6]);
        assert_eq!(s.days[2][Outcome::RateLimited.index()], 3);
        assert_eq!(s.all_outcomes_total(), 6);
        let j = s.to_json();
        assert_eq!(j["days"][2]["rate_limited"], 3);
        assert_eq!(j["days"][0]["date"], day_label(10));
        assert_eq!(j["totals"]["success"], 3);
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
    }
}
