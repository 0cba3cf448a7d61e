//! The directory snapshot, parsed into validated values, and the rules that
//! say who is managed, with which role and in which teams. The format is
//! documented in the [module doc](super).

use crate::error::Error;
use crate::json_fields::Object;
use crate::role::{parse_role_or_guest, Role};
use crate::validate::{printable, Email, MemberRef};
use crate::validate::{TeamTitle, TitleKey};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

/// Directory group names are matched exactly (after trimming) and kept short.
const MAX_GROUP_LEN: usize = 256;

/// Everyone the directory lists, and the rules mapping them to GitBook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub users: Vec<DirectoryUser>,
    pub rules: Rules,
}

/// One person in the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryUser {
    pub email: Email,
    /// The user's own role, if the snapshot gives one (`Some(None)`: guest).
    pub role: Option<Option<Role>>,
    pub groups: Vec<String>,
}

/// How directory users map to GitBook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    /// Directory group → GitBook team title.
    pub group_teams: BTreeMap<String, TeamTitle>,
    /// Directory group → role (`None`: guest); the highest applicable wins.
    pub group_roles: BTreeMap<String, Option<Role>>,
    /// The role when neither the user nor a group gives one (`None`: guest).
    pub default_role: Option<Role>,
    /// Only users in one of these groups are managed; `None`: every user.
    pub scope: Option<BTreeSet<String>>,
    /// Members (by ID or email) never removed or demoted.
    pub protected: Vec<MemberRef>,
    /// Whether admins may be removed or demoted.
    pub manage_admins: bool,
    /// Whether invites make SSO users.
    pub sso: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            group_teams: BTreeMap::new(),
            group_roles: BTreeMap::new(),
            default_role: Some(Role::Read),
            scope: None,
            protected: Vec::new(),
            manage_admins: false,
            sso: true,
        }
    }
}

impl Snapshot {
    /// Parses a snapshot document. Users are decoded one at a time, straight
    /// from the bytes, so a 100,000-user export never exists as a whole JSON
    /// tree in memory. It accepts what [`parse_value`](Snapshot::parse_value)
    /// accepts, with the same result, except that a top-level field given
    /// twice is refused rather than the last one silently winning; of
    /// several problems, the first met in document order is reported.
    pub fn parse(body: &[u8]) -> Result<Snapshot, Error> {
        let not_json = |e: serde_json::Error| Error::invalid("body", format!("is not valid JSON: {e}"));
        // Anything but an object gets the tree-based path, whose messages
        // say what is wrong with the document as a whole.
        if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            let value: Value = serde_json::from_slice(body).map_err(not_json)?;
            return Snapshot::parse_value(&value);
        }
        let failure = RefCell::new(None);
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        let parsed = TopSeed { failure: &failure }.deserialize(&mut deserializer).and_then(|snapshot| {
            deserializer.end()?;
            Ok(snapshot)
        });
        // A typed error recorded by the visitors wins over serde's stand-in.
        parsed.map_err(|e| failure.into_inner().unwrap_or_else(|| not_json(e)))
    }

    /// Parses an already decoded snapshot document.
    pub fn parse_value(value: &Value) -> Result<Snapshot, Error> {
        let Value::Object(map) = value else {
            return Err(Error::invalid("body", "must be a snapshot object"));
        };
        if let Some(unknown) = map.keys().find(|k| !TOP_FIELDS.contains(&k.as_str())) {
            return Err(unknown_top_field(unknown));
        }
        let top = Object::new("", value, TOP_FIELDS)?;
        let users_value = top.get("users").ok_or_else(missing_users)?;
        if !users_value.is_array() {
            return Err(users_not_a_list());
        }
        let mut users = Users::default();
        for item in top.array("users")? {
            users.push(item)?;
        }
        let rules = match top.get("rules") {
            None => Rules::default(),
            Some(rules) => parse_rules(rules)?,
        };
        Ok(Snapshot { users: users.users, rules })
    }
}

const TOP_FIELDS: &[&str] = &["users", "rules"];

/// A field the format does not have; an empty name is reported against the
/// body, as there is no field to name.
fn unknown_top_field(name: &str) -> Error {
    let expected = TOP_FIELDS.join(", ");
    if name.is_empty() {
        return Error::invalid("body", format!("has a field with an empty name; expected {expected}"));
    }
    Error::invalid(name, format!("is not a known field; expected {expected}"))
}

fn missing_users() -> Error {
    Error::invalid("users", "is required (it may be empty)")
}

fn users_not_a_list() -> Error {
    Error::invalid("users", "must be a list")
}

/// The users read so far, and where each email was first seen.
#[derive(Default)]
struct Users {
    users: Vec<DirectoryUser>,
    seen: HashMap<Email, usize>,
}

impl Users {
    fn push(&mut self, item: &Value) -> Result<(), Error> {
        let i = self.users.len();
        let user = parse_user(&format!("users[{i}]"), item)?;
        if let Some(first) = self.seen.insert(user.email.clone(), i) {
            return Err(Error::invalid(
                format!("users[{i}].email"),
                format!("{} is listed twice: users[{first}] and users[{i}]", user.email),
            ));
        }
        self.users.push(user);
        Ok(())
    }
}

/// The streaming side of [`Snapshot::parse`]: the top-level object, its
/// `users` array element by element, `rules` as a (small) JSON tree. A
/// visitor that finds a problem records the typed error in `failure` and
/// aborts the walk with a placeholder serde error.
#[derive(Clone, Copy)]
struct TopSeed<'f> {
    failure: &'f RefCell<Option<Error>>,
}

impl TopSeed<'_> {
    fn fail<E: de::Error>(&self, error: Error) -> E {
        self.failure.borrow_mut().get_or_insert(error);
        E::custom("invalid snapshot")
    }
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_> {
    type Value = Snapshot;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Snapshot, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_> {
    type Value = Snapshot;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a snapshot object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Snapshot, A::Error> {
        // A null field counts as absent, as everywhere in the format.
        let (mut users, mut rules) = (None, None);
        let mut seen: Vec<String> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                return Err(self.fail(Error::invalid(key, "is given twice; give it once")));
            }
            match key.as_str() {
                "users" => users = map.next_value_seed(UsersSeed(self))?,
                "rules" => {
                    let value: Value = map.next_value()?;
                    if !value.is_null() {
                        rules = Some(parse_rules(&value).map_err(|e| self.fail(e))?);
                    }
                }
                unknown => return Err(self.fail(unknown_top_field(unknown))),
            }
            seen.push(key);
        }
        let users = users.ok_or_else(|| self.fail(missing_users()))?;
        Ok(Snapshot { users, rules: rules.unwrap_or_default() })
    }
}

struct UsersSeed<'f>(TopSeed<'f>);

/// `users`: the list, or `None` for `null`.
impl<'de> DeserializeSeed<'de> for UsersSeed<'_> {
    type Value = Option<Vec<DirectoryUser>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UsersSeed<'_> {
    type Value = Option<Vec<DirectoryUser>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of users")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut users = Users::default();
        // One user's JSON tree at a time: it is dropped once parsed.
        while let Some(item) = seq.next_element::<Value>()? {
            users.push(&item).map_err(|e| self.0.fail(e))?;
        }
        Ok(Some(users.users))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    // Any other JSON value: consumed (so the document is still checked as
    // JSON first), then refused like the tree-based path does.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
        Err(self.0.fail(users_not_a_list()))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(self.0.fail(users_not_a_list()))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(self.0.fail(users_not_a_list()))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(self.0.fail(users_not_a_list()))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(self.0.fail(users_not_a_list()))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(self.0.fail(users_not_a_list()))
    }
}

fn parse_user(path: &str, value: &Value) -> Result<DirectoryUser, Error> {
    let user = Object::new(path, value, &["email", "role", "groups"])?;
    let email = user.string("email")?.ok_or_else(|| Error::invalid(user.field("email"), "is required"))?;
    let email = Email::parse(&user.field("email"), email)?;
    let role = user.string("role")?.map(|r| role(&user.field("role"), r)).transpose()?;
    let mut groups = Vec::new();
    for (path, name) in user.strings("groups")? {
        let name = group(&path, name)?;
        if !groups.contains(&name) {
            groups.push(name);
        }
    }
    Ok(DirectoryUser { email, role, groups })
}

fn parse_rules(value: &Value) -> Result<Rules, Error> {
    let rules = Object::new(
        "rules",
        value,
        &["groupTeams", "groupRoles", "defaultRole", "scope", "protected", "manageAdmins", "sso"],
    )?;
    let defaults = Rules::default();
    let mut group_teams = BTreeMap::new();
    for (path, name, title) in rules.string_map("groupTeams")? {
        group_teams.insert(group(&path, name)?, TeamTitle::parse(&path, title)?);
    }
    let mut group_roles = BTreeMap::new();
    for (path, name, value) in rules.string_map("groupRoles")? {
        group_roles.insert(group(&path, name)?, role(&path, value)?);
    }
    let default_role = match rules.string("defaultRole")? {
        Some(value) => role(&rules.field("defaultRole"), value)?,
        None => defaults.default_role,
    };
    let scope = match rules.get("scope") {
        None => None,
        Some(value) => Some(parse_scope(&rules.field("scope"), value)?),
    };
    let protected = rules
        .strings("protected")?
        .into_iter()
        .map(|(path, value)| MemberRef::parse(&path, value))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Rules {
        group_teams,
        group_roles,
        default_role,
        scope,
        protected,
        manage_admins: rules.bool("manageAdmins")?.unwrap_or(defaults.manage_admins),
        sso: rules.bool("sso")?.unwrap_or(defaults.sso),
    })
}

fn parse_scope(path: &str, value: &Value) -> Result<BTreeSet<String>, Error> {
    let scope = Object::new(path, value, &["groups"])?;
    let groups =
        scope.strings("groups")?.into_iter().map(|(path, name)| group(&path, name)).collect::<Result<_, _>>()?;
    // An empty scope would manage nobody while still removing everyone absent
    // from the snapshot: almost certainly a mistake, so it is refused.
    if BTreeSet::is_empty(&groups) {
        return Err(Error::invalid(
            scope.field("groups"),
            "must list at least one group; omit scope to manage every user",
        ));
    }
    Ok(groups)
}

fn role(path: &str, value: &str) -> Result<Option<Role>, Error> {
    parse_role_or_guest(value).map_err(|m| Error::invalid(path, m))
}

fn group(path: &str, name: &str) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_GROUP_LEN || name.chars().any(char::is_control) {
        return Err(Error::invalid(
            path,
            format!(
                "{} is not a usable group name: 1 to {MAX_GROUP_LEN} characters without control characters",
                printable(name)
            ),
        ));
    }
    Ok(name.to_owned())
}

impl Rules {
    /// Whether the user is managed: in one of the scope's groups, or anyone
    /// when there is no scope.
    pub fn in_scope(&self, user: &DirectoryUser) -> bool {
        self.scope.as_ref().is_none_or(|scope| user.groups.iter().any(|g| scope.contains(g)))
    }

    /// The user's role: the highest of their own and their groups' roles
    /// (guest lowest, admin highest), else the default.
    pub fn role_for(&self, user: &DirectoryUser) -> Option<Role> {
        let from_groups = user.groups.iter().filter_map(|g| self.group_roles.get(g).copied());
        user.role.into_iter().chain(from_groups).max().unwrap_or(self.default_role)
    }

    /// The managed team titles, one per case-insensitive title (the first
    /// spelling by group name), keyed by [`TeamTitle::key`].
    pub fn managed_titles(&self) -> BTreeMap<TitleKey, TeamTitle> {
        let mut titles = BTreeMap::new();
        for title in self.group_teams.values() {
            titles.entry(title.key()).or_insert_with(|| title.clone());
        }
        titles
    }

    /// The managed team titles, as [`read_state`](super::read_state) takes them.
    pub fn team_titles(&self) -> Vec<TeamTitle> {
        self.managed_titles().into_values().collect()
    }

    /// The keys of the managed teams the user belongs in.
    pub(super) fn team_keys_of(&self, user: &DirectoryUser) -> Vec<TitleKey> {
        let mut keys: Vec<TitleKey> = Vec::new();
        for key in user.groups.iter().filter_map(|g| self.group_teams.get(g)).map(TeamTitle::key) {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        keys
    }
}

impl Rules {
    /// Parses a rules document: the `rules` object of the snapshot format
    /// on its own (what a directory source is given beside its settings).
    pub fn parse(body: &[u8]) -> Result<Rules, Error> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| Error::invalid("rules", format!("is not valid JSON: {e}")))?;
        parse_rules(&value)
    }

    /// The rules in the snapshot format, every field written out.
    pub fn to_json(&self) -> Value {
        let mut rules = serde_json::json!({
            "groupTeams": self.group_teams.iter().map(|(g, t)| (g.clone(), Value::from(t.as_str()))).collect::<serde_json::Map<_, _>>(),
            "groupRoles": self.group_roles.iter().map(|(g, r)| (g.clone(), Value::from(crate::role::role_or_guest_name(*r)))).collect::<serde_json::Map<_, _>>(),
            "defaultRole": crate::role::role_or_guest_name(self.default_role),
            "protected": self.protected.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            "manageAdmins": self.manage_admins,
            "sso": self.sso,
        });
        if let Some(scope) = &self.scope {
            rules["scope"] = serde_json::json!({ "groups": scope });
        }
        rules
    }
}

impl Snapshot {
    /// The snapshot in its own format: [`Snapshot::parse`] of the output
    /// gives the same snapshot back. `--dump-snapshot` prints this.
    pub fn to_json(&self) -> Value {
        let users: Vec<Value> = self
            .users
            .iter()
            .map(|u| {
                let mut user = serde_json::json!({ "email": u.email.as_str(), "groups": u.groups });
                if let Some(role) = u.role {
                    user["role"] = Value::from(crate::role::role_or_guest_name(role));
                }
                user
            })
            .collect();
        serde_json::json!({ "users": users, "rules": self.rules.to_json() })
    }
}
