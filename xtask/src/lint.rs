//! `cargo xtask test`'s structure checks, before anything is compiled:
//!
//! - **Module cycles.** Within each subgraph crate, the top-level modules (`src/<m>.rs` or
//!   `src/<m>/`) and the `crate::<m>` paths between them form a graph; every cycle in it (a
//!   strongly connected component of two or more modules) must be listed in
//!   `xtask/structure.allow`. A domain's GraphQL layer (`src/<m>/graphql.rs`, reached as
//!   `crate::<m>::graphql`) is a node of its own, `<m>::graphql`: a schema's types refer to each
//!   other both ways (a product's variants, a variant's product), so the GraphQL of one domain may
//!   use another's rows and rules while the rules themselves stay acyclic; the GraphQL layers are
//!   checked for cycles among themselves too.
//! - **Other schemas' tables.** A subgraph's SQL may call another schema's published functions
//!   (`catalog.category_depth(..)`) but not name its tables (`catalog.categories`).
//! - **Cross-subgraph paths.** A subgraph's code may name another subgraph's crate only as
//!   `<other>::api` (and its `Subgraph` type and `MIGRATIONS`, which `depends_on` names); every
//!   other path (`catalog::inventory`) must be listed there too. Tests are not checked: fixtures
//!   may set up another subgraph's data through its services.
//!
//! The allow-list may only shrink: a listed cycle or path that no longer exists fails the check
//! as well, so whoever removes one removes its line.

use crate::{Result, root};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Source text with `//` comments removed (doc comments name paths without using them).
fn code_of(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The identifiers that follow `prefix` in `code`, including the top level of a `prefix{a, b::c}`
/// group.
fn names_after(code: &str, prefix: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find(prefix) {
        let boundary = rest[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':'));
        rest = &rest[i + prefix.len()..];
        if !boundary {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.push(std::mem::take(&mut item));
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    item.push(c);
                }
            }
            names.push(item);
            rest = &group[end.min(group.len())..];
        } else {
            names.push(rest.to_owned());
        }
    }
    names
        .into_iter()
        .map(|n| {
            n.trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|n| !n.is_empty() && n != "self")
        .collect()
}

/// Every `.rs` file under `dir`, with the node of the module graph it belongs to: its top-level
/// module, or `<m>::graphql` for a domain's GraphQL layer.
fn sources(src: &Path) -> Result<Vec<(String, String)>> {
    fn walk(dir: &Path, module: Option<&str>, out: &mut Vec<(String, String)>) -> Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let module = match module {
                None => stem.clone(),
                Some(m) if stem == "graphql" && !m.contains("::") => format!("{m}::graphql"),
                Some(m) => m.to_owned(),
            };
            if path.is_dir() {
                walk(&path, Some(&module), out)?;
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push((module, std::fs::read_to_string(&path)?));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(src, None, &mut out)?;
    Ok(out)
}

/// The names `code` uses in `schema.name` form that are not function calls: another schema's
/// tables, which no subgraph's SQL may read (published functions, `schema.f(..)`, are its api).
fn sql_tables(code: &str, schema: &str) -> BTreeSet<String> {
    let prefix = format!("{schema}.");
    let mut tables = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find(&prefix) {
        let boundary = rest[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
        rest = &rest[i + prefix.len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let call = rest[name.len()..].trim_start().starts_with('(');
        if boundary && !name.is_empty() && !call {
            tables.insert(name);
        }
    }
    tables
}

/// The nodes `code` names with `crate::` paths: `m` for `crate::m::..`, and `m::graphql` for
/// `crate::m::graphql::..` (a path only into a domain's GraphQL layer does not reach its rules).
fn targets(code: &str) -> BTreeSet<String> {
    let mut uses: BTreeMap<String, usize> = BTreeMap::new();
    for m in names_after(code, "crate::") {
        *uses.entry(m).or_default() += 1;
    }
    let mut found = BTreeSet::new();
    for (m, count) in uses {
        let inner = format!("crate::{m}::");
        let after = names_after(code, &inner);
        if after.iter().any(|n| n == "graphql") {
            found.insert(format!("{m}::graphql"));
        }
        // `crate::m` alone, `crate::m::{self, ..}` or any item other than the layer.
        let bare = count > code.matches(&inner).count();
        if bare || code.contains(&format!("{inner}{{self")) || after.iter().any(|n| n != "graphql")
        {
            found.insert(m);
        }
    }
    found
}

/// `catalog` -> `Catalog`.
fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The strongly connected components of two or more nodes (Tarjan), each sorted.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.graph.contains_key(w) {
                continue;
            }
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state.found.sort();
    state.found
}

/// What the code has now, as the allow-list's lines: `cycle <crate>: a b c` and
/// `path <crate> -> <other>::<module>`.
pub fn findings() -> Result<BTreeSet<String>> {
    let manifest = cityos_stack::Manifest::load()?;
    let names = manifest.names();
    let mut found = BTreeSet::new();
    for name in &names {
        let files = sources(&root().join("subgraphs").join(name).join("src"))?;
        let modules: BTreeSet<&str> = files.iter().map(|(m, _)| m.as_str()).collect();
        let mut graph: BTreeMap<String, BTreeSet<String>> = modules
            .iter()
            .filter(|m| !matches!(**m, "lib" | "main"))
            .map(|m| ((*m).to_owned(), BTreeSet::new()))
            .collect();
        for (module, text) in &files {
            let code = code_of(text);
            if let Some(edges) = graph.get_mut(module) {
                edges.extend(
                    targets(&code)
                        .into_iter()
                        .filter(|t| t != module && modules.contains(t.as_str())),
                );
            }
            for other in names.iter().filter(|o| *o != name) {
                // Besides its api, a subgraph's face is its `Subgraph` type and its migrations
                // (what `depends_on` names).
                let face = [
                    "api".to_owned(),
                    "MIGRATIONS".to_owned(),
                    capitalized(other),
                ];
                for path in names_after(&code, &format!("{other}::")) {
                    if !face.contains(&path) {
                        found.insert(format!("path {name} -> {other}::{path}"));
                    }
                }
                for table in sql_tables(&code, other) {
                    found.insert(format!("sql {name} -> {other}.{table}"));
                }
            }
        }
        for component in cycles(&graph) {
            found.insert(format!("cycle {name}: {}", component.join(" ")));
        }
    }
    Ok(found)
}

/// Fails on any finding that is not allowed, and on any allowed line that is no longer found.
pub fn check() -> Result<()> {
    let path = root().join("xtask/structure.allow");
    let allowed: BTreeSet<String> = std::fs::read_to_string(&path)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let found = findings()?;
    let new: Vec<&String> = found.difference(&allowed).collect();
    let gone: Vec<&String> = allowed.difference(&found).collect();
    for line in &new {
        eprintln!("structure: not allowed: {line}");
    }
    for line in &gone {
        eprintln!("structure: fixed, remove it from xtask/structure.allow: {line}");
    }
    if new.is_empty() && gone.is_empty() {
        eprintln!("structure: {} known exceptions, no new ones", allowed.len());
        Ok(())
    } else {
        Err("the module and crate structure check failed (see above)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_from_uses_and_groups() {
        let code = code_of(
            "use crate::{carts::{self, Cart}, orders};\nlet x = crate::taxes::ratio(1);\n// crate::ignored\nuse catalog::inventory;",
        );
        assert_eq!(names_after(&code, "crate::"), ["carts", "orders", "taxes"]);
        assert_eq!(names_after(&code, "catalog::"), ["inventory"]);
        assert_eq!(
            names_after("mycatalog::x", "catalog::"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_path_into_a_graphql_layer_names_that_layer_only() {
        let code = "use crate::sessions::graphql::AuthPayload;\nuse crate::users::{self, User};\nuse crate::tenants::{Tenant, graphql::TenantQuery};";
        assert_eq!(
            targets(code).into_iter().collect::<Vec<_>>(),
            ["sessions::graphql", "tenants", "tenants::graphql", "users"]
        );
    }

    #[test]
    fn other_schemas_tables_are_found_and_their_functions_are_not() {
        let code =
            "SELECT catalog.category_depth(r.id) FROM orders.tax_rules r JOIN catalog.categories c";
        assert_eq!(
            sql_tables(code, "catalog").into_iter().collect::<Vec<_>>(),
            ["categories"]
        );
    }

    #[test]
    fn cycles_are_the_components_of_two_or_more() {
        let graph: BTreeMap<String, BTreeSet<String>> = [
            ("a", vec!["b"]),
            ("b", vec!["a", "c"]),
            ("c", vec![]),
            ("d", vec!["d"]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
        .collect();
        assert_eq!(cycles(&graph), [vec!["a".to_owned(), "b".to_owned()]]);
    }
}
