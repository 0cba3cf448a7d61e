//! The discovery endpoints (RFC 7644 §4): `ServiceProviderConfig`,
//! `ResourceTypes` and `Schemas`, fixed documents that say what this
//! service supports, so that a validator or an IdP's gallery check sees the
//! same limits the handlers enforce.

use super::error::ScimError;
use super::list::{list_response, MAX_RESULTS};
use super::patch::MAX_OPERATIONS;
use super::resource::{GROUP_SCHEMA, USER_SCHEMA};
use serde_json::{json, Value};

const CONFIG_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// `GET /ServiceProviderConfig`: PATCH and filters yes (with `maxResults`);
/// bulk, sort, ETags and password changes no; a bearer token.
pub fn service_provider_config() -> Value {
    json!({
        "schemas": [CONFIG_SCHEMA],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": format!("The SCIM_TOKEN configured on the service, as Authorization: Bearer <token>. \
                                    At most {MAX_OPERATIONS} operations per PATCH."),
            "primary": true
        }],
        "meta": {"resourceType": "ServiceProviderConfig"}
    })
}

fn resource_types() -> Vec<Value> {
    vec![
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA], "id": "User", "name": "User", "endpoint": "/Users",
            // No schema extension: enterprise attributes are accepted and not stored.
            "description": "A GitBook organization member", "schema": USER_SCHEMA, "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType"}
        }),
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA], "id": "Group", "name": "Group", "endpoint": "/Groups",
            "description": "A GitBook team", "schema": GROUP_SCHEMA,
            "meta": {"resourceType": "ResourceType"}
        }),
    ]
}

/// One attribute definition.
fn attribute(name: &str, kind: &str, multi: bool, required: bool, mutability: &str, extra: Value) -> Value {
    let mut a = json!({
        "name": name, "type": kind, "multiValued": multi, "required": required, "caseExact": false,
        "mutability": mutability, "returned": "default", "uniqueness": "none"
    });
    if let (Some(a), Some(extra)) = (a.as_object_mut(), extra.as_object()) {
        a.extend(extra.clone());
    }
    a
}

fn schemas() -> Vec<Value> {
    let value = |kind: &str| attribute("value", kind, false, false, "readWrite", json!({}));
    let primary = attribute("primary", "boolean", false, false, "readWrite", json!({}));
    let user = json!({
        "schemas": [SCHEMA_SCHEMA], "id": USER_SCHEMA, "name": "User", "description": "A GitBook organization member",
        "attributes": [
            attribute("userName", "string", false, true, "immutable",
                      json!({"uniqueness": "server", "description": "The member's email address"})),
            attribute("name", "complex", false, false, "readOnly", json!({"subAttributes": [
                attribute("formatted", "string", false, false, "readOnly", json!({})),
                attribute("givenName", "string", false, false, "readOnly", json!({})),
                attribute("familyName", "string", false, false, "readOnly", json!({}))]})),
            attribute("displayName", "string", false, false, "readOnly", json!({})),
            attribute("active", "boolean", false, false, "readWrite", json!({})),
            attribute("emails", "complex", true, false, "immutable", json!({"subAttributes": [
                value("string"), attribute("type", "string", false, false, "readWrite", json!({})), primary.clone()]})),
            attribute("roles", "complex", true, false, "readWrite", json!({
                "description": "The GitBook role: admin, create, edit, review, comment, read or guest",
                "subAttributes": [value("string"), primary]})),
        ],
        "meta": {"resourceType": "Schema"}
    });
    let group = json!({
        "schemas": [SCHEMA_SCHEMA], "id": GROUP_SCHEMA, "name": "Group", "description": "A GitBook team",
        "attributes": [
            attribute("displayName", "string", false, true, "readWrite", json!({"uniqueness": "server"})),
            attribute("members", "complex", true, false, "readWrite", json!({"subAttributes": [
                attribute("value", "string", false, false, "immutable", json!({})),
                attribute("display", "string", false, false, "readOnly", json!({}))]})),
        ],
        "meta": {"resourceType": "Schema"}
    });
    vec![user, group]
}

/// `GET /ResourceTypes` or `GET /ResourceTypes/{name}`.
pub fn resource_type(name: Option<&str>) -> Result<Value, ScimError> {
    one_or_all(resource_types(), name, "resource type")
}

/// `GET /Schemas` or `GET /Schemas/{urn}`.
pub fn schema(id: Option<&str>) -> Result<Value, ScimError> {
    one_or_all(schemas(), id, "schema")
}

fn one_or_all(all: Vec<Value>, id: Option<&str>, what: &str) -> Result<Value, ScimError> {
    match id {
        None => Ok(list_response(all.len() as u64, 1, all)),
        Some(id) => all
            .into_iter()
            .find(|r| r["id"].as_str().is_some_and(|r| r.eq_ignore_ascii_case(id)))
            .ok_or_else(|| ScimError::not_found(format!("no {what} {:?}", id.chars().take(100).collect::<String>()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_advertises_what_the_handlers_enforce() {
        let config = service_provider_config();
        assert_eq!(config["filter"], json!({"supported": true, "maxResults": 1000}));
        for unsupported in ["bulk", "sort", "etag", "changePassword"] {
            assert_eq!(config[unsupported]["supported"], false, "{unsupported}");
        }
        assert_eq!(config["authenticationSchemes"][0]["type"], "oauthbearertoken");
    }

    #[test]
    fn resource_types_and_schemas_list_and_are_found_by_id() {
        assert_eq!(resource_type(None).unwrap()["totalResults"], 2);
        assert_eq!(resource_type(Some("group")).unwrap()["endpoint"], "/Groups");
        // Every schema a resource type names is described under /Schemas.
        for rt in resource_type(None).unwrap()["Resources"].as_array().unwrap() {
            assert!(schema(rt["schema"].as_str()).is_ok(), "{rt}");
            for extension in rt.get("schemaExtensions").and_then(Value::as_array).into_iter().flatten() {
                assert!(schema(extension["schema"].as_str()).is_ok(), "{rt}");
            }
        }
        assert_eq!(schema(Some(USER_SCHEMA)).unwrap()["name"], "User");
        assert_eq!(schema(Some("urn:nope")).unwrap_err().status, 404);
    }
}
