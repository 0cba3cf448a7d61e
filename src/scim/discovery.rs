//! The discovery endpoints (RFC 7644 §4): `ServiceProviderConfig`,
//! `ResourceTypes` and `Schemas`, fixed documents that say what this
//! service supports, so that a validator or an IdP's gallery check sees the
//! same limits the handlers enforce (the tests tie them to the constants).
//!
//! The documents are one JSON text (`discovery.json`), read when asked for:
//! as data they cost the component a fraction of what the same documents
//! built in code would. The User resource type names no schema extension:
//! enterprise attributes are accepted and not stored.

use super::error::ScimError;
use super::list::list_response;
use serde_json::Value;

const DOCUMENTS: &str = include_str!("discovery.json");

fn documents() -> Value {
    serde_json::from_str(DOCUMENTS).expect("discovery.json is valid JSON (tested)")
}

/// `GET /ServiceProviderConfig`: PATCH and filters yes (with `maxResults`);
/// bulk, sort, ETags and password changes no; a bearer token.
pub fn service_provider_config() -> Value {
    documents()["serviceProviderConfig"].take()
}

/// `GET /ResourceTypes` or `GET /ResourceTypes/{name}`.
pub fn resource_type(name: Option<&str>) -> Result<Value, ScimError> {
    one_or_all(documents()["resourceTypes"].take(), name, "resource type")
}

/// `GET /Schemas` or `GET /Schemas/{urn}`.
pub fn schema(id: Option<&str>) -> Result<Value, ScimError> {
    one_or_all(documents()["schemas"].take(), id, "schema")
}

fn one_or_all(all: Value, id: Option<&str>, what: &str) -> Result<Value, ScimError> {
    let Value::Array(all) = all else { unreachable!("discovery.json lists {what}s in an array (tested)") };
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
    use crate::scim::list::MAX_RESULTS;
    use crate::scim::patch::MAX_OPERATIONS;
    use crate::scim::resource::{GROUP_SCHEMA, USER_SCHEMA};
    use serde_json::json;

    #[test]
    fn the_config_advertises_what_the_handlers_enforce() {
        let config = service_provider_config();
        assert_eq!(config["filter"], json!({"supported": true, "maxResults": MAX_RESULTS}));
        assert_eq!(config["patch"]["supported"], true);
        for unsupported in ["bulk", "sort", "etag", "changePassword"] {
            assert_eq!(config[unsupported]["supported"], false, "{unsupported}");
        }
        let scheme = &config["authenticationSchemes"][0];
        assert_eq!(scheme["type"], "oauthbearertoken");
        assert!(scheme["description"].as_str().unwrap().contains(&format!("At most {MAX_OPERATIONS} operations")));
    }

    #[test]
    fn resource_types_and_schemas_list_and_are_found_by_id() {
        assert_eq!(resource_type(None).unwrap()["totalResults"], 2);
        assert_eq!(resource_type(Some("group")).unwrap()["endpoint"], "/Groups");
        assert_eq!(resource_type(Some("User")).unwrap()["schema"], USER_SCHEMA);
        assert_eq!(schema(Some(USER_SCHEMA)).unwrap()["name"], "User");
        assert_eq!(schema(Some(GROUP_SCHEMA)).unwrap()["name"], "Group");
        assert_eq!(schema(Some("urn:nope")).unwrap_err().status, 404);
        // Every schema a resource type names is described under /Schemas.
        for rt in resource_type(None).unwrap()["Resources"].as_array().unwrap() {
            assert!(schema(rt["schema"].as_str()).is_ok(), "{rt}");
            for extension in rt["schemaExtensions"].as_array().into_iter().flatten() {
                assert!(schema(extension["schema"].as_str()).is_ok(), "{rt}");
            }
        }
    }

    #[test]
    fn the_user_schema_describes_what_users_carry() {
        let user = schema(Some(USER_SCHEMA)).unwrap();
        let names: Vec<&str> =
            user["attributes"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["userName", "name", "displayName", "active", "emails", "roles"]);
        assert_eq!(user["attributes"][0]["mutability"], "immutable", "emails cannot change");
    }
}
