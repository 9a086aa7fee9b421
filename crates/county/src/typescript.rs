//! The county API in TypeScript, generated from the operations themselves
//! ([`crate::ops::each`]): every request and response type (ts-rs, from the
//! Rust DTOs, with everything they contain), an interface naming each
//! operation's request and response, and the table of where each is served.
//!
//! The files are kept in `ui/lib/` (`county-api.d.ts`, `county-routes.js`);
//! the test `typescript_is_current` fails when a DTO changed and they were
//! not regenerated (`SANJIAN_BLESS=1 cargo test -p county --test typescript`
//! rewrites them), and `tsc` checks the code written against them.

use crate::ops::{self, Method, Operation, OperationVisitor};
use std::any::TypeId;
use std::collections::{BTreeMap, HashSet};
use ts_rs::{Config, TS, TypeVisitor};

/// JSON numbers are numbers: 64-bit integers are declared `number` (no
/// count or millisecond time here comes near 2^53).
fn config() -> Config {
    Config::new().with_large_int("number")
}

/// Every declarable type reachable from the operations, by name.
struct Declarations<'a> {
    cfg: &'a Config,
    seen: HashSet<TypeId>,
    decls: BTreeMap<String, String>,
}

impl TypeVisitor for Declarations<'_> {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        if !self.seen.insert(TypeId::of::<T>()) {
            return;
        }
        // Built-ins and wrappers (`Vec<T>`, `Option<T>`) have no declaration
        // of their own, but what they hold may.
        if T::output_path().is_some() {
            // `decl` is `type X = …`, after the type's doc comment if any.
            let decl = T::decl(self.cfg);
            let decl = match decl.strip_prefix("type ") {
                Some(rest) => format!("export type {rest}"),
                None => decl.replacen("\ntype ", "\nexport type ", 1),
            };
            self.decls.insert(T::ident(self.cfg), decl);
        }
        T::visit_dependencies(self);
        T::visit_generics(self);
    }
}

/// One operation as the declarations and the route table list it.
struct Listed {
    name: &'static str,
    request: String,
    response: String,
    method: Method,
    path: &'static str,
}

struct Operations<'a> {
    types: Declarations<'a>,
    listed: Vec<Listed>,
}

impl OperationVisitor for Operations<'_> {
    fn visit<O: Operation>(&mut self) {
        self.types.visit::<O::Request>();
        self.types.visit::<O::Response>();
        let cfg = self.types.cfg;
        self.listed.push(Listed {
            name: ops::name_of::<O>(),
            request: <O::Request as TS>::name(cfg),
            response: <O::Response as TS>::name(cfg),
            method: O::METHOD,
            path: O::PATH,
        });
    }
}

fn collect(cfg: &Config) -> Operations<'_> {
    let mut all =
        Operations { types: Declarations { cfg, seen: HashSet::new(), decls: BTreeMap::new() }, listed: Vec::new() };
    ops::each(&mut all);
    all
}

const HEADER: &str = "// Generated from the county layer's operations (crates/county/src/typescript.rs).\n\
// Do not edit: SANJIAN_BLESS=1 cargo test -p county --test typescript rewrites it.\n";

/// `ui/lib/county-api.d.ts`.
pub fn declarations() -> String {
    let cfg = config();
    let all = collect(&cfg);
    let mut out = String::from(HEADER);
    for decl in all.types.decls.values() {
        out.push('\n');
        out.push_str(decl.trim_end());
        out.push('\n');
    }
    out.push_str(
        "\n/** Every county operation: what it takes and what it answers. */\nexport interface CountyOperations {\n",
    );
    for l in &all.listed {
        out.push_str(&format!("  {}: {{ request: {}; response: {} }};\n", l.name, l.request, l.response));
    }
    out.push_str("}\n");
    out
}

/// `ui/lib/county-routes.js`: where each operation is served.
pub fn routes_js() -> String {
    let cfg = config();
    let all = collect(&cfg);
    let mut out = String::from(HEADER);
    out.push_str("\n/** @type {Record<keyof import('./county-api').CountyOperations, ['GET' | 'POST', string]>} */\n");
    out.push_str("export const routes = {\n");
    for l in &all.listed {
        let method = match l.method {
            Method::Get => "GET",
            Method::Post => "POST",
        };
        out.push_str(&format!("  {}: ['{method}', '{}'],\n", l.name, l.path));
    }
    out.push_str("};\n");
    out
}

/// `ui/lib/codes.js`: the project's one catalogue of codes (every crate's,
/// gathered by `crates/sanjian/tests/codes.rs`), each with its HTTP status
/// and both texts, for a front end that must explain a code it did not get
/// a message with.
pub fn codes_js(catalogue: &[registry::message::Entry]) -> String {
    let mut out = String::from(
        "// Generated from every crate's codes (crates/sanjian/tests/codes.rs).\n\
         // Do not edit: SANJIAN_BLESS=1 cargo test -p sanjian --test codes rewrites it.\n",
    );
    out.push_str(
        "\n/** @type {Record<string, { status: number, zh: string, en: string }>} */\nexport const codes = {\n",
    );
    let mut all: Vec<_> = catalogue.to_vec();
    all.sort_by(|a, b| a.code.cmp(&b.code));
    all.dedup();
    for d in all {
        let text = |t: &str| serde_json::to_string(t).unwrap_or_default();
        let (zh, en) = (text(&d.message.zh), text(&d.message.en));
        out.push_str(&format!("  {}: {{ status: {}, zh: {zh}, en: {en} }},\n", d.code, d.status));
    }
    out.push_str("};\n");
    out
}
