//! Keyboard and screen-reader basics, checked in the real browser on every
//! page a browser test visits: each field has a label, each button and link
//! a name, headings start at h1 and never skip a level, and text meets WCAG
//! 2.1 AA contrast (4.5:1, or 3:1 for large text) against the background it
//! is drawn on.

use serde_json::Value;

use super::chromium::Session;

const CHECK: &str = r#"
const problems = [];
const visible = (el) => {
  const s = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  return s.visibility !== 'hidden' && s.display !== 'none' && r.width > 0 && r.height > 0;
};
const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
  ' "' + (el.textContent || '').trim().slice(0, 40) + '"';
for (const el of document.querySelectorAll('input, select, textarea')) {
  if (el.type === 'hidden' || !visible(el)) continue;
  const named = el.labels.length > 0 || el.getAttribute('aria-label') ||
    el.getAttribute('aria-labelledby');
  if (!named) problems.push('field without a label: ' + describe(el));
}
for (const el of document.querySelectorAll('button, a[href], [role=button]')) {
  if (!visible(el)) continue;
  const name = (el.getAttribute('aria-label') || el.textContent || '').trim();
  if (!name) problems.push('control without a name: ' + describe(el));
}
let last = 0;
for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
  if (!visible(h)) continue;
  const level = Number(h.tagName[1]);
  if (last === 0 && level !== 1) problems.push('the first heading is not h1: ' + describe(h));
  if (last !== 0 && level > last + 1) problems.push('heading skips a level: ' + describe(h));
  last = level;
}
const rgb = (c) => {
  const m = c.match(/rgba?\(([^)]+)\)/);
  if (!m) return null;
  const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
  return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
};
const lum = (c) => {
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
};
const background = (el) => {
  for (let e = el; e; e = e.parentElement) {
    const c = rgb(getComputedStyle(e).backgroundColor);
    if (c && c.a > 0.5) return c;
  }
  return { r: 255, g: 255, b: 255, a: 1 };
};
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
const seen = new Set();
while (walker.nextNode()) {
  const el = walker.currentNode.parentElement;
  if (!walker.currentNode.textContent.trim() || seen.has(el) || !visible(el)) continue;
  if (el.closest('dialog:not([open])')) continue;
  seen.add(el);
  const s = getComputedStyle(el);
  const fg = rgb(s.color);
  if (!fg) continue;
  const bg = background(el);
  const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
  const ratio = (hi + 0.05) / (lo + 0.05);
  const size = parseFloat(s.fontSize);
  const large = size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700);
  if (ratio < (large ? 3 : 4.5)) {
    problems.push('contrast ' + ratio.toFixed(2) + ':1 for ' + describe(el));
  }
}
return problems;
"#;

/// What the check finds on the current page.
pub async fn problems(b: &Session) -> Vec<String> {
    match b.script(CHECK, Vec::new()).await {
        Value::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        other => panic!("the accessibility check returned {other}"),
    }
}

/// Panics listing every problem on the current page.
pub async fn assert_accessible(b: &Session, page: &str) {
    let problems = problems(b).await;
    assert!(problems.is_empty(), "{page}: {problems:#?}");
}
