//! Running one GraphQL request: the checks every subgraph applies before its resolvers see the
//! request, and the codes every error leaves with.
//!
//! - The document is parsed once, here, and handed to async-graphql already parsed.
//! - Every string the client sent, in the document's arguments and in the variables, is held to
//!   [`cityos_core::text::control_character`]: one with a NUL or another control character is
//!   refused with `BAD_USER_INPUT` before anything runs, so it can neither reach PostgreSQL (which
//!   fails on U+0000) nor be stored. Walking the document costs a few microseconds; an
//!   async-graphql extension would do the same but add a hook to every resolved field.
//! - Every error leaves with an `extensions.code`. Ours carry one already ([`ApiError`]); what
//!   async-graphql raises on its own does not: a syntax error, the depth, complexity and recursion
//!   limits, a value of the wrong type, an unknown operation. Those are about the request, so they
//!   get `BAD_USER_INPUT`. A resolver error without a code would be a fault of ours: it becomes
//!   `INTERNAL`, logged once, with its text kept out of the response.

use async_graphql::parser::types::{Directive, ExecutableDocument, Selection, SelectionSet};
use async_graphql::parser::{Pos, Positioned};
use async_graphql::{Executor, Name, Request, Response, ServerError, Value};
use async_graphql_value::Value as DocumentValue;
use cityos_core::text::{control_character, describe};
use cityos_core::{ApiError, ErrorCode};

/// Runs `request` on `schema` with the platform's checks, as the HTTP endpoint and the tests do.
pub async fn execute<E: Executor>(schema: &E, mut request: Request) -> Response {
    // The variables are set aside while the parsed document is borrowed from the request.
    let variables = std::mem::take(&mut request.variables);
    let refusal = match request.parsed_query() {
        Err(error) => Some(error),
        Ok(document) => refused_text(document, &variables),
    };
    request.variables = variables;
    let mut response = match refusal {
        Some(error) => Response::from_errors(vec![error]),
        None => schema.execute(request).await,
    };
    for error in &mut response.errors {
        give_code(error);
    }
    response
}

/// Where a refused string was found: an argument (by name) or a variable.
fn refusal(place: String, c: char, pos: Option<Pos>) -> ServerError {
    let error = ApiError::bad_input(format!(
        "{place} contains the control character {}: text may not contain control characters \
         other than tab and line breaks",
        describe(c)
    ));
    let mut server = ServerError::new(error.message, pos);
    server
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", error.code.as_str());
    server
}

/// The first control character in a value, looking into lists and objects (keys too).
fn in_value(value: &Value) -> Option<char> {
    match value {
        Value::String(s) => control_character(s),
        Value::List(items) => items.iter().find_map(in_value),
        Value::Object(fields) => fields
            .iter()
            .find_map(|(k, v)| control_character(k).or_else(|| in_value(v))),
        _ => None,
    }
}

/// The same for a value of the document, which may name variables (checked on their own).
fn in_document_value(value: &DocumentValue) -> Option<char> {
    use DocumentValue as V;
    match value {
        V::String(s) => control_character(s),
        V::List(items) => items.iter().find_map(in_document_value),
        V::Object(fields) => fields.values().find_map(in_document_value),
        _ => None,
    }
}

type Arguments = [(Positioned<Name>, Positioned<DocumentValue>)];

fn in_arguments(arguments: &Arguments) -> Option<ServerError> {
    arguments.iter().find_map(|(name, value)| {
        in_document_value(&value.node)
            .map(|c| refusal(format!("argument `{}`", name.node), c, Some(value.pos)))
    })
}

fn in_directives(directives: &[Positioned<Directive>]) -> Option<ServerError> {
    directives
        .iter()
        .find_map(|d| in_arguments(&d.node.arguments))
}

fn in_selection_set(set: &SelectionSet) -> Option<ServerError> {
    set.items.iter().find_map(|item| match &item.node {
        Selection::Field(field) => {
            let field = &field.node;
            in_arguments(&field.arguments)
                .or_else(|| in_directives(&field.directives))
                .or_else(|| in_selection_set(&field.selection_set.node))
        }
        Selection::FragmentSpread(spread) => in_directives(&spread.node.directives),
        Selection::InlineFragment(fragment) => in_directives(&fragment.node.directives)
            .or_else(|| in_selection_set(&fragment.node.selection_set.node)),
    })
}

/// The refusal for the first string of the request with a control character, if any.
fn refused_text(
    document: &ExecutableDocument,
    variables: &async_graphql::Variables,
) -> Option<ServerError> {
    let in_variables = variables.iter().find_map(|(name, value)| {
        in_value(value).map(|c| refusal(format!("variable `${name}`"), c, None))
    });
    in_variables
        .or_else(|| {
            document.operations.iter().find_map(|(_, op)| {
                let op = &op.node;
                op.variable_definitions
                    .iter()
                    .find_map(|v| {
                        let default = v.node.default_value.as_ref()?;
                        in_value(&default.node).map(|c| {
                            refusal(
                                format!("the default of `${}`", v.node.name.node),
                                c,
                                Some(default.pos),
                            )
                        })
                    })
                    .or_else(|| in_directives(&op.directives))
                    .or_else(|| in_selection_set(&op.selection_set.node))
            })
        })
        .or_else(|| {
            document.fragments.values().find_map(|f| {
                in_directives(&f.node.directives)
                    .or_else(|| in_selection_set(&f.node.selection_set.node))
            })
        })
}

/// Gives an error without `extensions.code` the code its kind calls for (module docs).
fn give_code(error: &mut ServerError) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_some() {
        return;
    }
    // Errors before execution have no path; an argument that does not parse is reported at its
    // field with one of async-graphql's input-value messages.
    let input_value = [
        "Failed to parse",
        "Expected input type",
        "Invalid value for argument",
    ]
    .iter()
    .any(|start| error.message.starts_with(start))
        || error.message.contains("(occurred while parsing");
    let about_the_request = error.path.is_empty() || input_value;
    let code = if about_the_request {
        ErrorCode::BadUserInput
    } else {
        tracing::error!(error = %error.message, path = ?error.path, "resolver error without a code");
        error.message = "internal error".to_owned();
        ErrorCode::Internal
    };
    extensions.set("code", code.as_str());
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};

    struct Query;

    #[Object]
    impl Query {
        async fn echo(&self, text: String) -> String {
            text
        }
        async fn nested(&self) -> Query {
            Query
        }
        async fn broken(&self) -> async_graphql::Result<i32> {
            Err(async_graphql::Error::new("select * from secrets failed"))
        }
    }

    fn schema() -> Schema<Query, EmptyMutation, EmptySubscription> {
        Schema::build(Query, EmptyMutation, EmptySubscription)
            .limit_depth(3)
            .finish()
    }

    async fn run(query: &str, variables: serde_json::Value) -> serde_json::Value {
        let request = Request::new(query).variables(async_graphql::Variables::from_json(variables));
        serde_json::to_value(execute(&schema(), request).await).expect("json")
    }

    fn code(response: &serde_json::Value) -> &str {
        response["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no code in {response}"))
    }

    #[tokio::test]
    async fn control_characters_are_refused_wherever_they_are_sent() {
        let ok = run(
            r#"{ echo(text: "two\nlines\tand a tab") }"#,
            serde_json::json!({}),
        )
        .await;
        assert_eq!(ok["data"]["echo"], "two\nlines\tand a tab");

        let literal = run(r#"{ echo(text: "nul\u0000") }"#, serde_json::json!({})).await;
        assert_eq!(code(&literal), "BAD_USER_INPUT");
        assert!(
            literal["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("`text`")
        );
        assert!(literal["data"].is_null());

        let variable = run(
            "query($t: String!) { echo(text: $t) }",
            serde_json::json!({ "t": "bell\u{7}" }),
        )
        .await;
        assert_eq!(code(&variable), "BAD_USER_INPUT");
        assert!(
            variable["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("U+0007")
        );

        let nested = run(
            "query($t: [String!]) { echo(text: \"x\") }",
            serde_json::json!({ "t": [{ "deep": ["ok", "c1\u{85}"] }] }),
        )
        .await;
        assert_eq!(code(&nested), "BAD_USER_INPUT");

        let default = run(
            "query($t: String = \"\\u0000\") { echo(text: $t) }",
            serde_json::json!({}),
        )
        .await;
        assert_eq!(code(&default), "BAD_USER_INPUT");

        let in_fragment = run(
            "query { ...F } fragment F on Query { echo(text: \"\\u001b[31m\") }",
            serde_json::json!({}),
        )
        .await;
        assert_eq!(code(&in_fragment), "BAD_USER_INPUT");
    }

    #[tokio::test]
    async fn errors_async_graphql_raises_carry_a_code() {
        let deep = run(
            "{ nested { nested { nested { nested { echo(text: \"x\") } } } } }",
            serde_json::json!({}),
        )
        .await;
        assert_eq!(deep["errors"][0]["message"], "Query is nested too deep.");
        assert_eq!(code(&deep), "BAD_USER_INPUT");

        let syntax = run("{ echo(text: ", serde_json::json!({})).await;
        assert_eq!(code(&syntax), "BAD_USER_INPUT");

        let unknown = run("{ nothing }", serde_json::json!({})).await;
        assert_eq!(code(&unknown), "BAD_USER_INPUT");

        let internal = run("{ broken }", serde_json::json!({})).await;
        assert_eq!(code(&internal), "INTERNAL");
        assert_eq!(internal["errors"][0]["message"], "internal error");
    }
}
