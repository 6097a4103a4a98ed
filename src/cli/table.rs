//! Text output for people: a header row and columns padded to fit.

use serde_json::Value;

pub struct Table<const N: usize> {
    header: [String; N],
    rows: Vec<[String; N]>,
}

impl<const N: usize> Table<N> {
    pub fn new(header: [&str; N]) -> Self {
        Self {
            header: header.map(str::to_owned),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: [String; N]) {
        self.rows.push(cells);
    }

    /// The lines, each without trailing spaces; a lone header when there
    /// are no rows, so that an empty list still says what it would hold.
    pub fn lines(&self) -> Vec<String> {
        let mut widths = [0; N];
        for row in std::iter::once(&self.header).chain(&self.rows) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        std::iter::once(&self.header)
            .chain(&self.rows)
            .map(|row| {
                let mut line = String::new();
                for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
                    if i > 0 {
                        line.push_str("  ");
                    }
                    line.push_str(cell);
                    if i + 1 < N {
                        line.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
                    }
                }
                line.trim_end().to_owned()
            })
            .collect()
    }

    pub fn print(&self) {
        for line in self.lines() {
            println!("{line}");
        }
    }
}

/// A JSON value as a cell: strings as they are, null as `-`.
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "-".to_owned(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pads_columns_to_the_widest_cell_under_a_header() {
        let mut t = Table::new(["ID", "NAME"]);
        t.row(["a1".into(), "demo".into()]);
        t.row(["b-long".into(), text(&json!(null))]);
        assert_eq!(t.lines(), ["ID      NAME", "a1      demo", "b-long  -"]);
        assert_eq!(Table::new(["ID", "NAME"]).lines(), ["ID  NAME"]);
        assert_eq!(text(&json!(["a", "b"])), "a,b");
        assert_eq!(text(&json!(3)), "3");
    }
}
