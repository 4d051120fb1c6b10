//! Reading a catalog bigger than one search serves. TikTok's product search stops at 10,000
//! results of one filter (12052180), so a read that reaches the cap goes on in `update_time`
//! windows, each halved until it fits, read oldest first. The newest window stays open-ended,
//! so a product updated during the read moves into a window still to be read and is not lost.
//! The catalog cursor is a [`Position`]: the windows left, the page token inside the first, and
//! the cap learned so far.

use serde::{Deserialize, Serialize};

/// The most results TikTok's product search serves for one filter (tiktok-api.md §6.1).
pub(crate) const SEARCH_RESULT_CAP: u64 = 10_000;

/// A range of `update_time`, Unix seconds, both ends included; `le: None` is open-ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Window {
    pub(crate) ge: i64,
    pub(crate) le: Option<i64>,
}

impl Window {
    /// Every product: the search without a time filter.
    pub(crate) const ALL: Window = Window { ge: 0, le: None };

    /// The older and the newer half, or `None` for a window of one second. `now` stands in
    /// for the end of an open-ended window; the newer half stays open-ended.
    pub(crate) fn halves(self, now: i64) -> Option<(Window, Window)> {
        let end = self.le.unwrap_or(now);
        if end <= self.ge {
            return None;
        }
        let mid = self.ge + (end - self.ge) / 2;
        Some((
            Window {
                ge: self.ge,
                le: Some(mid),
            },
            Window {
                ge: mid + 1,
                le: self.le,
            },
        ))
    }
}

/// A cursor that this adapter did not hand out.
#[derive(Debug, thiserror::Error)]
#[error("not a TikTok catalog cursor of this adapter: {cursor:?}")]
pub(crate) struct UnknownCursor {
    cursor: String,
    #[source]
    source: serde_json::Error,
}

/// Where a catalog read stands: the cursor between pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Position {
    /// Windows still to read, oldest first; the first is being read. Never empty.
    #[serde(rename = "w")]
    windows: Vec<Window>,
    /// TikTok's page token inside the first window; none on its first page.
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    pub(crate) token: Option<String>,
    /// Products of the first window read so far.
    #[serde(rename = "n", default)]
    read: u64,
    /// The most results one search serves, as far as the read has learned.
    #[serde(rename = "cap")]
    pub(crate) cap: u64,
}

impl Position {
    /// The first page of the whole catalog.
    pub(crate) fn start() -> Self {
        Position {
            windows: vec![Window::ALL],
            token: None,
            read: 0,
            cap: SEARCH_RESULT_CAP,
        }
    }

    /// The position a cursor names; `None` is the start.
    pub(crate) fn from_cursor(cursor: Option<&str>) -> Result<Self, UnknownCursor> {
        let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
            return Ok(Position::start());
        };
        serde_json::from_str::<Position>(cursor)
            .map_err(|source| UnknownCursor {
                cursor: cursor.to_owned(),
                source,
            })
            .and_then(|p| {
                if p.windows.is_empty() {
                    let source: serde_json::Error = serde::de::Error::custom("no window left");
                    Err(UnknownCursor {
                        cursor: cursor.to_owned(),
                        source,
                    })
                } else {
                    Ok(p)
                }
            })
    }

    pub(crate) fn to_cursor(&self) -> String {
        serde_json::to_string(self).expect("a position always serialises")
    }

    /// The window being read.
    pub(crate) fn window(&self) -> Window {
        self.windows[0]
    }

    /// Whether the read has split the catalog into windows.
    pub(crate) fn windowed(&self) -> bool {
        self.windows[0] != Window::ALL
    }

    /// After a page of `products`: the next page of this window when TikTok gave a token, else
    /// the first page of the next window; `None` when nothing is left.
    pub(crate) fn advance(mut self, next_token: Option<String>, products: u64) -> Option<Self> {
        match next_token {
            Some(token) => {
                self.token = Some(token);
                self.read += products;
            }
            None => {
                self.windows.remove(0);
                self.token = None;
                self.read = 0;
            }
        }
        (!self.windows.is_empty()).then_some(self)
    }

    /// TikTok refused the page after the products read so far: it serves at most that many
    /// (when it served any).
    pub(crate) fn learn_cap(&mut self) {
        if self.read > 0 {
            self.cap = self.cap.min(self.read);
        }
    }

    /// Replaces the window being read by its halves and starts again at the older one; what
    /// was read of it is read again. `false` when the window is one second.
    pub(crate) fn split(&mut self, now: i64) -> bool {
        let Some((older, newer)) = self.window().halves(now) else {
            return false;
        };
        self.windows.splice(0..1, [older, newer]);
        self.token = None;
        self.read = 0;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_cover_the_window_without_overlap_and_keep_the_newest_open() {
        let (older, newer) = Window::ALL.halves(1_000).unwrap();
        assert_eq!(
            older,
            Window {
                ge: 0,
                le: Some(500)
            }
        );
        assert_eq!(newer, Window { ge: 501, le: None });
        let (older, newer) = Window {
            ge: 10,
            le: Some(11),
        }
        .halves(1_000)
        .unwrap();
        assert_eq!((older.le, newer.ge), (Some(10), 11));
        assert_eq!(Window { ge: 7, le: Some(7) }.halves(1_000), None);
        assert_eq!(
            Window {
                ge: 1_000,
                le: None
            }
            .halves(1_000),
            None
        );
    }

    #[test]
    fn a_split_reads_the_older_half_first_then_the_newer_then_the_rest() {
        let mut at = Position::start();
        assert!(!at.windowed());
        at = at.advance(Some("p2".into()), 50).unwrap();
        at.learn_cap();
        assert_eq!(at.cap, 50);
        assert!(at.split(100));
        assert!(at.windowed());
        assert_eq!(
            (at.token.as_deref(), at.window()),
            (
                None,
                Window {
                    ge: 0,
                    le: Some(50)
                }
            )
        );
        assert!(at.split(100));
        let mut seen = vec![at.window()];
        while let Some(next) = at.advance(None, 3) {
            at = next;
            seen.push(at.window());
        }
        let ends: Vec<(i64, Option<i64>)> = seen.iter().map(|w| (w.ge, w.le)).collect();
        assert_eq!(ends, vec![(0, Some(25)), (26, Some(50)), (51, None)]);
    }

    #[test]
    fn a_cursor_round_trips_and_a_foreign_one_is_refused() {
        let mut at = Position::start();
        at.split(1_700_000_000);
        let at = at.advance(Some("tok+/=".into()), 100).unwrap();
        let cursor = at.to_cursor();
        assert_eq!(Position::from_cursor(Some(&cursor)).unwrap(), at);
        assert_eq!(Position::from_cursor(None).unwrap(), Position::start());
        assert!(Position::from_cursor(Some("b2Zmc2V0PTEw")).is_err());
        assert!(Position::from_cursor(Some(r#"{"w":[],"cap":1}"#)).is_err());
    }

    #[test]
    fn the_cap_is_learned_only_from_a_refusal_after_some_products() {
        let mut at = Position::start();
        at.learn_cap();
        assert_eq!(at.cap, SEARCH_RESULT_CAP);
        let mut at = at.advance(Some("t".into()), 9_000).unwrap();
        let mut at2 = at.clone().advance(Some("u".into()), 1_000).unwrap();
        at2.learn_cap();
        assert_eq!(at2.cap, 10_000);
        at.learn_cap();
        assert_eq!(at.cap, 9_000);
    }
}
