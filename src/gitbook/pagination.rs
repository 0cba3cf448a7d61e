//! Following `next.page` cursors without trusting them: a cursor seen twice,
//! an empty page that points to another, or more items than the reported
//! `count` can justify stops the walk with an error instead of looping or
//! returning a list that silently misses people.

use std::collections::HashSet;

/// Where a walk over pages stands.
#[derive(Debug)]
pub struct Cursor {
    /// `None` once the last page was read.
    next: Option<Option<String>>,
    seen: HashSet<String>,
    pages: u64,
    items: u64,
    /// The largest `count` any page reported.
    count: Option<u64>,
    limit: u64,
}

/// Whatever `count` says, no walk goes past this many pages (10M items at
/// 1000 a page): a server reporting an absurd count cannot keep it going.
const MAX_PAGES: u64 = 10_000;

impl Cursor {
    pub fn new(limit: u32) -> Cursor {
        Cursor {
            next: Some(None),
            seen: HashSet::new(),
            pages: 0,
            items: 0,
            count: None,
            limit: u64::from(limit.max(1)),
        }
    }

    /// The page token to ask for next: `Some(None)` for the first page,
    /// `None` when the walk is complete.
    pub fn next_page(&self) -> Option<Option<&str>> {
        self.next.as_ref().map(Option::as_deref)
    }

    /// Records a received page; an error says why the walk cannot go on.
    pub fn advance(&mut self, items: usize, count: Option<u64>, next: Option<String>) -> Result<(), String> {
        self.pages += 1;
        self.items += items as u64;
        self.count = self.count.max(count);
        let Some(token) = next else {
            self.next = None;
            return Ok(());
        };
        if !self.seen.insert(token.clone()) {
            return Err(format!(
                "GitBook returned the same next-page cursor twice (after {} pages); stopped instead of looping",
                self.pages
            ));
        }
        if items == 0 {
            return Err(format!(
                "page {} was empty yet pointed to another page; stopped instead of looping",
                self.pages
            ));
        }
        match self.count {
            // Members may join during the walk, so allow one page beyond the
            // count before calling it a lie.
            Some(count) if self.items >= count + self.limit => {
                return Err(format!(
                    "GitBook reported {count} items but kept sending pages after {} items; \
                     stopped instead of looping",
                    self.items
                ));
            }
            _ if self.pages >= MAX_PAGES => {
                return Err(format!("stopped after {} pages without an end", self.pages));
            }
            _ => {}
        }
        self.next = Some(Some(token));
        Ok(())
    }

    pub fn pages(&self) -> u64 {
        self.pages
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_until_a_page_has_no_next() {
        let mut cursor = Cursor::new(1000);
        assert_eq!(cursor.next_page(), Some(None));
        cursor.advance(1000, Some(2345), Some("p2".into())).unwrap();
        assert_eq!(cursor.next_page(), Some(Some("p2")));
        cursor.advance(1000, Some(2345), Some("p3".into())).unwrap();
        cursor.advance(345, Some(2345), None).unwrap();
        assert_eq!(cursor.next_page(), None);
        assert_eq!(cursor.pages(), 3);
    }

    #[test]
    fn a_cursor_seen_twice_stops_the_walk() {
        let mut cursor = Cursor::new(10);
        cursor.advance(10, Some(100), Some("a".into())).unwrap();
        cursor.advance(10, Some(100), Some("b".into())).unwrap();
        let error = cursor.advance(10, Some(100), Some("a".into())).unwrap_err();
        assert!(error.contains("same next-page cursor twice"), "{error}");
    }

    #[test]
    fn a_lying_count_stops_the_walk() {
        let mut cursor = Cursor::new(10);
        let mut result = Ok(());
        for page in 0..10 {
            result = cursor.advance(10, Some(25), Some(format!("p{page}")));
            if result.is_err() {
                break;
            }
        }
        assert!(result.unwrap_err().contains("reported 25 items"));
        assert!(cursor.pages() <= 4);
    }

    #[test]
    fn an_absurd_count_does_not_keep_the_walk_going() {
        let mut cursor = Cursor::new(1000);
        let mut result = Ok(());
        for page in 0..20_000 {
            result = cursor.advance(1, Some(8_000_000_000_000_000), Some(format!("p{page}")));
            if result.is_err() {
                break;
            }
        }
        assert!(result.is_err());
        assert_eq!(cursor.pages(), MAX_PAGES);
    }

    #[test]
    fn an_empty_page_with_a_next_cursor_stops_the_walk() {
        let mut cursor = Cursor::new(10);
        assert!(cursor.advance(0, None, Some("x".into())).is_err());
    }

    #[test]
    fn a_server_with_smaller_pages_than_asked_is_fine() {
        let mut cursor = Cursor::new(1000);
        for page in 0..23 {
            cursor.advance(100, Some(2345), Some(format!("p{page}"))).unwrap();
        }
        cursor.advance(45, Some(2345), None).unwrap();
        assert_eq!(cursor.next_page(), None);
    }
}
