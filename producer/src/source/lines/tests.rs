//! The line reader: bad lines between good ones, documents over many lines, size limits, and
//! work linear in the input whatever it holds.

use proptest::prelude::*;

use super::*;

fn read_all(input: &[u8], max: usize) -> (Vec<(u64, Item)>, ReadStats) {
    // Room for every item: the reader blocks on a full channel and nothing drains it here.
    let (tx, mut rx) = tokio::sync::mpsc::channel(input.len() + 16);
    let stats = read(input, "test".into(), max, &tx, &Shutdown::new(), &indicatif::ProgressBar::hidden())
        .expect("read");
    drop(tx);
    let mut out = Vec::new();
    while let Ok(Msg::Records(records)) = rx.try_recv() {
        out.extend(records.items);
    }
    (out, stats)
}

fn classes(items: &[(u64, Item)]) -> Vec<(u64, String)> {
    items
        .iter()
        .map(|(n, i)| match i {
            Item::Tweet(t) => (*n, format!("tweet:{}", t.id)),
            Item::Control(k) => (*n, format!("control:{k}")),
            Item::Delete(id) => (*n, format!("delete:{id}")),
            Item::Reject(r) => (*n, format!("reject:{}", r.class.as_str())),
        })
        .collect()
}

#[test]
fn json_lines_with_bad_lines_between_good_ones() {
    let input = b"{\"data\":{\"id\":\"1\",\"text\":\"a\"}}\r\n\
        {\"data\":{\"id\":\"2\",\"te\n\
        \r\n\
        {\"data\":{\"id\":\"3\",\"text\":\"c\"}}\n\
        \xff\xfe\n\
        {\"data\":{\"id\":\"4\",\"text\":\"d\"}}";
    let (items, stats) = read_all(input, 1 << 20);
    assert_eq!(
        classes(&items),
        [
            (1, "tweet:1".to_owned()),
            (2, "reject:invalid_json".to_owned()),
            (3, "control:keep_alive".to_owned()),
            (4, "tweet:3".to_owned()),
            (5, "reject:invalid_utf8".to_owned()),
            (6, "tweet:4".to_owned()),
        ]
    );
    assert_eq!(stats.lines, 6);
    match &items[1].1 {
        Item::Reject(r) => assert_eq!(r.payload.as_deref(), Some(&b"{\"data\":{\"id\":\"2\",\"te"[..])),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_pretty_printed_document_is_one_input() {
    let doc = serde_json::to_string_pretty(&serde_json::json!({
        "data": [{"id": "10", "text": "x"}, {"id": "11", "text": "y"}],
        "meta": {"result_count": 2}
    }))
    .expect("json");
    let (items, stats) = read_all(doc.as_bytes(), 1 << 20);
    assert_eq!(classes(&items), [(1, "tweet:10".to_owned()), (1, "tweet:11".to_owned())]);
    assert_eq!(stats.lines as usize, doc.lines().count());
}

#[test]
fn oversized_lines_are_rejected_and_reading_goes_on() {
    let mut input = vec![b'{'; 5000];
    input.extend_from_slice(b"\n{\"data\":{\"id\":\"7\",\"text\":\"ok\"}}\n");
    let (items, _) = read_all(&input, 1000);
    assert_eq!(classes(&items), [(1, "reject:oversized".to_owned()), (2, "tweet:7".to_owned())]);
}

/// Bytes the parsers may examine per input byte: a line is scanned once, parsed alone at most
/// twice (with the stream-line probe), and parsed within a document at most once.
const WORK_PER_BYTE: u64 = 10;

fn assert_linear(input: &[u8], stats: &ReadStats) {
    assert!(
        stats.examined <= WORK_PER_BYTE * input.len() as u64,
        "examined {} bytes for {} bytes of input",
        stats.examined,
        input.len()
    );
}

#[test]
fn unterminated_openers_cost_linear_work_and_each_is_rejected() {
    // Before the joiner, each of these lines tried to join every line after it: 80 000 of them
    // took 38 s of CPU. Here 20 000 is plenty to show the work is linear.
    let input = "[\n".repeat(20_000);
    let (items, stats) = read_all(input.as_bytes(), 1 << 20);
    assert_linear(input.as_bytes(), &stats);
    assert_eq!(stats.lines, 20_000);
    assert_eq!(items.len(), 20_000);
    assert!(items.iter().all(|(_, i)| matches!(i, Item::Reject(r) if r.class.as_str() == "invalid_json")));
}

#[test]
fn nested_documents_that_all_fail_cost_linear_work() {
    let mut input = "[\n".repeat(5_000);
    input.push_str(&"]x\n".repeat(5_000));
    let (items, stats) = read_all(input.as_bytes(), 1 << 20);
    assert_linear(input.as_bytes(), &stats);
    assert_eq!(items.len(), 10_000, "every line is dead-lettered on its own");
}

#[test]
fn a_document_after_an_unfinished_line_is_still_joined() {
    let doc =
        serde_json::to_string_pretty(&serde_json::json!({"data": {"id": "12", "text": "y"}})).expect("json");
    let input = format!("{{\"data\": [\n{doc}\n{{\"data\":{{\"id\":\"13\",\"text\":\"z\"}}}}\n");
    let (items, _) = read_all(input.as_bytes(), 1 << 20);
    let doc_lines = doc.lines().count() as u64;
    assert_eq!(
        classes(&items),
        [
            (1, "reject:invalid_json".to_owned()),
            (2, "tweet:12".to_owned()),
            (2 + doc_lines, "tweet:13".to_owned())
        ]
    );
}

#[test]
fn a_document_larger_than_the_limit_is_given_up_and_what_fits_inside_is_kept() {
    let doc = serde_json::to_string_pretty(&serde_json::json!({
        "data": [{"id": "10", "text": "x".repeat(300)}, {"id": "11", "text": "y".repeat(300)}]
    }))
    .expect("json");
    let (items, _) = read_all(doc.as_bytes(), 400);
    assert!(matches!(&items[0], (1, Item::Reject(_))), "{:?}", classes(&items));
    // Each tweet object fits on its own, so it is joined and kept; the page around it is not.
    let tweets: Vec<_> = classes(&items).into_iter().filter(|(_, c)| c.starts_with("tweet")).collect();
    assert_eq!(tweets, [(3, "tweet:10".to_owned()), (7, "tweet:11".to_owned())]);
}

/// Lines a hostile or broken file may hold, in any order.
fn hostile_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[".to_owned()),
        Just("{".to_owned()),
        Just("]".to_owned()),
        Just("}".to_owned()),
        Just("},".to_owned()),
        Just("{\"a\": [".to_owned()),
        Just("\"x\": 1,".to_owned()),
        Just("\"data\": {\"id\": \"5\", \"text\": \"t\"}".to_owned()),
        Just("{\"data\":{\"id\":\"1\",\"te".to_owned()),
        Just("{\"data\":{\"id\":\"2\",\"text\":\"ok\"}}".to_owned()),
        Just(String::new()),
        "[\\[\\]{}\",: a-z0-9]{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn work_is_linear_in_the_input_and_every_line_is_read(
        lines in prop::collection::vec(hostile_line(), 0..400),
    ) {
        let input = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        let (items, stats) = read_all(input.as_bytes(), 1 << 20);
        prop_assert!(stats.examined <= WORK_PER_BYTE * input.len() as u64,
            "examined {} bytes for {}", stats.examined, input.len());
        prop_assert_eq!(stats.lines, lines.len() as u64);
        // Records come in input order.
        prop_assert!(items.windows(2).all(|w| w[0].0 <= w[1].0));
    }
}

/// A reader that hands out its input a few bytes at a time, as a pipe or a socket may.
struct Trickle<'a> {
    rest: &'a [u8],
    sizes: std::iter::Cycle<std::vec::IntoIter<usize>>,
}

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.sizes.next().unwrap_or(1).min(out.len()).min(self.rest.len());
        out[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        Ok(n)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// However the input arrives, every line comes out whole (or cut at the limit, with its
    /// full length), numbered, and in order, the last one with or without its line end.
    #[test]
    fn lines_survive_any_read_sizes(
        input in prop::collection::vec(prop_oneof![Just(b'\n'), Just(b'x'), any::<u8>()], 0..3000),
        sizes in prop::collection::vec(1usize..700, 1..8),
        max in 1usize..600,
    ) {
        let mut lines = Lines::new(Trickle { rest: &input, sizes: sizes.into_iter().cycle() }, max);
        let mut got = Vec::new();
        while let Some(line) = lines.next(&mut || {}).expect("read") {
            got.push((line.number, line.bytes.to_vec(), line.len));
        }
        let expected: Vec<_> = input
            .split_inclusive(|&b| b == b'\n')
            .enumerate()
            .map(|(i, l)| (i as u64 + 1, l[..l.len().min(max)].to_vec(), l.len()))
            .collect();
        prop_assert_eq!(got, expected);
    }
}
