//! Arbitrary bytes as a GitBook response body, through every parser the
//! client uses; and the pagination cursor driven by a fuzzer-chosen page
//! sequence.
//!
//! Properties: never panics; a parsed `Member` serializes and parses back to
//! itself; a parsed page keeps its fields when written back; a counter is a
//! whole number; `error_message` is the body's non-blank `error.message`.
//! The cursor must end or fail within 20,000 pages whatever the server sends
//! (repeated tokens, lying counts, empty pages), and must follow its
//! documented rules exactly.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use fuzz_support::known_finding;
use gitbook_directory_sync::gitbook::model::{error_message, InviteResult, Member, Page, Team, TeamMember};
use gitbook_directory_sync::gitbook::pagination::Cursor;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use std::collections::HashSet;

fuzz_target!(|data: &[u8]| {
    let value = serde_json::from_slice::<Value>(data).ok();
    bodies(data, value.as_ref());
    // Bytes that are not JSON also drive a page walk (JSON bodies do not, so
    // the cheap body parsers get most of the executions).
    if value.is_none() {
        if let Ok(walk) = Walk::arbitrary_take_rest(Unstructured::new(data)) {
            walk.run();
        }
    }
});

fn bodies(body: &[u8], value: Option<&Value>) {
    if let Ok(member) = serde_json::from_slice::<Member>(body) {
        check_member(&member);
    }
    if let Ok(page) = serde_json::from_slice::<Page<Member>>(body) {
        page.items.iter().for_each(check_member);
        if let Some(count) = page.count {
            assert!(count < 9_000_000_000_000_000, "count {count}");
        }
        // Written back in the API's shape, the page reads the same.
        let written = json!({
            "items": page.items,
            "count": page.count,
            "next": page.next.as_ref().map(|n| json!({"page": n.page})),
        });
        let again: Page<Member> = serde_json::from_value(written).expect("a written page must parse");
        assert_eq!(again.items, page.items);
        assert_eq!(again.count, page.count);
        assert_eq!(again.next.map(|n| n.page), page.next.map(|n| n.page));
    }
    if let Ok(page) = serde_json::from_slice::<Page<Team>>(body) {
        for team in &page.items {
            let again: Team = serde_json::from_value(serde_json::to_value(team).unwrap()).unwrap();
            assert_eq!(&again, team);
        }
    }
    if let Ok(page) = serde_json::from_slice::<Page<TeamMember>>(body) {
        page.items.iter().for_each(|m| check_member(&m.organization));
    }
    if let Ok(result) = serde_json::from_slice::<InviteResult>(body) {
        let written =
            json!({"users": result.user_ids, "invited": result.invited, "failedSSOEmails": result.failed_sso_emails});
        let again: InviteResult = serde_json::from_value(written).expect("a written invite result must parse");
        assert_eq!(again, result);
    }
    if let Some(message) = error_message(body) {
        assert!(!message.trim().is_empty());
        let value = value.expect("error_message read a body that is not JSON");
        assert_eq!(value["error"]["message"].as_str(), Some(message.as_str()), "error_message invented a message");
    }
}

fn check_member(member: &Member) {
    let written = serde_json::to_vec(member).expect("serialize member");
    let again: Member = serde_json::from_slice(&written).expect("a serialized member must parse");
    assert_eq!(&again, member, "member round trip");
}

// ---- pagination ------------------------------------------------------------

/// Pages a (possibly hostile) server returns, replayed in a loop.
#[derive(Arbitrary, Debug)]
struct Walk {
    limit: u32,
    pages: Vec<PageShape>,
}

#[derive(Arbitrary, Debug)]
struct PageShape {
    items: u16,
    count: Option<u64>,
    next: Token,
}

#[derive(Arbitrary, Debug)]
enum Token {
    /// The last page.
    End,
    /// One of a few tokens: repeats.
    Pool(u8),
    /// A token never seen before.
    Fresh,
}

const MAX_STEPS: u64 = 20_000;

impl Walk {
    fn run(&self) {
        if self.pages.is_empty() {
            return;
        }
        // The client always asks for MAX_PAGE_LIMIT (1000); any 1..=1000 is realistic.
        let requested = self.limit % 1000 + 1;
        let limit = u64::from(requested);
        let mut cursor = Cursor::new(requested);
        assert_eq!(cursor.next_page(), Some(None), "a walk starts at the first page");
        // The documented rules, modelled independently.
        let (mut seen, mut items, mut count, mut steps) = (HashSet::new(), 0u64, None::<u64>, 0u64);
        for (step, shape) in self.pages.iter().cycle().enumerate() {
            if steps >= MAX_STEPS {
                known_finding!(
                    false,
                    "pagination did not end within {MAX_STEPS} pages: limit {requested}, largest count {count:?}, {items} items so far, first pages {:?}",
                    &self.pages[..self.pages.len().min(3)]
                );
                return;
            }
            steps += 1;
            // A server reports counts as JSON numbers below 9e15 (see model::optional_count).
            let page_count = shape.count.map(|c| c % 9_000_000_000_000_000);
            let token = match shape.next {
                Token::End => None,
                Token::Pool(n) => Some(format!("p{}", n % 8)),
                Token::Fresh => Some(format!("f{step}")),
            };
            let page_items = u64::from(shape.items % 1001);
            items += page_items;
            count = count.max(page_count);
            let expected = match &token {
                None => Ok(true),
                Some(t) if !seen.insert(t.clone()) => Err("same next-page cursor twice"),
                Some(_) if page_items == 0 => Err("was empty"),
                Some(_) => match count {
                    Some(c) if items >= c + limit => Err("reported"),
                    _ if steps >= 10_000 => Err("without an end"),
                    _ => Ok(false),
                },
            };
            let result = cursor.advance(page_items as usize, page_count, token.clone());
            assert_eq!(cursor.pages(), steps);
            match (expected, result) {
                (Ok(true), Ok(())) => {
                    assert_eq!(cursor.next_page(), None, "the walk must be over after a page without next");
                    return;
                }
                (Ok(false), Ok(())) => assert_eq!(cursor.next_page(), Some(token.as_deref())),
                (Err(why), Err(message)) => {
                    assert!(message.contains(why), "expected an error about {why:?}, got {message:?}");
                    return;
                }
                (expected, result) => panic!("step {steps}: expected {expected:?}, got {result:?}"),
            }
        }
    }
}
