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

/// Percent-decodes one key or value.
fn decode(text: &str) -> Result<String, String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        rest = tail;
        match byte {
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
    fn broken_escapes_are_refused() {
        for bad in ["x=%", "x=%4", "x=%zz", "x=%FF", "%C3=1"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
