//! The properties every Ok result must have: each figure finite and ≥ 0 (a rate may be `inf`:
//! everything sent at once), and a small simulation of what loaded that keeps them so.

use std::fmt;

use serde::ser::{self, Serialize};

use servecast::report::{render, Format};
use servecast::scenario::{Prediction, Scenario, ScenarioBuilder};
use servecast::workload::arrivals::{LoadSpec, WorkloadSpec};

/// Most requests a loaded workload may send for the fuzzer to simulate it (each case stays fast).
pub const MAX_SIMULATED_REQUESTS: u64 = 200;

/// Keys whose value may be `+inf`: an offered request rate (`inf`: all sent at once).
const RATE_KEYS: &[&str] = &["qps", "rate", "request_rate"];

/// Every numeric leaf of `value` that is non-finite (but a rate's `+inf`) or negative, as
/// `path = value`; empty when all are good.
pub fn bad_figures<T: Serialize + ?Sized>(value: &T) -> Vec<String> {
    let mut w = Walker::default();
    // The walker's own error is never raised; a serializer error of the type itself is reported.
    if let Err(e) = value.serialize(&mut w) {
        w.bad.push(format!("(serialize: {e})"));
    }
    w.bad
}

/// Err naming the bad figures of `value` (what: where it came from).
pub fn figures_ok<T: Serialize + ?Sized>(what: &str, value: &T) -> Result<(), String> {
    let bad = bad_figures(value);
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{what}: Ok with non-finite or negative figures: {}",
            bad.into_iter().take(8).collect::<Vec<_>>().join(", ")
        ))
    }
}

#[derive(Default)]
struct Walker {
    path: Vec<String>,
    bad: Vec<String>,
}

impl Walker {
    fn float(&mut self, v: f64) {
        let key = self.path.last().map(String::as_str).unwrap_or("");
        let rate_inf = v == f64::INFINITY && RATE_KEYS.contains(&key);
        if (!v.is_finite() && !rate_inf) || v < 0.0 {
            self.bad.push(format!("{} = {v}", self.path.join(".")));
        }
    }
    fn int(&mut self, v: i128) {
        if v < 0 {
            self.bad.push(format!("{} = {v}", self.path.join(".")));
        }
    }
}

#[derive(Debug)]
struct WalkError(String);

impl fmt::Display for WalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WalkError {}

impl ser::Error for WalkError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        WalkError(msg.to_string())
    }
}

type R = Result<(), WalkError>;

impl ser::Serializer for &mut Walker {
    type Ok = ();
    type Error = WalkError;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, _: bool) -> R {
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> R {
        self.int(v.into());
        Ok(())
    }
    fn serialize_i16(self, v: i16) -> R {
        self.int(v.into());
        Ok(())
    }
    fn serialize_i32(self, v: i32) -> R {
        self.int(v.into());
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> R {
        self.int(v.into());
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> R {
        self.int(v);
        Ok(())
    }
    fn serialize_u8(self, _: u8) -> R {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> R {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> R {
        Ok(())
    }
    fn serialize_u64(self, _: u64) -> R {
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> R {
        self.float(v.into());
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> R {
        self.float(v);
        Ok(())
    }
    fn serialize_char(self, _: char) -> R {
        Ok(())
    }
    fn serialize_str(self, _: &str) -> R {
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> R {
        Ok(())
    }
    fn serialize_none(self) -> R {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_unit(self) -> R {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> R {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> R {
        self.path.push(variant.to_string());
        let r = v.serialize(&mut *self);
        self.path.pop();
        r
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, WalkError> {
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, WalkError> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, WalkError> {
        Ok(self)
    }
    fn serialize_tuple_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self, WalkError> {
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, WalkError> {
        self.path.push(String::new());
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, WalkError> {
        Ok(self)
    }
    fn serialize_struct_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self, WalkError> {
        Ok(self)
    }
}

impl ser::SerializeSeq for &mut Walker {
    type Ok = ();
    type Error = WalkError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        v.serialize(&mut **self)
    }
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeTuple for &mut Walker {
    type Ok = ();
    type Error = WalkError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        v.serialize(&mut **self)
    }
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeTupleStruct for &mut Walker {
    type Ok = ();
    type Error = WalkError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        v.serialize(&mut **self)
    }
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeTupleVariant for &mut Walker {
    type Ok = ();
    type Error = WalkError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        v.serialize(&mut **self)
    }
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeMap for &mut Walker {
    type Ok = ();
    type Error = WalkError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> R {
        let key = serde_json::to_value(k)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        if let Some(last) = self.path.last_mut() {
            *last = key;
        }
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        v.serialize(&mut **self)
    }
    fn end(self) -> R {
        self.path.pop();
        Ok(())
    }
}

impl ser::SerializeStruct for &mut Walker {
    type Ok = ();
    type Error = WalkError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> R {
        self.path.push(key.to_string());
        let r = v.serialize(&mut **self);
        self.path.pop();
        r
    }
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeStructVariant for &mut Walker {
    type Ok = ();
    type Error = WalkError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> R {
        self.path.push(key.to_string());
        let r = v.serialize(&mut **self);
        self.path.pop();
        r
    }
    fn end(self) -> R {
        Ok(())
    }
}

/// Requests a workload sends over all its levels (saturating).
pub fn total_requests(w: &WorkloadSpec) -> u64 {
    match &w.load {
        LoadSpec::ClosedLoop {
            concurrency,
            requests_per_user,
            ..
        } => concurrency
            .iter()
            .map(|&c| u64::from(c).saturating_mul(u64::from(*requests_per_user)))
            .fold(0u64, u64::saturating_add),
        LoadSpec::Poisson {
            qps,
            num_requests,
            num_requests_per_level,
            ..
        } => match num_requests_per_level {
            Some(per) => per.iter().map(|&n| u64::from(n)).fold(0u64, u64::saturating_add),
            None => u64::from(*num_requests).saturating_mul(qps.len() as u64),
        },
        LoadSpec::MaxConcurrency { levels } => levels
            .iter()
            .map(|l| u64::from(l.num_requests))
            .fold(0u64, u64::saturating_add),
        LoadSpec::Trace { requests } => requests.len() as u64,
    }
}

/// Whether a scenario is small enough to simulate in a fuzz case: few requests, and lengths
/// that keep each one short (long prompts of huge models take many steps).
pub fn small_enough(s: &Scenario) -> bool {
    let n = total_requests(&s.workload).saturating_mul(u64::from(s.replicas.max(1)));
    n <= MAX_SIMULATED_REQUESTS && s.engine.max_model_len <= 1 << 20
}

/// The checks of one simulated prediction: figures finite and ≥ 0 in the memory plan, the
/// levels and the intervals; each output format renders without `NaN`.
pub fn prediction_ok(what: &str, p: &Prediction) -> Result<(), String> {
    figures_ok(&format!("{what}: memory plan"), &p.memory)?;
    figures_ok(&format!("{what}: levels"), &p.levels)?;
    figures_ok(&format!("{what}: intervals"), &p.intervals)?;
    if p.levels.len() != p.scenario.workload.levels().len() {
        return Err(format!(
            "{what}: {} levels simulated for a workload of {}",
            p.levels.len(),
            p.scenario.workload.levels().len()
        ));
    }
    // A name the input chose (a profile id, its source text) may spell NaN itself.
    let names_nan = serde_json::to_string(&p.scenario).is_ok_and(|t| t.contains("NaN"));
    for format in [Format::Json, Format::Csv, Format::Table] {
        let text = render(p, None, format).map_err(|e| format!("{what}: render {format:?} failed: {e}"))?;
        if format != Format::Json && !names_nan && prints_nan(&text) {
            return Err(format!("{what}: {format:?} output prints NaN:\n{}", preview(&text)));
        }
        if format == Format::Json {
            let doc: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("{what}: the JSON output does not parse: {e}"))?;
            json_figures_ok(what, &doc["levels"], "levels")?;
            json_figures_ok(what, &doc["memory"], "memory")?;
        }
    }
    Ok(())
}

/// Every number in a JSON document is ≥ 0; strings other than `"inf"` under a rate key pass.
pub fn json_figures_ok(what: &str, v: &serde_json::Value, path: &str) -> Result<(), String> {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.as_f64().is_some_and(|x| x < 0.0 || !x.is_finite()) => {
            return Err(format!("{what}: JSON output {path} = {n}"));
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                json_figures_ok(what, x, &format!("{path}[{i}]"))?;
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                json_figures_ok(what, x, &format!("{path}.{k}"))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The same load with fewer requests: at most 4 users × 3 requests, 10 requests per rate or
/// queue level, 100 trace requests (levels, lengths and rates kept).
pub fn shrink_load(w: &mut WorkloadSpec) {
    match &mut w.load {
        LoadSpec::ClosedLoop {
            concurrency,
            requests_per_user,
            ..
        } => {
            concurrency.iter_mut().for_each(|c| *c = (*c).min(4));
            *requests_per_user = (*requests_per_user).min(3);
        }
        LoadSpec::Poisson {
            num_requests,
            num_requests_per_level,
            ..
        } => {
            *num_requests = (*num_requests).min(10);
            if let Some(per) = num_requests_per_level {
                per.iter_mut().for_each(|n| *n = (*n).min(10));
            }
        }
        LoadSpec::MaxConcurrency { levels } => {
            for l in levels {
                l.concurrency = l.concurrency.min(4);
                l.num_requests = l.num_requests.min(10);
            }
        }
        LoadSpec::Trace { requests } => requests.truncate(100),
    }
}

/// Builds and simulates a scenario (its load shrunk to a few requests if it is larger); a
/// refusal (Err) is fine, a bad figure is not. Returns whether a simulation ran.
pub fn simulate_if_small(what: &str, b: ScenarioBuilder) -> Result<bool, String> {
    let Ok(mut s) = b.build() else { return Ok(false) };
    figures_ok(&format!("{what}: scenario workload"), &s.workload)?;
    if !small_enough(&s) {
        shrink_load(&mut s.workload);
        if !small_enough(&s) || s.workload.validate("shrunk").is_err() {
            return Ok(false);
        }
    }
    figures_ok(&format!("{what}: scenario engine"), &s.engine)?;
    match s.run() {
        Ok(p) => prediction_ok(what, &p).map(|()| true),
        Err(_) => Ok(false),
    }
}

/// Whether `text` prints a NaN figure: `NaN` standing alone between separators (not inside a
/// name such as a profile id made from a mutated file).
pub fn prints_nan(text: &str) -> bool {
    let sep = |c: Option<char>| c.is_none_or(|c| c.is_whitespace() || "|,;:()[]=".contains(c));
    text.match_indices("NaN").any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + 3..].chars().next();
        sep(before) && sep(after)
    })
}

/// The first 2,000 characters of `text` (for messages).
pub fn preview(text: &str) -> String {
    let cut: String = text.chars().take(2000).collect();
    if cut.len() < text.len() {
        format!("{cut}… ({} bytes in all)", text.len())
    } else {
        cut
    }
}
