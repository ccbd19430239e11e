//! Journeys as folders of steps: `tests/journeys/<journey>/<NN>-<step>.json`, run in name order
//! against a stack seeded with the demo data (see [`crate::seed`]), each request through the
//! router as a client sends it. A step reads like the exchange it checks:
//!
//! ```json
//! {
//!   "as": "storefront",
//!   "operation": "CartLinesAdd",
//!   "variables": { "input": { "cartId": "$cart", "lines": [{ "variantId": "$small", "quantity": 2 }] } },
//!   "expect": { "data": { "cartLinesAdd": { "cart": { "itemCount": 2 }, "userErrors": [] } } }
//! }
//! ```
//!
//! - `as`: who sends it: `anonymous`, `storefront` (the demo's publishable key), `staff` (the demo
//!   tenant's admin) or `customer` (the demo customer), the last two signed in.
//! - `operation` names an operation of a subgraph's `operations.graphql`; `query` gives the text
//!   instead (for a read the journey alone needs).
//! - `variables`: a string `"$name"` is replaced by what an earlier step captured.
//! - `expect`: the response must hold it: objects by the keys given (others are not checked),
//!   arrays element by element and of the same length, other values equal. A string `"$name"`
//!   captures the value there the first time and must equal it after; `"*"` is any non-null value.

use crate::seed::Credentials;
use cityos_client::{Client, operation};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// One step of a journey.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    #[serde(rename = "as")]
    caller: String,
    #[serde(default)]
    operation: Option<String>,
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    variables: Value,
    expect: Value,
}

/// The callers a journey may act as.
pub struct Callers {
    anonymous: Client,
    storefront: Client,
    staff: Client,
    customer: Client,
}

impl Callers {
    /// Signs the demo's staff and customer in through `router`.
    pub async fn sign_in(router: &Client, demo: &Credentials, tenant: &str) -> Self {
        let in_tenant = router.tenant(tenant);
        let sign_in = async |email: &str, password: &str| {
            in_tenant
                .signed_in(email, password)
                .await
                .unwrap_or_else(|e| panic!("sign-in of {email}: {e}"))
        };
        let staff = sign_in(&demo.tenant_admin.email, &demo.tenant_admin.password).await;
        let customer = sign_in(&demo.customer.email, &demo.customer.password).await;
        let key = demo
            .publishable_key
            .as_deref()
            .expect("a seeded storefront key");
        Self {
            anonymous: router.clone(),
            storefront: router.publishable_key(key),
            staff,
            customer,
        }
    }

    fn get(&self, name: &str) -> Result<&Client, String> {
        match name {
            "anonymous" => Ok(&self.anonymous),
            "storefront" => Ok(&self.storefront),
            "staff" => Ok(&self.staff),
            "customer" => Ok(&self.customer),
            other => Err(format!("unknown caller `{other}`")),
        }
    }
}

/// Every journey folder under `dir`, in name order.
pub fn journeys(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    found.sort();
    found
}

/// Runs one journey's steps in order; the first that fails stops it, named in the error.
pub async fn run(journey: &Path, callers: &Callers) -> Result<usize, String> {
    let mut steps: Vec<PathBuf> = std::fs::read_dir(journey)
        .map_err(|e| format!("{}: {e}", journey.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    steps.sort();
    let mut captured = Map::new();
    for path in &steps {
        let name = path
            .strip_prefix(journey.parent().unwrap_or(journey))
            .unwrap_or(path);
        step(path, callers, &mut captured)
            .await
            .map_err(|e| format!("{}: {e}", name.display()))?;
    }
    Ok(steps.len())
}

async fn step(
    path: &Path,
    callers: &Callers,
    captured: &mut Map<String, Value>,
) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let step: Step = serde_json::from_str(&text).map_err(|e| format!("not a step: {e}"))?;
    let client = callers.get(&step.caller)?;
    let variables = substitute(&step.variables, captured)?;
    let response = match (&step.operation, &step.query) {
        (Some(name), None) => {
            let op = operation(name).ok_or_else(|| format!("no operation `{name}`"))?;
            client.run(op, variables).await
        }
        (None, Some(query)) => client.send(query, variables).await,
        _ => return Err("give exactly one of `operation` and `query`".to_owned()),
    }
    .map_err(|e| e.to_string())?;
    holds(&step.expect, &response.body, captured, "")
        .map_err(|e| format!("{e}\n  response: {}", response.body))
}

/// `value` with every `"$name"` string replaced by its capture.
fn substitute(value: &Value, captured: &Map<String, Value>) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) if s.starts_with('$') => captured
            .get(&s[1..])
            .cloned()
            .ok_or_else(|| format!("`{s}` was not captured by an earlier step"))?,
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| substitute(v, captured))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| Ok((k.clone(), substitute(v, captured)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// Whether `actual` holds `expected` (see the module's rules), capturing `"$name"`s.
fn holds(
    expected: &Value,
    actual: &Value,
    captured: &mut Map<String, Value>,
    at: &str,
) -> Result<(), String> {
    match expected {
        Value::String(s) if s == "*" => {
            if actual.is_null() {
                return Err(format!("{at}: expected a value, got null"));
            }
        }
        Value::String(s) if s.starts_with('$') => {
            let name = &s[1..];
            match captured.get(name) {
                Some(known) if known != actual => {
                    return Err(format!("{at}: expected {s} = {known}, got {actual}"));
                }
                Some(_) => {}
                None if actual.is_null() => {
                    return Err(format!("{at}: nothing to capture as {s}"));
                }
                None => {
                    captured.insert(name.to_owned(), actual.clone());
                }
            }
        }
        Value::Object(fields) => {
            for (key, value) in fields {
                holds(value, &actual[key], captured, &format!("{at}.{key}"))?;
            }
        }
        Value::Array(items) => {
            let got = actual
                .as_array()
                .ok_or_else(|| format!("{at}: expected a list, got {actual}"))?;
            if got.len() != items.len() {
                return Err(format!(
                    "{at}: expected {} items, got {}",
                    items.len(),
                    got.len()
                ));
            }
            for (i, (e, a)) in items.iter().zip(got).enumerate() {
                holds(e, a, captured, &format!("{at}[{i}]"))?;
            }
        }
        other => {
            if other != actual {
                return Err(format!("{at}: expected {other}, got {actual}"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expectations_match_by_the_keys_given_and_capture_names() {
        let mut captured = Map::new();
        let actual = json!({ "data": { "cart": { "id": "c1", "itemCount": 2, "other": true } } });
        holds(
            &json!({ "data": { "cart": { "id": "$cart", "itemCount": 2 } } }),
            &actual,
            &mut captured,
            "",
        )
        .expect("holds");
        assert_eq!(captured["cart"], "c1");
        let again = holds(
            &json!({ "data": { "cart": { "id": "$cart" } } }),
            &json!({ "data": { "cart": { "id": "c2" } } }),
            &mut captured,
            "",
        );
        assert!(again.expect_err("another id").contains("expected $cart"));
        let wrong = holds(
            &json!({ "data": { "cart": { "itemCount": 3 } } }),
            &actual,
            &mut captured,
            "",
        );
        assert!(
            wrong
                .expect_err("another count")
                .contains(".data.cart.itemCount")
        );
        assert!(holds(&json!([1, 2]), &json!([1]), &mut captured, "").is_err());
        assert!(holds(&json!("*"), &Value::Null, &mut captured, "").is_err());
        let vars = substitute(
            &json!({ "input": { "cartId": "$cart", "n": 1 } }),
            &captured,
        )
        .expect("known");
        assert_eq!(vars, json!({ "input": { "cartId": "c1", "n": 1 } }));
        assert!(substitute(&json!("$nope"), &captured).is_err());
    }
}
