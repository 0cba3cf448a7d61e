//! URL decoding for query strings and path segments. Lenient on purpose: a malformed
//! escape is kept as written instead of failing, like most servers do.

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`, which holds in query
/// strings but not in paths). Invalid UTF-8 after decoding is replaced, never a panic.
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok().and_then(|h| u8::from_str_radix(h, 16).ok()));
                if let Some(b) = hex {
                    out.push(b);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `a=1&b=x+y` -> `[("a","1"), ("b","x y")]`, in order, duplicates kept. A pair without
/// `=` has an empty value; empty pieces (`a=1&&b=2`) are skipped.
pub(crate) fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// The first value of `key`, if any.
pub(crate) fn first<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_queries() {
        let q = parse_query("search=J%C3%BCrgen+M&limit=10&&flag&bad=%zz%4");
        assert_eq!(
            q,
            [
                ("search".into(), "Jürgen M".into()),
                ("limit".into(), "10".into()),
                ("flag".into(), String::new()),
                ("bad".into(), "%zz%4".into()),
            ]
        );
        assert_eq!(first(&q, "limit"), Some("10"));
        assert_eq!(first(&q, "page"), None);
        assert_eq!(percent_decode("a+b%2Fc", false), "a+b/c");
    }
}
