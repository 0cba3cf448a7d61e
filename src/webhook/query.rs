//! Query strings as browsers and HTTP clients write them
//! (`application/x-www-form-urlencoded`): `&`-separated pairs, `+` for a
//! space, `%XX` escapes decoded as UTF-8. A key given twice is refused: the
//! service cannot know which one was meant.

use crate::validate::printable;

/// The decoded `(key, value)` pairs in order, or what is wrong with them.
pub fn parse(query: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(key)?;
        if pairs.iter().any(|(k, _)| *k == key) {
            return Err(format!("{} is given more than once; give it once", printable(&key)));
        }
        pairs.push((key, decode(value)?));
    }
    Ok(pairs)
}

/// SCIM's query strings: as [`parse`], except that a literal `+` inside a
/// quoted filter value stays a `+`. Identity providers differ: some encode
/// a space as `+` and a plus as `%2B` (forms), others leave `+` as it is
/// (RFC 3986 gives it no meaning), and an email such as `ann+eng@x.io` must
/// survive both. Outside quotes `+` is still a space
/// (`userName+eq+%22ann+eng%40x.io%22`); inside them a space must be `%20`.
pub fn parse_scim(query: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(key)?;
        if pairs.iter().any(|(k, _)| *k == key) {
            return Err(format!("{} is given more than once; give it once", printable(&key)));
        }
        let value = if key.eq_ignore_ascii_case("filter") { decode_with(value, true)? } else { decode(value)? };
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// Percent-decodes one key or value.
fn decode(text: &str) -> Result<String, String> {
    decode_with(text, false)
}

/// Percent-decodes; with `quotes_keep_plus`, a `+` between JSON string
/// quotes (after decoding, escapes honoured) is kept.
fn decode_with(text: &str, quotes_keep_plus: bool) -> Result<String, String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    let (mut quoted, mut escaped) = (false, false);
    while let Some((&byte, tail)) = rest.split_first() {
        rest = tail;
        let before = bytes.len();
        match byte {
            b'+' if quotes_keep_plus && quoted => bytes.push(b'+'),
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = rest.get(..2).and_then(|h| std::str::from_utf8(h).ok());
                let value = hex
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("{} has a '%' that is not followed by two hex digits", printable(text)))?;
                bytes.push(value);
                rest = &rest[2..];
            }
            other => bytes.push(other),
        }
        if let Some(&decoded) = bytes.get(before) {
            match decoded {
                _ if escaped => escaped = false,
                b'\\' if quoted => escaped = true,
                b'"' => quoted = !quoted,
                _ => {}
            }
        }
    }
    String::from_utf8(bytes).map_err(|_| format!("{} does not decode to UTF-8", printable(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        parse(query).unwrap()
    }

    #[test]
    fn keys_and_values_are_percent_decoded_with_plus_as_space() {
        assert_eq!(
            pairs("strategy=%73ync&maxRemovalPercent=2%2E5&note=a+b%20c"),
            [
                ("strategy".into(), "sync".into()),
                ("maxRemovalPercent".into(), "2.5".into()),
                ("note".into(), "a b c".into())
            ]
        );
        assert_eq!(pairs("%61pply"), [("apply".to_owned(), String::new())]);
        assert_eq!(pairs("x=%C3%A9"), [("x".to_owned(), "é".to_owned())]);
        assert_eq!(pairs(""), []);
        assert_eq!(pairs("&&apply=1&"), [("apply".to_owned(), "1".to_owned())]);
    }

    #[test]
    fn a_key_given_twice_is_refused_even_when_spelled_differently() {
        assert!(parse("apply=1&apply=0").unwrap_err().contains("\"apply\" is given more than once"));
        assert!(parse("apply=1&%61pply=1").is_err());
    }

    #[test]
    fn scim_filters_keep_a_plus_inside_quotes_and_read_one_outside_as_a_space() {
        let filter = |query: &str| parse_scim(query).unwrap()[0].1.clone();
        assert_eq!(filter("filter=userName+eq+%22ann%2Beng%40x.io%22"), r#"userName eq "ann+eng@x.io""#);
        assert_eq!(filter("filter=userName%20eq%20%22ann+eng@x.io%22"), r#"userName eq "ann+eng@x.io""#);
        assert_eq!(filter("filter=userName+eq+\"a+b\\\"+c\"+and+x"), r#"userName eq "a+b\"+c" and x"#);
        assert_eq!(parse_scim("count=1+0").unwrap()[0].1, "1 0");
    }

    #[test]
    fn broken_escapes_are_refused() {
        for bad in ["x=%", "x=%4", "x=%zz", "x=%FF", "%C3=1"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
