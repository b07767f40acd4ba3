//! Structure-aware inputs: real fixtures mutated by a short plan of edits (numbers replaced by
//! extreme values, fields dropped or duplicated, arrays stretched, text truncated), and plain
//! random bytes and strings.
//!
//! A plan is small and shrinks well; the text it makes is rebuilt from the fixture each time.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::Value;

/// A fixture: a real input file, with its tree when it parses (JSON, JSON Lines or YAML).
#[derive(Debug)]
pub struct Fixture {
    /// Path relative to the repository, used as the input's name.
    pub name: String,
    /// The file's text.
    pub text: String,
    /// Its documents as trees (one per JSON Lines line or YAML document); none for CSV.
    pub tree: Option<Tree>,
}

/// The parsed documents of a fixture and how to write them back.
#[derive(Debug, Clone)]
pub struct Tree {
    /// One value per document / line.
    pub docs: Vec<Value>,
    /// How documents are joined: `\n` (JSON Lines) or `\n---\n` (YAML).
    pub joiner: &'static str,
    /// Whether the file is YAML (extremes are written `.nan` / `.inf` as YAML spells them, too).
    pub yaml: bool,
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir` (recursively) whose extension is one of `exts`, sorted.
pub fn files(dir: &str, exts: &[&str]) -> Vec<PathBuf> {
    fn walk(p: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(p) else { return };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                walk(&path, exts, out);
            } else if path
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| exts.contains(&x))
            {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join(dir), exts, &mut out);
    out.sort();
    out
}

/// A fixture from a file, its tree parsed by extension.
pub fn load(path: &Path) -> Fixture {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path.strip_prefix(root()).unwrap_or(path).display().to_string();
    let ext = path.extension().and_then(|x| x.to_str()).unwrap_or("");
    fixture(name, text, ext)
}

/// A fixture from text; `ext` decides how its tree is read (`json`, `jsonl`, `yaml`, other: none).
pub fn fixture(name: String, text: String, ext: &str) -> Fixture {
    let tree = match ext {
        "json" | "jsonl" => json_tree(&text),
        "yaml" | "yml" => yaml_tree(&text),
        _ => None,
    };
    Fixture { name, text, tree }
}

fn json_tree(text: &str) -> Option<Tree> {
    let marked = mark_python_constants(text);
    if let Ok(v) = serde_json::from_str::<Value>(&marked) {
        return Some(Tree {
            docs: vec![v],
            joiner: "\n",
            yaml: false,
        });
    }
    let docs: Vec<Value> = marked
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .ok()?;
    (!docs.is_empty()).then_some(Tree {
        docs,
        joiner: "\n",
        yaml: false,
    })
}

fn yaml_tree(text: &str) -> Option<Tree> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).ok()?;
    (!docs.is_empty()).then_some(Tree {
        docs,
        joiner: "\n---\n",
        yaml: true,
    })
}

/// Python's bare `NaN` / `Infinity` / `-Infinity` outside strings, as raw-token markers (so the
/// tree parses as JSON and writes them back as they were).
fn mark_python_constants(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        let token = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|t| rest.starts_with(t));
        if let Some(t) = token {
            out.push_str(&raw_marker(t));
            rest = &rest[t.len()..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

const RAW: &str = "\u{1}RAW";

fn raw_marker(token: &str) -> String {
    format!("\"{}{token}\"", "\\u0001RAW")
}

fn raw_value(token: &str) -> Value {
    Value::String(format!("{RAW}{token}"))
}

/// Writes a tree back as text: raw-token markers become the bare tokens.
fn write_tree(tree: &Tree) -> String {
    let docs: Vec<String> = tree
        .docs
        .iter()
        .map(|d| serde_json::to_string(d).unwrap_or_default())
        .collect();
    unmark(&docs.join(tree.joiner))
}

fn unmark(text: &str) -> String {
    const MARK: &str = "\"\\u0001RAW";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(MARK) {
        out.push_str(&rest[..i]);
        let after = &rest[i + MARK.len()..];
        match after.find('"') {
            Some(j) => {
                out.push_str(&after[..j]);
                rest = &after[j + 1..];
            }
            None => {
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Numbers that break loaders: signs, zero, the float extremes and non-finite values in each
/// spelling, the integer widths' edges, and tiny values.
pub const EXTREMES: &[&str] = &[
    "-1",
    "0",
    "1",
    "-0",
    "0.5",
    "1e308",
    "-1e308",
    "1e400",
    "NaN",
    "Infinity",
    "-Infinity",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "1e-300",
    "5e-324",
    "1e20",
    "2147483648",
    "65536",
    "1.5",
    "100000000",
    "-0.0001",
    "3",
    "200",
];

/// Extremes only YAML spells this way.
pub const YAML_EXTREMES: &[&str] = &[".nan", ".inf", "-.inf", ".NaN", "~", "0x7fffffff", "1_000"];

/// Strings that break loaders (in place of a string, or of a number).
pub fn extreme_strings() -> &'static [String] {
    static S: OnceLock<Vec<String>> = OnceLock::new();
    S.get_or_init(|| {
        vec![
            String::new(),
            "inf".into(),
            "nan".into(),
            "-inf".into(),
            "Infinity".into(),
            "1e999".into(),
            "-1".into(),
            " 12 ".into(),
            "0x10".into(),
            "null".into(),
            "true".into(),
            "🦀\u{0}\u{202e}".into(),
            "2023-11-16 18:15:46.0978287".into(),
            "9999-99-99 99:99:99".into(),
            "\n".into(),
            "a".repeat(100_000),
            "qwen2.5-0.5b-instruct".into(),
            "Qwen/Qwen3-8B".into(),
            "4090".into(),
            "vllm-0.6".into(),
            "nano-vllm".into(),
        ]
    })
}

/// Bits of syntax inserted at random places.
pub const SYNTAX: &[&str] = &[
    "{", "}", "[", "]", ",", ":", "\"", "'", "\n", "- ", "\t", "#", "---\n", "&a ", "*a", "!!str ", "\\", "\r\n",
    "\u{feff}", "..", "=",
];

/// What to do to one node of a tree.
#[derive(Debug, Clone)]
pub enum TreeAction {
    /// Replace by `EXTREMES[i]` (or `YAML_EXTREMES` in YAML, past the end).
    Extreme(usize),
    /// Replace by `extreme_strings()[i]`.
    Text(usize),
    /// Remove it from its parent.
    Delete,
    /// Duplicate it in its parent (an object key gets a `_` suffix).
    Duplicate,
    /// Stretch an array to `n` elements by repeating it (bounded), or wrap a scalar in an array.
    Stretch(u16),
    /// Empty an array or object; a scalar becomes `null`.
    Empty,
    /// Replace by a boolean, null or a nested container.
    Odd(u8),
}

/// One edit of a fixture.
#[derive(Debug, Clone)]
pub enum Op {
    /// On the tree: act on the `nth` node (pre-order, modulo the count).
    Tree { nth: usize, action: TreeAction },
    /// On the text: replace the `nth` number with `EXTREMES[value]`.
    Number { nth: usize, value: usize },
    /// On the text: remove the `nth` line.
    DropLine(usize),
    /// On the text: repeat the `nth` line.
    DupLine(usize),
    /// On the text: keep only the first part (`at` modulo the length, on a char boundary).
    Truncate(usize),
    /// On the text: insert `SYNTAX[what]`.
    Insert { at: usize, what: usize },
    /// On the text: remove `len` bytes.
    Delete { at: usize, len: u8 },
}

fn tree_action() -> impl Strategy<Value = TreeAction> {
    prop_oneof![
        6 => any::<usize>().prop_map(TreeAction::Extreme),
        2 => any::<usize>().prop_map(TreeAction::Text),
        3 => Just(TreeAction::Delete),
        2 => Just(TreeAction::Duplicate),
        1 => (0u16..300).prop_map(TreeAction::Stretch),
        1 => Just(TreeAction::Empty),
        1 => any::<u8>().prop_map(TreeAction::Odd),
    ]
}

/// One edit.
pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (any::<usize>(), tree_action()).prop_map(|(nth, action)| Op::Tree { nth, action }),
        5 => (any::<usize>(), any::<usize>()).prop_map(|(nth, value)| Op::Number { nth, value }),
        2 => any::<usize>().prop_map(Op::DropLine),
        1 => any::<usize>().prop_map(Op::DupLine),
        1 => any::<usize>().prop_map(Op::Truncate),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(at, what)| Op::Insert { at, what }),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(at, len)| Op::Delete { at, len }),
    ]
}

/// An input: a mutated fixture, or random bytes / characters.
#[derive(Debug, Clone)]
pub enum Input {
    /// Fixture `fixture` (modulo the count) edited by `ops` in order.
    Mutated {
        /// Which fixture.
        fixture: usize,
        /// The edits.
        ops: Vec<Op>,
    },
    /// Random bytes (read as UTF-8, lossily).
    Bytes(Vec<u8>),
    /// A random string.
    Chars(String),
}

/// Inputs: mostly mutated fixtures (0 to 5 edits), sometimes random bytes or strings.
pub fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        16 => (any::<usize>(), prop::collection::vec(op(), 0..6)).prop_map(|(fixture, ops)| Input::Mutated { fixture, ops }),
        1 => prop::collection::vec(any::<u8>(), 0..600).prop_map(Input::Bytes),
        1 => "\\PC{0,300}".prop_map(Input::Chars),
    ]
}

impl Input {
    /// The text this input makes from `fixtures`, and the fixture's index (if it is one).
    pub fn render(&self, fixtures: &[Fixture]) -> (String, Option<usize>) {
        match self {
            Input::Mutated { fixture, ops } => {
                let i = fixture % fixtures.len();
                (apply(&fixtures[i], ops), Some(i))
            }
            Input::Bytes(b) => (String::from_utf8_lossy(b).into_owned(), None),
            Input::Chars(s) => (s.clone(), None),
        }
    }
}

/// Applies a plan: tree edits first (on the parsed fixture), then text edits.
pub fn apply(f: &Fixture, ops: &[Op]) -> String {
    let tree_ops: Vec<&Op> = ops.iter().filter(|o| matches!(o, Op::Tree { .. })).collect();
    let mut text = match (&f.tree, tree_ops.is_empty()) {
        (Some(tree), false) => {
            let mut t = tree.clone();
            for o in &tree_ops {
                if let Op::Tree { nth, action } = o {
                    edit_tree(&mut t, *nth, action);
                }
            }
            write_tree(&t)
        }
        _ => f.text.clone(),
    };
    for o in ops {
        text = edit_text(text, o);
    }
    text
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count_nodes).sum(),
        Value::Object(o) => o.values().map(count_nodes).sum(),
        _ => 0,
    }
}

fn edit_tree(t: &mut Tree, nth: usize, action: &TreeAction) {
    let total: usize = t.docs.iter().map(count_nodes).sum();
    if total == 0 {
        return;
    }
    let mut n = nth % total;
    let mut doc = 0;
    while n >= count_nodes(&t.docs[doc]) {
        n -= count_nodes(&t.docs[doc]);
        doc += 1;
    }
    if n == 0 {
        // A whole document: only value replacements (the document list itself is kept).
        let root = &mut t.docs[doc];
        replace(root, action, t.yaml);
        if matches!(action, TreeAction::Delete) && t.docs.len() > 1 {
            t.docs.remove(doc);
        }
        return;
    }
    let yaml = t.yaml;
    let root = &mut t.docs[doc];
    edit_child(root, n, action, yaml);
}

/// Acts on the `n`th (≥ 1) node below `v`: removal and duplication need its parent.
fn edit_child(v: &mut Value, n: usize, action: &TreeAction, yaml: bool) {
    let mut offset = 1;
    match v {
        Value::Array(a) => {
            for i in 0..a.len() {
                let size = count_nodes(&a[i]);
                if n < offset + size {
                    if n == offset {
                        match action {
                            TreeAction::Delete => {
                                a.remove(i);
                            }
                            TreeAction::Duplicate => {
                                let c = a[i].clone();
                                a.insert(i, c);
                            }
                            _ => replace(&mut a[i], action, yaml),
                        }
                    } else {
                        edit_child(&mut a[i], n - offset, action, yaml);
                    }
                    return;
                }
                offset += size;
            }
        }
        Value::Object(o) => {
            let keys: Vec<String> = o.keys().cloned().collect();
            for k in keys {
                let size = o.get(&k).map_or(0, count_nodes);
                if n < offset + size {
                    if n == offset {
                        match action {
                            TreeAction::Delete => {
                                o.remove(&k);
                            }
                            TreeAction::Duplicate => {
                                let c = o.get(&k).cloned().unwrap_or(Value::Null);
                                o.insert(format!("{k}_"), c);
                            }
                            _ => {
                                if let Some(c) = o.get_mut(&k) {
                                    replace(c, action, yaml);
                                }
                            }
                        }
                    } else if let Some(c) = o.get_mut(&k) {
                        edit_child(c, n - offset, action, yaml);
                    }
                    return;
                }
                offset += size;
            }
        }
        _ => {}
    }
    // Not found (cannot happen with a correct count): act on the node itself.
    replace(v, action, yaml);
}

fn replace(v: &mut Value, action: &TreeAction, yaml: bool) {
    match action {
        TreeAction::Extreme(i) => {
            let n = EXTREMES.len() + if yaml { YAML_EXTREMES.len() } else { 0 };
            let i = i % n;
            let token = EXTREMES
                .get(i)
                .copied()
                .unwrap_or_else(|| YAML_EXTREMES[i - EXTREMES.len()]);
            *v = raw_value(token);
        }
        TreeAction::Text(i) => {
            let s = extreme_strings();
            *v = Value::String(s[i % s.len()].clone());
        }
        TreeAction::Delete | TreeAction::Empty => {
            *v = match v {
                Value::Array(_) => Value::Array(Vec::new()),
                Value::Object(_) => Value::Object(serde_json::Map::new()),
                _ => Value::Null,
            }
        }
        TreeAction::Duplicate => {
            let c = v.clone();
            *v = Value::Array(vec![c.clone(), c]);
        }
        TreeAction::Stretch(n) => {
            let n = usize::from(*n);
            match v {
                Value::Array(a) if !a.is_empty() => {
                    // Bounded: at most 300 elements and about 2 MB of tree.
                    let each = a.iter().map(count_nodes).sum::<usize>().max(1) / a.len().max(1);
                    let n = n.min(20_000 / each.max(1)).max(1);
                    let src = a.clone();
                    a.clear();
                    for k in 0..n {
                        a.push(src[k % src.len()].clone());
                    }
                }
                other => {
                    let c = other.clone();
                    *other = Value::Array(vec![c; n.min(300)]);
                }
            }
        }
        TreeAction::Odd(k) => {
            *v = match k % 6 {
                0 => Value::Bool(true),
                1 => Value::Bool(false),
                2 => Value::Null,
                3 => serde_json::json!([[[[[[[[1]]]]]]]]),
                4 => serde_json::json!({"a": {"b": {"c": 1}}}),
                _ => {
                    // Deep nesting (parsers' recursion limits).
                    let mut x = Value::from(1);
                    for _ in 0..200 {
                        x = Value::Array(vec![x]);
                    }
                    x
                }
            }
        }
    }
}

/// Byte spans of numbers in `text` (a sign, digits, a fraction, an exponent).
fn number_spans(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts = b[i].is_ascii_digit() || (b[i] == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit));
        // A number starts a token: not in the middle of a word (model names, hashes).
        let boundary = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b'.');
        if starts && boundary {
            let s = i;
            i += 1;
            while i < b.len() && (b[i].is_ascii_digit() || matches!(b[i], b'.' | b'e' | b'E' | b'+' | b'-')) {
                i += 1;
            }
            spans.push((s, i));
        } else {
            i += 1;
        }
    }
    spans
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn edit_text(mut text: String, op: &Op) -> String {
    match op {
        Op::Tree { .. } => text,
        Op::Number { nth, value } => {
            let spans = number_spans(&text);
            if spans.is_empty() {
                return text;
            }
            let (s, e) = spans[nth % spans.len()];
            text.replace_range(s..e, EXTREMES[value % EXTREMES.len()]);
            text
        }
        Op::DropLine(n) | Op::DupLine(n) => {
            let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
            if lines.is_empty() {
                return text;
            }
            let i = n % lines.len();
            if matches!(op, Op::DropLine(_)) {
                lines.remove(i);
            } else {
                let l = lines[i];
                lines.insert(i, l);
            }
            lines.concat()
        }
        Op::Truncate(at) => {
            if text.is_empty() {
                return text;
            }
            let at = floor_boundary(&text, at % text.len());
            text.truncate(at);
            text
        }
        Op::Insert { at, what } => {
            let at = floor_boundary(&text, at % (text.len() + 1));
            text.insert_str(at, SYNTAX[what % SYNTAX.len()]);
            text
        }
        Op::Delete { at, len } => {
            if text.is_empty() {
                return text;
            }
            let s = floor_boundary(&text, at % text.len());
            let e = floor_boundary(&text, s + usize::from(*len));
            text.replace_range(s..e.max(s), "");
            text
        }
    }
}
